"""The Curtois & Qu nurse-rostering model (day x shift-type grid), on the shared building blocks.

Why a dedicated model rather than the city model: the benchmark's rules are about *days* (one
shift a day, runs of worked days and of days off, worked weekends, per-type totals) and its costs
are per (day, shift type) cover, while the city model is about individual timed shifts with
skills, credentials and travel. Both share `_cpsat` (solver setup and status, the rest rule as
interval-graph cliques, the run rules), so the rules Muni enforces are encoded once.

Two limit modes (see `_cpsat.Budget`):
- wall clock (default, `time_limit_s` only): the first phase, the LNS loop and each LNS
  sub-solve stop on the clock, so the answer depends on the machine's speed and load.
- deterministic work (`work_limit`, in CP-SAT deterministic-time units): the same stops and
  shares are taken on CP-SAT's deterministic time (the Python work around each LNS step is a
  few milliseconds here and is not counted), so with `num_workers=1` and the same seed two
  runs return the same roster and penalty. A limit-stopped answer is FEASIBLE (not TIMED_OUT);
  no roster within the work is TIMED_OUT without one. `time_limit_s` stays a safety cap: if it
  fires first, the result says so (`wall_capped`, status TIMED_OUT) and the run is not
  reproducible. With more than one worker CP-SAT itself is not deterministic.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matching.instances.curtois import DAY_OFF, CurtoisInstance
from matching.rostering._cpsat import (
    Budget,
    forbid_short_runs,
    found_solution,
    limit_runs,
    rest_cliques,
    run_automaton,
    status_of,
)
from matching.status import SolveStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ortools.sat.python.cp_model import IntVar

MINUTES_PER_DAY = 24 * 60
LNS_FIRST_SHARE = 0.2  # of the limit for the full model before the LNS loop
LNS_FIRST_MAX_S = 15.0
LNS_START = {"employees": 4, "days": 7, "mixed": 6}  # first neighbourhood sizes
LNS_STEP_S = 2.0  # limit of one LNS sub-solve (s, or work units); most finish well before it


@dataclass(frozen=True, slots=True)
class NrpPenalty:
    """The benchmark objective, term by term."""

    on_requests: int
    off_requests: int
    cover_under: int
    cover_over: int

    @property
    def total(self) -> int:
        return self.on_requests + self.off_requests + self.cover_under + self.cover_over


@dataclass(frozen=True, slots=True)
class NrpResult:
    status: SolveStatus
    roster: Mapping[tuple[str, int], str]  # (employee, day) -> shift type; absent = day off
    penalty: NrpPenalty | None
    best_bound: float | None
    wall_time_s: float
    work_done: float = 0.0  # CP-SAT deterministic time spent (+ LNS charges in work mode)
    # Work mode only: the wall-clock cap stopped a solve, so this answer is not reproducible.
    wall_capped: bool = False


def nrp_penalty(instance: CurtoisInstance, roster: Mapping[tuple[str, int], str]) -> NrpPenalty:
    """The benchmark objective of a roster (used to report, never to decide)."""
    on = sum(r.weight for r in instance.on_requests if roster.get((r.employee, r.day)) != r.shift)
    off = sum(r.weight for r in instance.off_requests if roster.get((r.employee, r.day)) == r.shift)
    count: dict[tuple[int, str], int] = defaultdict(int)
    for (_, day), shift in roster.items():
        count[(day, shift)] += 1
    under = over = 0
    for c in instance.cover:
        n = count[(c.day, c.shift)]
        if c.min is not None and n < c.min:
            under += c.min_weight * (c.min - n)
        if c.max is not None and n > c.max:
            over += c.max_weight * (n - c.max)
    return NrpPenalty(on_requests=on, off_requests=off, cover_under=under, cover_over=over)


def solve_nrp(
    instance: CurtoisInstance,
    *,
    time_limit_s: float = 60.0,
    seed: int = 0,
    num_workers: int = 8,
    hint: Mapping[tuple[str, int], str] | None = None,
    log: bool = False,
    params: Mapping[str, object] | None = None,
    automaton: bool = False,
    lns: bool = True,
    work_limit: float | None = None,
) -> NrpResult:
    """Minimise the benchmark penalty subject to every hard contract rule.

    With `lns` (the default) CP-SAT gets the full model for a fifth of the limit (at most 15 s),
    then `_lns` re-solves parts of the best roster until the limit; `lns=False` is one CP-SAT
    solve of the full model for the whole limit. `params` applies to the full-model solve.
    `work_limit` (CP-SAT deterministic-time units) takes those shares and stops on deterministic
    work instead of the clock (see the module doc); `time_limit_s` then only caps the wall time.
    """
    budget = Budget(time_limit_s, work_limit)
    total = work_limit if work_limit is not None else time_limit_s
    # --- data -------------------------------------------------------------------------------
    days = range(instance.num_days)
    shift_types = {s.id: s for s in instance.shift_types}
    fixed = {(f.employee, f.day): f.shift for f in instance.fixed}

    # --- model and variables ----------------------------------------------------------------
    model = cp_model.CpModel()
    x: dict[tuple[str, int, str], IntVar] = {}
    works: dict[str, list[IntVar | int]] = {}
    for emp in instance.employees:
        valid = emp.contract.valid_shifts
        row: list[IntVar | int] = []
        for d in days:
            pinned = fixed.get((emp.id, d))
            lits = []
            for st in instance.shift_types:
                if pinned == DAY_OFF or (valid is not None and st.id not in valid):
                    continue
                if pinned is not None and pinned != st.id:
                    continue
                v = model.new_bool_var(f"x_{emp.id}_{d}_{st.id}")
                x[(emp.id, d, st.id)] = v
                lits.append(v)
            if not lits:
                row.append(0)
                continue
            w = model.new_bool_var(f"w_{emp.id}_{d}")
            model.add(w == sum(lits))  # also: at most one shift a day
            if pinned is not None:
                model.add(w == 1)
            row.append(w)
        works[emp.id] = row

    # --- constraints (hard contract rules) --------------------------------------------------
    for emp in instance.employees:
        c = emp.contract
        row = works[emp.id]
        mine = [(d, s) for (e, d, s) in x if e == emp.id]
        # Minimum rest (and no overlap) as interval-graph cliques over this employee's slots.
        slots = [
            (
                d * MINUTES_PER_DAY + shift_types[s].start_minute,
                d * MINUTES_PER_DAY + shift_types[s].start_minute + shift_types[s].duration,
            )
            for d, s in mine
        ]
        for clique in rest_cliques(slots, c.min_rest_minutes):
            model.add_at_most_one(x[(emp.id, *mine[i])] for i in clique)
        for kind, cap in c.max_shifts_per_type.items():
            model.add(sum(x[(emp.id, d, t)] for d, t in mine if t == kind) <= cap)
        minutes = sum(shift_types[s].duration * x[(emp.id, d, s)] for d, s in mine)
        if c.max_total_minutes is not None:
            model.add(minutes <= c.max_total_minutes)
        if c.min_total_minutes is not None:
            model.add(minutes >= c.min_total_minutes)
        if c.max_consecutive_shifts is not None:
            limit_runs(model, row, c.max_consecutive_shifts)
        if c.min_consecutive_shifts is not None:
            forbid_short_runs(model, row, c.min_consecutive_shifts, value=True)
        if c.min_consecutive_days_off is not None:
            forbid_short_runs(model, row, c.min_consecutive_days_off, value=False)
        if automaton:
            start_state, finals, transitions = run_automaton(
                c.max_consecutive_shifts, c.min_consecutive_shifts, c.min_consecutive_days_off
            )
            model.add_automaton(row, start_state, finals, transitions)
        if c.max_weekends is not None:
            weekend_lits = []
            for weekend in instance.weekends():
                lits = [lit for d in weekend if not isinstance(lit := row[d], int)]
                if not lits:
                    continue
                wk = model.new_bool_var(f"wk_{emp.id}_{weekend[0]}")
                for lit in lits:
                    model.add_implication(lit, wk)
                model.add_bool_or([lit.negated() for lit in lits]).only_enforce_if(wk.negated())
                weekend_lits.append(wk)
            model.add(sum(weekend_lits) <= c.max_weekends)

    # --- objective --------------------------------------------------------------------------
    terms: list[cp_model.LinearExprT] = []
    constant = 0
    for r in instance.on_requests:
        on = x.get((r.employee, r.day, r.shift))
        if on is None:
            constant += r.weight
        else:
            terms.append(r.weight * (1 - on))
    for r in instance.off_requests:
        off = x.get((r.employee, r.day, r.shift))
        if off is not None:
            terms.append(r.weight * off)
    by_slot: dict[tuple[int, str], list[IntVar]] = defaultdict(list)
    for (_, d, s), v in x.items():
        by_slot[(d, s)].append(v)
    n_emp = len(instance.employees)
    for cov in instance.cover:
        count = sum(by_slot[(cov.day, cov.shift)])
        if cov.min is not None and cov.min_weight > 0:
            under = model.new_int_var(0, max(cov.min, 0), f"under_{cov.day}_{cov.shift}")
            model.add(under >= cov.min - count)
            terms.append(cov.min_weight * under)
        if cov.max is not None and cov.max_weight > 0:
            over = model.new_int_var(0, n_emp, f"over_{cov.day}_{cov.shift}")
            model.add(over >= count - cov.max)
            terms.append(cov.max_weight * over)
    model.minimize(sum(terms) + constant)
    if hint:
        for (e, d, s), v in x.items():
            model.add_hint(v, hint.get((e, d)) == s)

    # --- solve ------------------------------------------------------------------------------
    def configure(solver: cp_model.CpSolver) -> None:
        solver.parameters.log_search_progress = log
        if solver.parameters.num_workers == 2 and "subsolvers" not in (params or {}):
            # On two workers CP-SAT runs one full search beside its interleaved LNS; the
            # default one (light LP) and "core" give no useful bound here, while the
            # pseudo-cost search with the full LP relaxation proves ~1045 on Instance7 within
            # 20 s (best known 1056) and finds better first rosters (20 s: 1289 against 1478
            # for default_lp and 1773 for core+default_lp, the previous set-up).
            solver.parameters.subsolvers.append("pseudo_costs")
        for key, value in (params or {}).items():
            if isinstance(value, list):
                getattr(solver.parameters, key).extend(value)
            else:
                setattr(solver.parameters, key, value)

    def configure_sub(solver: cp_model.CpSolver) -> None:
        # The LNS sub-models are small and their LP relaxation is tight (cover rows), so the
        # full-LP search closes most of them to optimality in well under a second. Instance7,
        # 60 s, seed 0: 1057 with max_lp on two workers, 1092 with one worker at
        # linearization level 2.
        if solver.parameters.num_workers == 2:
            solver.parameters.subsolvers.append("max_lp")
        else:
            solver.parameters.linearization_level = 2

    # The first phase finds a roster and a bound; the rest of the limit goes to our LNS.
    # In work mode the shares are of the work limit and the fixed amounts in work units.
    first_limit = min(
        total, max(total * LNS_FIRST_SHARE, budget.units(0.5)), budget.units(LNS_FIRST_MAX_S)
    )
    if not lns:
        first_limit = total
    solver = budget.solver(min(first_limit, max(budget.left(), 0.01)), seed, num_workers)
    configure(solver)
    code = budget.solve(solver, model)
    left = budget.left()
    if (
        lns
        and not found_solution(code)
        and code != cp_model.INFEASIBLE
        and left > budget.units(0.1)
    ):
        # No roster in the first phase (a hard instance): the LNS needs one, so the rest of
        # the limit goes to the full model.
        solver = budget.solver(left, seed, num_workers)
        configure(solver)
        code = budget.solve(solver, model)

    # --- interpret --------------------------------------------------------------------------
    if not found_solution(code):
        status = status_of(code, model, by_work=budget.by_work and not budget.wall_capped)
        return NrpResult(
            status,
            MappingProxyType({}),
            None,
            None,
            time.perf_counter() - budget.started,
            budget.work_done,
            budget.wall_capped,
        )
    values = {key: solver.boolean_value(v) for key, v in x.items()}
    best = round(solver.objective_value)
    bound = solver.best_objective_bound
    if lns and code != cp_model.OPTIMAL:
        values, best, proven = _lns(
            model,
            x,
            values,
            best,
            bound,
            instance,
            budget=budget,
            seed=seed,
            sub_workers=num_workers,
            configure_sub=configure_sub,
            log=log,
        )
    else:
        proven = code == cp_model.OPTIMAL
    # Taken at the end: a wall-cap stop anywhere (also in the LNS) makes the answer TIMED_OUT.
    status = SolveStatus.OPTIMAL if proven else budget.limit_status
    roster = {(e, d): s for (e, d, s), on in values.items() if on}
    return NrpResult(
        status=status,
        roster=MappingProxyType(roster),
        penalty=nrp_penalty(instance, roster),
        best_bound=bound,
        wall_time_s=time.perf_counter() - budget.started,
        work_done=budget.work_done,
        wall_capped=budget.wall_capped,
    )


def _lns(
    model: cp_model.CpModel,
    x: Mapping[tuple[str, int, str], IntVar],
    values: dict[tuple[str, int, str], bool],
    best: int,
    bound: float,
    instance: CurtoisInstance,
    *,
    budget: Budget,
    seed: int,
    sub_workers: int,
    configure_sub: Callable[[cp_model.CpSolver], None],
    log: bool,
) -> tuple[dict[tuple[str, int, str], bool], int, bool]:
    """Large-neighbourhood search of our own: free a part of the roster, fix the rest, re-solve.

    Why: on two workers CP-SAT's own portfolio either proves bounds (core) or runs its generic
    LNS, and on the 20 x 28 instance it stalls 10 % above the best known value. Re-solving a few
    whole employees, or every employee over a window of days, is the classic NRP neighbourhood:
    the sub-model is small enough for CP-SAT to solve to optimality in a second or two, so each
    step is an exact best move in a large neighbourhood. The neighbourhood size adapts: it grows
    when the sub-solve proves optimality (room for bigger moves) and shrinks when it times out.
    The loop and each sub-solve stop on `budget` (wall clock or deterministic work).
    Returns (values, penalty, proven optimal).
    """
    rng = random.Random(seed)  # noqa: S311 - search diversification, not security
    emps = [e.id for e in instance.employees]
    n_days = instance.num_days
    keys = list(x)
    by_emp: dict[str, list[int]] = defaultdict(list)
    for i, (e, _, _) in enumerate(keys):
        by_emp[e].append(i)
    idx = [x[k].index for k in keys]
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, (_, d, _) in enumerate(keys):
        by_day[d].append(i)
    # Three neighbourhoods, each with its own adaptive size: whole employees (repairs a person's
    # runs and totals), every employee over a window of days (repairs cover), and half of each.
    size = {
        "employees": min(LNS_START["employees"], len(emps)),
        "days": min(LNS_START["days"], n_days),
        "mixed": min(LNS_START["mixed"], n_days),
    }
    top = {"employees": len(emps), "days": n_days, "mixed": n_days}
    kinds = list(size)
    step = 0
    while True:
        left = budget.left()
        if left < budget.units(0.2) or best <= math.ceil(bound - 1e-9):
            break
        kind = kinds[step % len(kinds)]
        step += 1
        k = size[kind]
        free: set[int] = set()
        n_emp = k if kind == "employees" else max(2, k // 3) if kind == "mixed" else 0
        for e in rng.sample(emps, min(n_emp, len(emps))):
            free.update(by_emp[e])
        if kind != "employees":
            a = rng.randrange(max(1, n_days - k + 1))
            for d in range(a, min(a + k, n_days)):
                free.update(by_day[d])
        sub = model.clone()
        sub.clear_hints()  # type: ignore[no-untyped-call]  # the caller's hint, if any
        proto = sub.proto
        for i, key in enumerate(keys):
            sub.add_hint(x[key], values[key])
            if i not in free:
                v = 1 if values[key] else 0
                dom = proto.variables[idx[i]].domain
                dom[0] = v
                dom[1] = v
        solver = budget.solver(min(budget.units(LNS_STEP_S), left), seed + step, sub_workers)
        configure_sub(solver)
        code = budget.solve(solver, sub)
        if found_solution(code):
            cand = round(solver.objective_value)
            if cand <= best:  # equal moves too: they walk plateaus of the same penalty
                values = {key: solver.boolean_value(x[key]) for key in keys}
                best = cand
        if log:
            print(f"lns {step} {kind} {k} free={len(free)} {solver.status_name(code)} best={best}")
        if code == cp_model.OPTIMAL:
            size[kind] = min(k + 1, top[kind])
        else:
            size[kind] = max(k - 1, 2)
    return values, best, best <= math.ceil(bound - 1e-9)
