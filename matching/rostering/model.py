"""CP-SAT rostering for the labour co-op: who works which shift.

Hard rules (never broken): a worker holds every skill a shift needs and every credential, valid
(not expired) at the shift's start; the shift lies inside one of the worker's availability windows
(no windows given = always available); a worker who declined a shift is never given it; the board
can forbid shift categories for worker categories (e.g. no nights for apprentices); no two shifts
of a worker overlap and there are at least `min_rest_hours` between the end of one and the start
of the next; a worker's minutes in one ISO week (Monday to Sunday, in `Rules.timezone`, each shift
counted whole in the week it starts) stay within the weekly cap; a shift's hard `min_staff` is met.

Soft goals, strictly lexicographic (each solved to the end, or to its share of the time, then
frozen as a bound for the next; on large rosters each stage is a short CP-SAT solve of the whole
model followed by a large-neighbourhood search, see `_lns`):
1. coverage: the fewest unfilled seats (`demand` minus workers assigned, summed over shifts);
2. fairness among workers who want hours: the smallest maximum shortfall from desired hours, in
   per mille of the hours wanted, then the smallest sum of shortfalls plus excesses (hours
   beyond the wish, also per mille), so nobody is loaded far past their wish while others are
   short;
3. travel and preferences: travel cost minus preference scores of the chosen pairs.

Desired hours are weekly; over a horizon touching k ISO weeks a worker wants k times that, capped
by the weekly cap and by the minutes of shifts they could work at all (so someone nobody can use
does not pin the maximum shortfall at 100 %).

Two limit modes (see `_cpsat.Budget`):
- wall clock (default, `time_limit_s` only): each CP-SAT solve, each stage's share and the LNS
  loops stop on the clock. The answer depends on the machine's speed and load, so two runs of a
  large roster can differ even with one worker and the same seed.
- deterministic work (`work_limit`, in CP-SAT deterministic-time units): the same decisions are
  taken on the deterministic time CP-SAT reports for each solve (plus a fixed charge per LNS
  step), so with `num_workers=1` and the same seed two runs return the same assignments and
  objective. A limit-stopped answer is FEASIBLE (not TIMED_OUT). `time_limit_s` stays a safety
  cap: if it fires first, the result says so (`wall_capped`, status TIMED_OUT) and that run is
  not reproducible. With more than one worker CP-SAT itself is not deterministic, whatever the
  mode.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ortools.sat.python import cp_model

from matching.rostering._cpsat import Budget, found_solution, rest_cliques, status_of
from matching.status import InvalidProblem, SolveStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ortools.sat.python.cp_model import IntVar

PERMILLE = 1000


def _empty_map() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Credential:
    name: str
    expires: datetime | None = None  # aware; expired at the shift start (<= start) = not held


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    id: str
    start: datetime  # aware
    end: datetime  # aware, after start
    demand: int = 1  # workers wanted (soft, tier 1)
    skills: frozenset[str] = frozenset()
    credentials: frozenset[str] = frozenset()
    category: str = "day"
    place: tuple[float, float] | None = None  # (lat, lon)
    min_staff: int = 0  # hard minimum of workers (e.g. legal staffing); 0 = none


@dataclass(frozen=True, slots=True)
class Worker:
    id: str
    skills: frozenset[str] = frozenset()
    credentials: tuple[Credential, ...] = ()
    availability: tuple[Window, ...] | None = None  # None: always available
    declined: frozenset[str] = frozenset()  # shift ids; unknown ids are ignored
    preferences: Mapping[str, int] = field(default_factory=_empty_map)  # shift id -> score
    home: tuple[float, float] | None = None  # (lat, lon)
    travel_cost: Mapping[str, int] = field(default_factory=_empty_map)  # shift id -> cost
    desired_weekly_hours: float = 0.0
    max_weekly_hours: float | None = None  # None: Rules.max_weekly_hours
    category: str = "member"


@dataclass(frozen=True, slots=True)
class Rules:
    min_rest_hours: float = 11.0
    max_weekly_hours: float = 40.0
    forbidden_categories: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType({})
    )  # worker category -> shift categories it may not work
    timezone: str = "UTC"  # ISO weeks are counted in this zone


@dataclass(frozen=True, slots=True)
class RosterProblem:
    shifts: tuple[Shift, ...]
    workers: tuple[Worker, ...]
    rules: Rules = Rules()
    skills: frozenset[str] | None = None  # the catalogue; None: no unknown-reference check
    credentials: frozenset[str] | None = None


@dataclass(frozen=True, slots=True, order=True)
class Assignment:
    worker_id: str
    shift_id: str


@dataclass(frozen=True, slots=True)
class Unfilled:
    shift_id: str
    missing: int
    reason: str


@dataclass(frozen=True, slots=True)
class RosterObjective:
    unfilled: int  # tier 1: seats of demand left empty
    max_shortfall_permille: int  # tier 2
    total_shortfall_permille: int  # tier 2 tie-break
    travel: int  # tier 3
    preference: int  # tier 3: sum of preference scores of the assignments (higher is better)


@dataclass(frozen=True, slots=True)
class RosterResult:
    status: SolveStatus
    assignments: tuple[Assignment, ...]
    objective: RosterObjective | None
    unfilled: tuple[Unfilled, ...]
    minutes: Mapping[str, int]  # worker id -> minutes assigned
    stages: tuple[tuple[str, SolveStatus], ...]
    pairs_considered: int  # eligible (worker, shift) pairs after pruning
    wall_time_s: float
    work_done: float = 0.0  # CP-SAT deterministic time spent (+ LNS charges in work mode)
    # Work mode only: the wall-clock cap stopped a solve, so this answer is not reproducible.
    wall_capped: bool = False


# --------------------------------------------------------------------------------------------
# data: validation, eligibility (pruning) and the derived numbers
# --------------------------------------------------------------------------------------------


def _aware(dt: datetime, what: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidProblem(f"{what}: datetime must be timezone-aware")


def validate(problem: RosterProblem) -> None:
    """Raise `InvalidProblem` naming the first item that breaks a rule."""
    seen: set[str] = set()
    for s in problem.shifts:
        if s.id in seen:
            raise InvalidProblem(f"shift {s.id!r}: duplicate id")
        seen.add(s.id)
        _aware(s.start, f"shift {s.id!r} start")
        _aware(s.end, f"shift {s.id!r} end")
        if s.end <= s.start:
            raise InvalidProblem(f"shift {s.id!r}: ends at {s.end} not after its start {s.start}")
        if s.demand < 0:
            raise InvalidProblem(f"shift {s.id!r}: negative demand {s.demand}")
        if not 0 <= s.min_staff <= s.demand:
            raise InvalidProblem(f"shift {s.id!r}: min_staff {s.min_staff} not in 0..demand")
        if problem.skills is not None and not s.skills <= problem.skills:
            raise InvalidProblem(
                f"shift {s.id!r}: unknown skill(s) {sorted(s.skills - problem.skills)}"
            )
        if problem.credentials is not None and not s.credentials <= problem.credentials:
            unknown = sorted(s.credentials - problem.credentials)
            raise InvalidProblem(f"shift {s.id!r}: unknown credential(s) {unknown}")
    seen = set()
    for w in problem.workers:
        if w.id in seen:
            raise InvalidProblem(f"worker {w.id!r}: duplicate id")
        seen.add(w.id)
        # (`not x >= 0` also refuses NaN, which every comparison would let through)
        if w.max_weekly_hours is not None and not _finite_non_negative(w.max_weekly_hours):
            raise InvalidProblem(
                f"worker {w.id!r}: weekly hours cap {w.max_weekly_hours} must be finite and >= 0"
            )
        if not _finite_non_negative(w.desired_weekly_hours):
            raise InvalidProblem(
                f"worker {w.id!r}: desired hours {w.desired_weekly_hours} must be finite and >= 0"
            )
        if problem.skills is not None and not w.skills <= problem.skills:
            raise InvalidProblem(
                f"worker {w.id!r}: unknown skill(s) {sorted(w.skills - problem.skills)}"
            )
        for c in w.credentials:
            if problem.credentials is not None and c.name not in problem.credentials:
                raise InvalidProblem(f"worker {w.id!r}: unknown credential {c.name!r}")
            if c.expires is not None:
                _aware(c.expires, f"worker {w.id!r} credential {c.name!r} expiry")
        for win in w.availability or ():
            _aware(win.start, f"worker {w.id!r} availability")
            _aware(win.end, f"worker {w.id!r} availability")
            if win.end <= win.start:
                raise InvalidProblem(f"worker {w.id!r}: availability window ends before it starts")
        if any(v < 0 for v in w.travel_cost.values()):
            raise InvalidProblem(f"worker {w.id!r}: negative travel cost")
    r = problem.rules
    if not _finite_non_negative(r.min_rest_hours):
        raise InvalidProblem(f"rules: min_rest_hours {r.min_rest_hours} must be finite and >= 0")
    if not _finite_non_negative(r.max_weekly_hours):
        raise InvalidProblem(
            f"rules: max_weekly_hours {r.max_weekly_hours} must be finite and >= 0"
        )
    try:
        ZoneInfo(r.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidProblem(f"rules: unknown timezone {r.timezone!r}") from None


def _finite_non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def travel_cost(worker: Worker, shift: Shift) -> int:
    """Explicit cost if given, else straight-line distance home -> place in 100 m steps, else 0."""
    if shift.id in worker.travel_cost:
        return worker.travel_cost[shift.id]
    if worker.home is not None and shift.place is not None:
        return round(_haversine_m(worker.home, shift.place) / 100)
    return 0


def _blocker(problem: RosterProblem, w: Worker, s: Shift, cap_minutes: int) -> str | None:
    """The first hard rule that forbids worker w on shift s on its own, or None."""
    if not s.skills <= w.skills:
        return "skill"
    valid = {c.name for c in w.credentials if c.expires is None or c.expires > s.start}
    if not s.credentials <= valid:
        return "credential"
    if w.availability is not None and not any(
        win.start <= s.start and s.end <= win.end for win in w.availability
    ):
        return "availability"
    if s.id in w.declined:
        return "declined"
    if s.category in problem.rules.forbidden_categories.get(w.category, frozenset()):
        return "category"
    if (s.end - s.start).total_seconds() / 60 > cap_minutes:
        return "too_long"
    return None


def _reason(problem: RosterProblem, shift: Shift, blockers: Counter[str], eligible: int) -> str:
    n = len(problem.workers)
    if blockers["skill"] == n:
        return f"no worker has the skills {sorted(shift.skills)}"
    passed = n - blockers["skill"]
    for key, text in (
        ("credential", f"no skilled worker holds {sorted(shift.credentials)} valid at the start"),
        ("availability", "no qualified worker is available for the whole shift"),
        ("declined", "every qualified, available worker declined this shift"),
        ("category", f"shift category {shift.category!r} is forbidden for the remaining workers"),
        ("too_long", "the shift is longer than the weekly-hour cap of the remaining workers"),
    ):
        if blockers[key] == passed:
            return text
        passed -= blockers[key]
    if eligible < shift.demand:
        return f"only {eligible} eligible worker(s) for a demand of {shift.demand}"
    return "eligible workers are taken by overlapping shifts, rest time or the weekly-hour cap"


# --------------------------------------------------------------------------------------------
# model, solve, interpret
# --------------------------------------------------------------------------------------------


def _greedy(
    eligible: Mapping[int, list[int]],
    start: list[int],
    end: list[int],
    dur: list[int],
    week: list[tuple[int, int]],
    cap: list[int],
    rest: int,
    shifts: tuple[Shift, ...],
    target: Mapping[int, int],
    *,
    fair: bool = True,
) -> set[tuple[int, int]]:
    """A legal first solution to hint the first stage: seats in start order, each to the eligible
    worker furthest from their desired hours who has no clash, rest or cap problem."""
    by_shift: dict[int, list[int]] = defaultdict(list)
    for wi, sis in eligible.items():
        for si in sis:
            by_shift[si].append(wi)
    taken: dict[int, list[int]] = defaultdict(list)
    used: Counter[tuple[int, tuple[int, int]]] = Counter()
    got: Counter[int] = Counter()
    chosen: set[tuple[int, int]] = set()
    for si in sorted(by_shift, key=lambda i: (start[i], i)):
        seats = shifts[si].demand
        ranked = sorted(by_shift[si], key=lambda wi: (got[wi] - target.get(wi, 0), wi))
        if not fair:
            ranked = sorted(by_shift[si])
        for wi in ranked:
            if seats == 0:
                break
            if used[(wi, week[si])] + dur[si] > cap[wi]:
                continue
            if any(start[si] < end[o] + rest and start[o] < end[si] + rest for o in taken[wi]):
                continue
            taken[wi].append(si)
            used[(wi, week[si])] += dur[si]
            got[wi] += dur[si]
            chosen.add((wi, si))
            seats -= 1
    return chosen


FULL_SHARE = 0.3  # of a stage's time for CP-SAT on the whole model when the roster is large
LNS_MIN_PAIRS = 5_000  # below this CP-SAT gets each whole stage (small rosters solve exactly)
LNS_STEP_S = 2.0  # limit of one LNS sub-solve (in work mode: `Budget.units` of it)
# Python time of one LNS step outside CP-SAT (clone, fix, read back) per 10^5 pairs; in work
# mode it is charged as work so a step costs about what it costs on the clock.
LNS_STEP_OVERHEAD_S = 0.25  # measured: ~0.28 s a step at 110k pairs (city week)
FOCUS = 8  # workers at each end of the fill ratio freed first in every LNS step


def _lns(
    model: cp_model.CpModel,
    x: Mapping[tuple[int, int], IntVar],
    chosen: set[tuple[int, int]],
    value: int,
    budget: Budget,
    until: float,
    seed: int,
    num_workers: int,
    focus: Callable[[set[tuple[int, int]]], list[int]],
) -> tuple[set[tuple[int, int]], int]:
    """Improve `chosen` for the model's current objective by re-solving parts of it.

    Why: on a city week (10^5 pairs, two workers) CP-SAT's own search made no progress from
    the greedy hint in 10 s per stage; its generic neighbourhoods are too large or too random.
    Each step here frees every pair of either a random day's shifts or a random set of workers
    (the moves that fill a seat or shift hours between two workers), fixes all other pairs to
    the current roster and solves that sub-model for a second or two from the current roster.
    A step never makes the roster worse (the current roster is a solution of every sub-model).
    `focus` names workers to free first (the worst shortfalls and excesses): a random set
    would rarely contain the one worker the fairness objective is stuck on.
    The loop runs until `budget.now()` reaches `until` (seconds or work units, see `Budget`);
    in work mode each step is also charged `LNS_STEP_OVERHEAD_S` per 10^5 pairs (as work).
    """
    rng = random.Random(seed)  # noqa: S311 - search diversification, not security
    keys = list(x)
    lit_index = [x[key].index for key in keys]
    by_worker: dict[int, list[int]] = defaultdict(list)
    for i, (wi, _) in enumerate(keys):
        by_worker[wi].append(i)
    workers = sorted(by_worker)
    step = 0
    n_free = 0.0  # adaptive: share of the pairs freed
    step_charge = budget.units(LNS_STEP_OVERHEAD_S * len(keys) / 100_000)
    while True:
        left = min(until - budget.now(), budget.left())
        if left < budget.units(0.5):  # cloning and loading the sub-model takes a few tenths
            break
        step += 1
        budget.charge(step_charge)
        free: set[int] = set()
        target = max(2_000, int(len(keys) * (0.08 + n_free)))
        first = focus(chosen)
        for wi in [*first, *rng.sample(workers, len(workers))]:
            if len(free) >= target:
                break
            free.update(by_worker[wi])
        sub = model.clone()
        sub.clear_hints()  # type: ignore[no-untyped-call]
        proto = sub.proto
        for i, key in enumerate(keys):
            on = key in chosen
            if i in free:
                sub.add_hint(x[key], on)
            else:
                dom = proto.variables[lit_index[i]].domain
                dom[0] = dom[1] = 1 if on else 0
        solver = budget.solver(min(budget.units(LNS_STEP_S), left), seed + step, num_workers)
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        code = budget.solve(solver, sub)
        if found_solution(code) and round(solver.objective_value) <= value:
            value = round(solver.objective_value)
            chosen = {keys[i] for i in free if solver.boolean_value(x[keys[i]])} | {
                key for i, key in enumerate(keys) if i not in free and key in chosen
            }
        n_free = min(n_free + 0.02, 0.3) if code == cp_model.OPTIMAL else max(n_free - 0.02, 0.0)
    return chosen, value


def solve_roster(
    problem: RosterProblem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    num_workers: int = 8,
    hint: tuple[Assignment, ...] = (),
    work_limit: float | None = None,
) -> RosterResult:
    """Roster `problem` (see the module doc for rules, objective order and the two limit modes).

    `work_limit` (CP-SAT deterministic-time units) switches every stop and share from the wall
    clock to deterministic work; `time_limit_s` then only caps the wall time.
    """
    # Leave a little of the limit for reading the answer back (a few tenths of a second at 10^5
    # pairs), so the whole call stays within `time_limit_s`.
    budget = Budget(time_limit_s, work_limit, reserve_s=min(0.8, 0.03 * time_limit_s))
    validate(problem)
    rules = problem.rules

    # --- data -------------------------------------------------------------------------------
    shifts, workers = problem.shifts, problem.workers
    origin = min((s.start for s in shifts), default=datetime.now().astimezone())
    tz = ZoneInfo(rules.timezone)

    def minute(dt: datetime) -> int:
        return int((dt - origin).total_seconds() // 60)

    start = [minute(s.start) for s in shifts]
    end = [minute(s.end) for s in shifts]
    dur = [e - b for b, e in zip(start, end, strict=True)]
    week = [s.start.astimezone(tz).isocalendar()[:2] for s in shifts]
    n_weeks = len(set(week))
    rest = round(rules.min_rest_hours * 60)
    cap = [
        round(
            (w.max_weekly_hours if w.max_weekly_hours is not None else rules.max_weekly_hours) * 60
        )
        for w in workers
    ]
    # Prune impossible pairs before building variables: an index by skill first, then the rest
    # of the single-pair rules on the survivors.
    eligible: dict[int, list[int]] = defaultdict(list)  # worker -> shifts
    blockers: list[Counter[str]] = [Counter() for _ in shifts]
    n_eligible = [0] * len(shifts)
    with_skill: dict[str, set[int]] = defaultdict(set)
    for wi, w in enumerate(workers):
        for skill in w.skills:
            with_skill[skill].add(wi)
    everyone = set(range(len(workers)))
    for si, s in enumerate(shifts):
        candidates = set(everyone)
        for skill in s.skills:
            candidates &= with_skill[skill]
        blockers[si]["skill"] = len(workers) - len(candidates)
        for wi in sorted(candidates):
            why = _blocker(problem, workers[wi], s, cap[wi])
            if why is None:
                eligible[wi].append(si)
                n_eligible[si] += 1
            else:
                blockers[si][why] += 1
    target: dict[int, int] = {}  # worker -> desired minutes over the horizon (fairness set)
    for wi, w in enumerate(workers):
        want = min(round(w.desired_weekly_hours * 60), cap[wi]) * n_weeks
        want = min(want, sum(dur[si] for si in eligible[wi]))
        if want > 0:
            target[wi] = want

    # --- model and variables ----------------------------------------------------------------
    # Built with unnamed variables and LinearExpr.sum / weighted_sum: at 10^5 pairs the named
    # variables and Python `sum` chains were most of the ~4 s spent before CP-SAT started.
    model = cp_model.CpModel()
    x: dict[tuple[int, int], IntVar] = {}
    staff: list[list[IntVar]] = [[] for _ in shifts]
    for wi, sis in eligible.items():
        for si in sis:
            v = model.new_bool_var("")
            x[(wi, si)] = v
            staff[si].append(v)
    LinearExpr = cp_model.LinearExpr

    # --- constraints ------------------------------------------------------------------------
    for si, s in enumerate(shifts):
        if len(staff[si]) > s.demand:
            if s.demand == 1:
                model.add_at_most_one(staff[si])
            else:
                model.add(LinearExpr.sum(staff[si]) <= s.demand)
        if s.min_staff:
            model.add(LinearExpr.sum(staff[si]) >= s.min_staff)
    minutes_of: dict[int, cp_model.LinearExprT] = {}
    for wi, sis in eligible.items():
        lits = [x[(wi, si)] for si in sis]
        for clique in rest_cliques([(start[si], end[si]) for si in sis], rest):
            model.add_at_most_one(lits[i] for i in clique)
        by_week: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, si in enumerate(sis):
            by_week[week[si]].append(i)
        for group in by_week.values():
            if sum(dur[sis[i]] for i in group) > cap[wi]:
                model.add(
                    LinearExpr.weighted_sum([lits[i] for i in group], [dur[sis[i]] for i in group])
                    <= cap[wi]
                )
        minutes_of[wi] = LinearExpr.weighted_sum(lits, [dur[si] for si in sis])

    # --- objectives (one per lexicographic tier) --------------------------------------------
    unfilled = sum(s.demand for s in shifts) - LinearExpr.sum(list(x.values()))
    # Fairness among workers who want hours: the worst shortfall first, then the sum of
    # shortfalls plus the sum of excesses (hours beyond the wish), all in per mille of the wish.
    # The excess term is what stops one worker getting three times their hours while another
    # is short: moving a seat from the first to the second lowers both sums.
    shortfall: list[IntVar] = []
    excess: list[IntVar] = []
    for wi, want in target.items():
        sf = model.new_int_var(0, PERMILLE, "")
        model.add(want * sf >= PERMILLE * want - PERMILLE * minutes_of[wi])
        shortfall.append(sf)
        top = max(0, PERMILLE * (sum(dur[si] for si in eligible[wi]) - want) // want + 1)
        ex = model.new_int_var(0, top, "")
        model.add(want * ex >= PERMILLE * minutes_of[wi] - PERMILLE * want)
        excess.append(ex)
    fairness: cp_model.LinearExprT = 0
    worst = model.new_int_var(0, PERMILLE, "max_shortfall")
    if shortfall:
        model.add_max_equality(worst, shortfall)
        fairness = (
            (len(shortfall) * PERMILLE + 1) * worst
            + LinearExpr.sum(shortfall)
            + LinearExpr.sum(excess)
        )
    cost = {
        (wi, si): travel_cost(workers[wi], shifts[si])
        - workers[wi].preferences.get(shifts[si].id, 0)
        for (wi, si) in x
    }
    paid = [(k, c) for k, c in cost.items() if c]
    tier3 = LinearExpr.weighted_sum([x[k] for k, _ in paid], [c for _, c in paid])
    tiers: list[tuple[str, cp_model.LinearExprT]] = [("coverage", unfilled)]
    if shortfall:
        tiers.append(("fairness", fairness))
    if paid:
        tiers.append(("travel_preferences", tier3))

    # --- solve: one tier at a time, each frozen as a bound for the next ---------------------
    w_index = {w.id: i for i, w in enumerate(workers)}
    s_index = {s.id: i for i, s in enumerate(shifts)}
    chosen: set[tuple[int, int]] | None = {
        (w_index[a.worker_id], s_index[a.shift_id])
        for a in hint
        if a.worker_id in w_index and a.shift_id in s_index
    }
    if not chosen:
        # Two legal first solutions; the hint is the one that fills more seats.
        args = (eligible, start, end, dur, week, cap, rest, shifts, target)
        chosen = max(_greedy(*args), _greedy(*args, fair=False), key=len)

    def focus(now: set[tuple[int, int]]) -> list[int]:
        """The wanting workers furthest below and furthest above their wish, worst first."""
        got: Counter[int] = Counter()
        for wi, si in now:
            got[wi] += dur[si]
        gap = sorted(target, key=lambda wi: (got[wi] - target[wi]) / target[wi])
        return gap[:FOCUS] + gap[::-1][:FOCUS]

    have_solution = False
    stages: list[tuple[str, SolveStatus]] = []
    share = {0: 0.5, 1: 0.6, 2: 1.0}
    for k, (name, expr) in enumerate(tiers):
        left = budget.left()
        if k > 0 and left <= budget.units(0.05):
            break
        model.minimize(expr)
        model.clear_hints()  # type: ignore[no-untyped-call]
        if chosen:
            for key, v in x.items():
                model.add_hint(v, key in chosen)
            # Complete the hint (auxiliary variables too), so a later stage starts from a full
            # solution instead of having to repair one.
            got_min: Counter[int] = Counter()
            for wi, si in chosen:
                got_min[wi] += dur[si]
            hinted = [
                math.ceil(max(0, PERMILLE * (want - got_min[wi])) / want)
                for wi, want in target.items()
            ]
            for sf, value in zip(shortfall, hinted, strict=True):
                model.add_hint(sf, value)
            over = [
                math.ceil(max(0, PERMILLE * (got_min[wi] - want)) / want)
                for wi, want in target.items()
            ]
            for ex, value in zip(excess, over, strict=True):
                model.add_hint(ex, value)
            model.add_hint(worst, max(hinted, default=0))
        # The stage's share is taken after the hint is set (0.5 s at 10^5 pairs), not before.
        left = budget.left()
        limit = max(left * (share[k] if k < len(tiers) - 1 else 1.0), budget.units(0.05))
        full = limit * FULL_SHARE if len(x) > LNS_MIN_PAIRS else limit
        solver = budget.solver(full, seed, num_workers)
        # Large rosters (10^5 pairs) spend most of a short limit before the search: at 110k
        # pairs (city week) probing took 4 s and two symmetry detections 2 s of each stage,
        # and neither helps a search that starts from a complete hint. One presolve pass,
        # no probing, no symmetry: the search starts about 6 s earlier in every stage.
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        if k > 0:
            # Later stages: the model is the same but for one bound and the objective, and
            # presolve found nothing to simplify in the first; presolving it again cost 5-7 s
            # (dominated-constraint detection on the fairness rows).
            solver.parameters.cp_model_presolve = False
        code = budget.solve(solver, model)
        status = status_of(code, model, by_work=budget.by_work and not budget.wall_capped)
        stages.append((name, status))
        if not found_solution(code):
            if k == 0:
                return RosterResult(
                    status,
                    (),
                    None,
                    (),
                    MappingProxyType({}),
                    tuple(stages),
                    len(x),
                    time.perf_counter() - budget.started,
                    budget.work_done,
                    budget.wall_capped,
                )
            break
        have_solution = True
        chosen = {key for key, v in x.items() if solver.boolean_value(v)}
        value = round(solver.objective_value)
        # The LNS gets the rest of the stage's share (`_lns` also stops at the end of the
        # whole budget).
        stage_end = budget.now() + limit * (1 - FULL_SHARE)
        if code != cp_model.OPTIMAL and len(x) > LNS_MIN_PAIRS:
            chosen, value = _lns(
                model, x, chosen, value, budget, stage_end, seed + k, num_workers, focus
            )
        if not isinstance(expr, int):
            model.add(expr <= value)
    if not have_solution or chosen is None:  # pragma: no cover - stage 0 returned above
        raise RuntimeError("rostering ended without a solution")

    # --- interpret --------------------------------------------------------------------------
    got = Counter(si for _, si in chosen)
    mins: dict[str, int] = {w.id: 0 for w in workers}
    for wi, si in chosen:
        mins[workers[wi].id] += dur[si]
    sfs = [
        math.ceil(max(0, PERMILLE * (want - mins[workers[wi].id])) / want)
        for wi, want in target.items()
    ]
    objective = RosterObjective(
        unfilled=sum(s.demand - got[si] for si, s in enumerate(shifts)),
        max_shortfall_permille=max(sfs, default=0),
        total_shortfall_permille=sum(sfs),
        travel=sum(travel_cost(workers[wi], shifts[si]) for wi, si in chosen),
        preference=sum(workers[wi].preferences.get(shifts[si].id, 0) for wi, si in chosen),
    )
    gaps = tuple(
        Unfilled(s.id, s.demand - got[si], _reason(problem, s, blockers[si], n_eligible[si]))
        for si, s in enumerate(shifts)
        if got[si] < s.demand
    )
    overall = (
        SolveStatus.OPTIMAL
        if len(stages) == len(tiers) and all(st is SolveStatus.OPTIMAL for _, st in stages)
        else budget.limit_status
    )
    return RosterResult(
        status=overall,
        assignments=tuple(sorted(Assignment(workers[wi].id, shifts[si].id) for wi, si in chosen)),
        objective=objective,
        unfilled=gaps,
        minutes=MappingProxyType(mins),
        stages=tuple(stages),
        pairs_considered=len(x),
        wall_time_s=time.perf_counter() - budget.started,
        work_done=budget.work_done,
        wall_capped=budget.wall_capped,
    )
