"""Independent checker for rosters: every hard rule, recomputed from the problem and the answer.

It shares no code with `matching.rostering` (and must never import it): the city checker reads the
problem through the structural `Protocol`s below, so it accepts the solver's dataclasses or any
other objects with the same fields, and it recomputes the objective terms on its own. A solver bug
therefore shows up as a disagreement instead of being checked by itself.

- `check_roster(problem, assignments)`: the labour co-op's rules (skills, credentials valid at the
  shift start, availability, declines, forbidden categories, no overlap, minimum rest, weekly cap
  per ISO week in the rules' timezone, demand and hard minimum staff).
- `check_nrp(instance, roster)`: the Curtois & Qu benchmark's contract rules and its penalty.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from matching.instances.curtois import DAY_OFF, CurtoisInstance

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from collections.abc import Set as AbstractSet
    from datetime import datetime


class Rule(StrEnum):
    UNKNOWN_ID = "unknown_id"
    DUPLICATE = "duplicate"
    SKILL = "skill"
    CREDENTIAL = "credential"
    AVAILABILITY = "availability"
    DECLINED = "declined"
    CATEGORY = "category"
    OVERLAP = "overlap"
    REST = "rest"
    WEEKLY_CAP = "weekly_cap"
    OVER_DEMAND = "over_demand"
    MIN_STAFF = "min_staff"
    # Curtois & Qu contract rules
    VALID_SHIFT = "valid_shift"
    FIXED = "fixed_assignment"
    MAX_PER_TYPE = "max_shifts_per_type"
    MIN_TOTAL_MINUTES = "min_total_minutes"
    MAX_TOTAL_MINUTES = "max_total_minutes"
    MAX_CONSECUTIVE = "max_consecutive_shifts"
    MIN_CONSECUTIVE = "min_consecutive_shifts"
    MIN_DAYS_OFF = "min_consecutive_days_off"
    MAX_WEEKENDS = "max_weekends"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    worker: str | None
    shift: str | None  # shift id (city) or "day:shift" (benchmark)
    detail: str


# --------------------------------------------------------------------------------------------
# the city roster
# --------------------------------------------------------------------------------------------


class CredentialLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def expires(self) -> datetime | None: ...


class WindowLike(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


class ShiftLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def demand(self) -> int: ...
    @property
    def skills(self) -> AbstractSet[str]: ...
    @property
    def credentials(self) -> AbstractSet[str]: ...
    @property
    def category(self) -> str: ...
    @property
    def place(self) -> tuple[float, float] | None: ...
    @property
    def min_staff(self) -> int: ...


class WorkerLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def skills(self) -> AbstractSet[str]: ...
    @property
    def credentials(self) -> Sequence[CredentialLike]: ...
    @property
    def availability(self) -> Sequence[WindowLike] | None: ...
    @property
    def declined(self) -> AbstractSet[str]: ...
    @property
    def preferences(self) -> Mapping[str, int]: ...
    @property
    def home(self) -> tuple[float, float] | None: ...
    @property
    def travel_cost(self) -> Mapping[str, int]: ...
    @property
    def desired_weekly_hours(self) -> float: ...
    @property
    def max_weekly_hours(self) -> float | None: ...
    @property
    def category(self) -> str: ...


class RulesLike(Protocol):
    @property
    def min_rest_hours(self) -> float: ...
    @property
    def max_weekly_hours(self) -> float: ...
    @property
    def forbidden_categories(self) -> Mapping[str, AbstractSet[str]]: ...
    @property
    def timezone(self) -> str: ...


class ProblemLike(Protocol):
    @property
    def shifts(self) -> Sequence[ShiftLike]: ...
    @property
    def workers(self) -> Sequence[WorkerLike]: ...
    @property
    def rules(self) -> RulesLike: ...


class AssignmentLike(Protocol):
    @property
    def worker_id(self) -> str: ...
    @property
    def shift_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RosterReport:
    violations: tuple[Violation, ...]
    unfilled: int
    max_shortfall_permille: int
    total_shortfall_permille: int
    travel: int
    preference: int
    minutes: Mapping[str, int]

    @property
    def ok(self) -> bool:
        return not self.violations

    def rules_broken(self) -> set[Rule]:
        return {v.rule for v in self.violations}


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _travel(worker: WorkerLike, shift: ShiftLike) -> int:
    if shift.id in worker.travel_cost:
        return worker.travel_cost[shift.id]
    if worker.home is None or shift.place is None:
        return 0
    return round(_distance_m(worker.home, shift.place) / 100)


def _cap_minutes(worker: WorkerLike, rules: RulesLike) -> int:
    hours = (
        worker.max_weekly_hours if worker.max_weekly_hours is not None else rules.max_weekly_hours
    )
    return round(hours * 60)


def _may_work(worker: WorkerLike, shift: ShiftLike, rules: RulesLike) -> list[tuple[Rule, str]]:
    """Every single-pair rule worker x shift breaks (empty: allowed)."""
    out: list[tuple[Rule, str]] = []
    missing = set(shift.skills) - set(worker.skills)
    if missing:
        out.append((Rule.SKILL, f"lacks skill(s) {sorted(missing)}"))
    for need in sorted(shift.credentials):
        held = [c for c in worker.credentials if c.name == need]
        if not held:
            out.append((Rule.CREDENTIAL, f"does not hold {need!r}"))
        elif not any(c.expires is None or c.expires > shift.start for c in held):
            out.append((Rule.CREDENTIAL, f"{need!r} expired by the shift start"))
    if worker.availability is not None and not any(
        w.start <= shift.start and shift.end <= w.end for w in worker.availability
    ):
        out.append((Rule.AVAILABILITY, "shift not inside any availability window"))
    if shift.id in worker.declined:
        out.append((Rule.DECLINED, "worker declined this shift"))
    if shift.category in rules.forbidden_categories.get(worker.category, set()):
        out.append((Rule.CATEGORY, f"{shift.category!r} forbidden for {worker.category!r}"))
    return out


def check_roster(problem: ProblemLike, assignments: Sequence[AssignmentLike]) -> RosterReport:
    """Every violated hard rule of `assignments`, plus the recomputed objective terms."""
    rules = problem.rules
    tz = ZoneInfo(rules.timezone)
    shifts = {s.id: s for s in problem.shifts}
    workers = {w.id: w for w in problem.workers}
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    by_worker: dict[str, list[ShiftLike]] = defaultdict(list)
    count: Counter[str] = Counter()
    for a in assignments:
        if a.worker_id not in workers or a.shift_id not in shifts:
            out.append(
                Violation(Rule.UNKNOWN_ID, a.worker_id, a.shift_id, "unknown worker or shift")
            )
            continue
        if (a.worker_id, a.shift_id) in seen:
            out.append(Violation(Rule.DUPLICATE, a.worker_id, a.shift_id, "assigned twice"))
            continue
        seen.add((a.worker_id, a.shift_id))
        w, s = workers[a.worker_id], shifts[a.shift_id]
        out.extend(Violation(rule, w.id, s.id, text) for rule, text in _may_work(w, s, rules))
        by_worker[w.id].append(s)
        count[s.id] += 1

    for s in problem.shifts:
        if count[s.id] > s.demand:
            out.append(
                Violation(Rule.OVER_DEMAND, None, s.id, f"{count[s.id]} > demand {s.demand}")
            )
        if count[s.id] < s.min_staff:
            text = f"{count[s.id]} < hard minimum {s.min_staff}"
            out.append(Violation(Rule.MIN_STAFF, None, s.id, text))

    rest = rules.min_rest_hours * 60
    minutes: dict[str, int] = {w.id: 0 for w in problem.workers}
    for wid, mine in by_worker.items():
        mine.sort(key=lambda s: (s.start, s.end))
        for i, a_shift in enumerate(mine):
            for b_shift in mine[i + 1 :]:
                if b_shift.start < a_shift.end:
                    text = f"{a_shift.id} and {b_shift.id} overlap"
                    out.append(Violation(Rule.OVERLAP, wid, b_shift.id, text))
                elif _minutes(a_shift.end, b_shift.start) < rest:
                    gap = _minutes(a_shift.end, b_shift.start)
                    text = f"only {gap:.0f} min rest after {a_shift.id}"
                    out.append(Violation(Rule.REST, wid, b_shift.id, text))
        per_week: Counter[tuple[int, int]] = Counter()
        for s in mine:
            iso = s.start.astimezone(tz).isocalendar()
            per_week[(iso[0], iso[1])] += round(_minutes(s.start, s.end))
        cap = _cap_minutes(workers[wid], rules)
        for (year, wk), total in sorted(per_week.items()):
            if total > cap:
                text = f"{total} min in {year}-W{wk:02d} > cap {cap}"
                out.append(Violation(Rule.WEEKLY_CAP, wid, None, text))
        minutes[wid] = sum(round(_minutes(s.start, s.end)) for s in mine)

    # Recomputed objective terms (same definitions as the solver's docs, computed afresh).
    weeks = {
        (iso[0], iso[1]) for iso in (s.start.astimezone(tz).isocalendar() for s in problem.shifts)
    }
    shortfalls: list[int] = []
    for w in problem.workers:
        cap = _cap_minutes(w, rules)
        want = min(round(w.desired_weekly_hours * 60), cap) * len(weeks)
        possible = sum(
            round(_minutes(s.start, s.end))
            for s in problem.shifts
            if not _may_work(w, s, rules) and _minutes(s.start, s.end) <= cap
        )
        want = min(want, possible)
        if want > 0:
            shortfalls.append(math.ceil(max(0, 1000 * (want - minutes[w.id])) / want))
    pairs = [(workers[wid], shifts[sid]) for wid, sid in seen]
    return RosterReport(
        violations=tuple(out),
        unfilled=sum(max(0, s.demand - count[s.id]) for s in problem.shifts),
        max_shortfall_permille=max(shortfalls, default=0),
        total_shortfall_permille=sum(shortfalls),
        travel=sum(_travel(w, s) for w, s in pairs),
        preference=sum(w.preferences.get(s.id, 0) for w, s in pairs),
        minutes=minutes,
    )


# --------------------------------------------------------------------------------------------
# the Curtois & Qu benchmark roster
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NrpReport:
    violations: tuple[Violation, ...]
    on_requests: int
    off_requests: int
    cover_under: int
    cover_over: int

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def penalty(self) -> int:
        return self.on_requests + self.off_requests + self.cover_under + self.cover_over

    def rules_broken(self) -> set[Rule]:
        return {v.rule for v in self.violations}


def _runs(worked: Sequence[bool], value: bool) -> list[tuple[int, int]]:
    """(start, length) of each maximal block of `value` days."""
    runs: list[tuple[int, int]] = []
    d = 0
    while d < len(worked):
        if worked[d] == value:
            e = d
            while e < len(worked) and worked[e] == value:
                e += 1
            runs.append((d, e - d))
            d = e
        else:
            d += 1
    return runs


def check_nrp(instance: CurtoisInstance, roster: Mapping[tuple[str, int], str]) -> NrpReport:
    """Every broken contract rule of `roster` ((employee, day) -> shift type) and its penalty."""
    n = instance.num_days
    types = {t.id: t for t in instance.shift_types}
    emps = {e.id: e for e in instance.employees}
    out: list[Violation] = []
    clean: dict[tuple[str, int], str] = {}
    for (emp, day), shift in roster.items():
        if emp not in emps or not 0 <= day < n or shift not in types:
            out.append(Violation(Rule.UNKNOWN_ID, emp, f"{day}:{shift}", "unknown id or day"))
        else:
            clean[(emp, day)] = shift
    for fa in instance.fixed:
        got = clean.get((fa.employee, fa.day), DAY_OFF)
        if got != fa.shift:
            text = f"fixed {fa.shift!r} on day {fa.day}, got {got!r}"
            out.append(Violation(Rule.FIXED, fa.employee, f"{fa.day}:{got}", text))

    for e in instance.employees:
        c = e.contract
        mine = sorted((d, s) for (emp, d), s in clean.items() if emp == e.id)
        worked = [False] * n
        for d, s in mine:
            worked[d] = True
            if c.valid_shifts is not None and s not in c.valid_shifts:
                out.append(Violation(Rule.VALID_SHIFT, e.id, f"{d}:{s}", "shift not in contract"))
        per_type = Counter(s for _, s in mine)
        for t, cap in c.max_shifts_per_type.items():
            if per_type[t] > cap:
                out.append(Violation(Rule.MAX_PER_TYPE, e.id, t, f"{per_type[t]} > {cap}"))
        total = sum(types[s].duration for _, s in mine)
        if c.min_total_minutes is not None and total < c.min_total_minutes:
            text = f"{total} < {c.min_total_minutes}"
            out.append(Violation(Rule.MIN_TOTAL_MINUTES, e.id, None, text))
        if c.max_total_minutes is not None and total > c.max_total_minutes:
            text = f"{total} > {c.max_total_minutes}"
            out.append(Violation(Rule.MAX_TOTAL_MINUTES, e.id, None, text))
        for start, length in _runs(worked, True):
            inside = start > 0 and start + length < n
            if c.max_consecutive_shifts is not None and length > c.max_consecutive_shifts:
                text = f"{length} days from day {start}"
                out.append(Violation(Rule.MAX_CONSECUTIVE, e.id, None, text))
            if inside and c.min_consecutive_shifts and length < c.min_consecutive_shifts:
                text = f"{length} days from day {start}"
                out.append(Violation(Rule.MIN_CONSECUTIVE, e.id, None, text))
        for start, length in _runs(worked, False):
            inside = start > 0 and start + length < n
            if inside and c.min_consecutive_days_off and length < c.min_consecutive_days_off:
                text = f"{length} days off from day {start}"
                out.append(Violation(Rule.MIN_DAYS_OFF, e.id, None, text))
        if c.max_weekends is not None:
            first = instance.start_date.weekday()
            weekends = {(first + d) // 7 for d in range(n) if worked[d] and (first + d) % 7 >= 5}
            if len(weekends) > c.max_weekends:
                text = f"{len(weekends)} > {c.max_weekends}"
                out.append(Violation(Rule.MAX_WEEKENDS, e.id, None, text))
        for (d1, s1), (d2, s2) in itertools.pairwise(mine):
            end1 = d1 * 1440 + types[s1].start_minute + types[s1].duration
            gap = d2 * 1440 + types[s2].start_minute - end1
            if gap < c.min_rest_minutes:
                rule = Rule.OVERLAP if gap < 0 else Rule.REST
                text = f"{gap} min after {s1} on day {d1}"
                out.append(Violation(rule, e.id, f"{d2}:{s2}", text))

    on = sum(r.weight for r in instance.on_requests if clean.get((r.employee, r.day)) != r.shift)
    off = sum(r.weight for r in instance.off_requests if clean.get((r.employee, r.day)) == r.shift)
    cover_count = Counter((d, s) for (_, d), s in clean.items())
    under = over = 0
    for cov in instance.cover:
        k = cover_count[(cov.day, cov.shift)]
        if cov.min is not None:
            under += cov.min_weight * max(0, cov.min - k)
        if cov.max is not None:
            over += cov.max_weight * max(0, k - cov.max)
    return NrpReport(tuple(out), on, off, under, over)
