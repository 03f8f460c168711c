"""CP-SAT building blocks shared by the rostering models (city rosters and the NRP benchmark model).

- `make_solver` / `status_of`: one way to set limits, seed and workers, and one honest mapping of
  CP-SAT's status to `SolveStatus` (UNKNOWN at the limit is TIMED_OUT with no solution; an invalid
  model is a bug and raises, it is never reported as "no solution").
- `Budget`: the limits of one solver call, in one of two modes. Wall mode (no work limit): every
  decision, each CP-SAT stop, when an LNS loop ends, how large a stage's share is, is taken on the
  wall clock, so the answer depends on how fast the machine was that minute. Work mode (a
  `work_limit` in CP-SAT deterministic-time units): those decisions are taken on the deterministic
  time CP-SAT reports for each solve (plus a fixed charge per LNS step), so with one CP-SAT worker
  and the same seed the call returns the same answer on any machine and any load. The wall clock
  stays a safety cap in work mode; if it stops anything, `Budget.wall_capped` is set and that run
  is not reproducible.
- `rest_cliques`: the no-overlap-plus-minimum-rest rule as maximal cliques. Two timed items
  conflict exactly when their "extended" intervals [start, end + rest) overlap, so the conflict
  graph is an interval graph and its maximal cliques (one per sweep point) give the tightest
  at-most-one cover of every conflicting pair.
- `limit_runs` / `forbid_short_runs`: consecutive-day rules as sliding-window sums and as clauses
  that forbid each too-short block (the pattern of the OR-Tools shift_scheduling_sat sample).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from matching.status import SolveStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ortools.sat.python.cp_model import IntVar

DEFAULT_NUM_WORKERS = 8


def make_solver(time_limit_s: float, seed: int, num_workers: int) -> cp_model.CpSolver:
    """A solver with the limit, seed and worker count every Muni solver takes."""
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = int(num_workers)
    return solver


def status_of(code: object, model: cp_model.CpModel, *, by_work: bool = False) -> SolveStatus:
    """Map a CP-SAT status to `SolveStatus`.

    FEASIBLE from CP-SAT means a limit stopped the search: with `by_work` (the deterministic work
    limit was the one that counted) it stays FEASIBLE, otherwise the limit was time and it is
    TIMED_OUT (with a solution). UNKNOWN means a limit came before any solution: TIMED_OUT
    without one. MODEL_INVALID is a bug in the model builder and raises.
    """
    if code == cp_model.OPTIMAL:
        return SolveStatus.OPTIMAL
    if code == cp_model.FEASIBLE:
        return SolveStatus.FEASIBLE if by_work else SolveStatus.TIMED_OUT
    if code == cp_model.INFEASIBLE:
        return SolveStatus.INFEASIBLE
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model as invalid: {model.validate()}")
    return SolveStatus.TIMED_OUT  # UNKNOWN: stopped by the time limit before any solution


WALL_CAP_MARGIN_S = 0.05  # a solve this close to its wall cap counts as stopped by it
# Deterministic time CP-SAT reports per second of one worker on the rostering models, measured
# here (city week and Curtois: 0.35-0.45). Only used to turn the solvers' fixed amounts (an LNS
# step's limit, the smallest step worth starting) into work units, so a work limit of W behaves
# like a wall limit of about W / WORK_PER_SECOND; it never depends on the machine at run time.
WORK_PER_SECOND = 0.4


class Budget:
    """The limits of one solver call: a wall-clock cap always, a deterministic work budget or not.

    Amounts (`left`, `now`, the `limit` given to `solver`) are in the unit that decides: work
    units (CP-SAT deterministic time) in work mode, seconds in wall mode, so the callers' share
    arithmetic is the same in both. Every CP-SAT solve goes through `solve`, which adds the
    solve's deterministic time to `work_done` and notes whether the wall cap stopped it.
    """

    def __init__(
        self, time_limit_s: float, work_limit: float | None, reserve_s: float = 0.0
    ) -> None:
        """`reserve_s` is kept back from the wall limit (e.g. to read the answer back)."""
        if not time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        if work_limit is not None and not work_limit > 0:
            raise ValueError(f"work_limit must be positive, got {work_limit}")
        self.started = time.perf_counter()
        self.deadline = self.started + time_limit_s - reserve_s
        self.work_limit = work_limit
        self.work_done = 0.0
        self.wall_capped = False

    @property
    def by_work(self) -> bool:
        """Whether decisions are taken on deterministic work (reproducible) or on the wall clock."""
        return self.work_limit is not None

    def units(self, seconds: float) -> float:
        """A fixed amount given in seconds, in the deciding unit."""
        return seconds * WORK_PER_SECOND if self.work_limit is not None else seconds

    def wall_left(self) -> float:
        """Seconds to the wall-clock deadline."""
        return self.deadline - time.perf_counter()

    def now(self) -> float:
        """Progress in the deciding unit: work done, or seconds since the start."""
        if self.work_limit is not None:
            return self.work_done
        return time.perf_counter() - self.started

    def left(self) -> float:
        """What is left in the deciding unit; in work mode 0 (and `wall_capped`) past the cap."""
        if self.work_limit is None:
            return self.wall_left()
        if self.wall_left() <= 0:
            self.wall_capped = True
            return 0.0
        return self.work_limit - self.work_done

    def solver(self, limit: float, seed: int, num_workers: int) -> cp_model.CpSolver:
        """A solver stopped after `limit` in the deciding unit (and, in work mode, at the cap)."""
        if self.work_limit is None:
            return make_solver(limit, seed, num_workers)
        solver = make_solver(max(self.wall_left(), 0.01), seed, num_workers)
        solver.parameters.max_deterministic_time = max(float(limit), 1e-3)
        return solver

    def solve(self, solver: cp_model.CpSolver, model: cp_model.CpModel) -> object:
        """Run `solver` on `model`, charge its deterministic time and note a wall-cap stop."""
        code = solver.solve(model)
        self.work_done += solver.deterministic_time
        if (
            self.work_limit is not None
            and code not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
            and solver.wall_time >= solver.parameters.max_time_in_seconds - WALL_CAP_MARGIN_S
        ):
            self.wall_capped = True
        return code

    def charge(self, work: float) -> None:
        """Add work done outside CP-SAT (in work mode only; wall mode measures it anyway)."""
        if self.work_limit is not None:
            self.work_done += work

    @property
    def limit_status(self) -> SolveStatus:
        """The status of an answer a limit stopped before optimality was proven."""
        if self.work_limit is not None and not self.wall_capped:
            return SolveStatus.FEASIBLE
        return SolveStatus.TIMED_OUT


def found_solution(code: object) -> bool:
    """Whether CP-SAT returned a solution (TIMED_OUT may come with or without one)."""
    return code in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def rest_cliques(items: Sequence[tuple[int, int]], rest: int) -> list[list[int]]:
    """Maximal cliques of items (start, end) that may not both be worked with `rest` between them.

    Returns index lists of size >= 2; an at-most-one on each forbids every overlap and every gap
    shorter than `rest`, and nothing else.
    """
    events: list[tuple[int, int, int]] = []  # (time, kind, index); ends (kind 0) before starts
    for i, (start, end) in enumerate(items):
        events.append((start, 1, i))
        events.append((end + rest, 0, i))
    events.sort()
    active: set[int] = set()
    cliques: list[list[int]] = []
    grew = False
    for _, kind, i in events:
        if kind == 1:
            active.add(i)
            grew = True
        else:
            if grew and len(active) >= 2:
                cliques.append(sorted(active))
            grew = False
            active.discard(i)
    return cliques


def limit_runs(model: cp_model.CpModel, works: Sequence[IntVar | int], max_len: int) -> None:
    """At most `max_len` consecutive 1s: every window of max_len + 1 days has a 0."""
    for d in range(len(works) - max_len):
        window = works[d : d + max_len + 1]
        if any(isinstance(w, int) and w == 0 for w in window):
            continue
        model.add(sum(window) <= max_len)


def forbid_short_runs(
    model: cp_model.CpModel, works: Sequence[IntVar | int], min_len: int, *, value: bool
) -> None:
    """Forbid each block of `value` days shorter than `min_len` lying strictly inside the horizon.

    A block touching the first or last day is allowed (the benchmark assumes the block continues
    outside the horizon). `works` holds literals or the constants 0/1 (a fixed day).
    """
    n = len(works)
    for length in range(1, min_len):
        for start in range(1, n - length):
            block = list(works[start : start + length])
            before, after = works[start - 1], works[start + length]
            clause: list[IntVar] = []
            satisfied = False
            # The block is "value" days bounded by "not value" days; at least one must differ.
            for lit, want in [
                (before, not value),
                *[(b, value) for b in block],
                (after, not value),
            ]:
                if isinstance(lit, int):
                    if bool(lit) != want:
                        satisfied = True  # a fixed day already breaks this pattern
                        break
                    continue
                clause.append(lit.negated() if want else lit)  # type: ignore[arg-type]
            if satisfied:
                continue
            if not clause:
                raise ValueError("fixed days form a forbidden short block")
            model.add_bool_or(clause)


def run_automaton(
    max_work: int | None, min_work: int | None, min_off: int | None
) -> tuple[int, list[int], list[tuple[int, int, int]]]:
    """One automaton over a worked(1)/off(0) day sequence for all three run rules at once.

    Returns (start state, final states, transitions). Runs touching the first or the last day are
    exempt from the minimum rules (as in `forbid_short_runs`); `max_work` holds everywhere.
    Propagating the rules together is stronger than propagating them one by one.
    """
    top = max_work if max_work is not None else 10_000
    lo_w = min_work or 1
    lo_o = min_off or 1
    states: dict[tuple[str, int], int] = {("start", 0): 0}

    def st(kind: str, k: int) -> int:
        return states.setdefault((kind, k), len(states))

    trans: list[tuple[int, int, int]] = [(0, 1, st("first_work", 1)), (0, 0, st("first_off", 0))]
    trans.append((st("first_off", 0), 0, st("first_off", 0)))
    trans.append((st("first_off", 0), 1, st("work", 1)))
    cap = top if max_work is not None else lo_w  # without a max, lengths >= lo_w are alike
    for k in range(1, cap + 1):
        for kind in ("first_work", "work"):
            nxt = k + 1 if max_work is not None else min(k + 1, lo_w)
            if nxt <= cap:
                trans.append((st(kind, k), 1, st(kind, nxt)))
            if kind == "first_work" or k >= lo_w:
                trans.append((st(kind, k), 0, st("off", 1)))
    for k in range(1, lo_o + 1):
        trans.append((st("off", k), 0, st("off", min(k + 1, lo_o))))
        if k >= lo_o:
            trans.append((st("off", k), 1, st("work", 1)))
    return 0, sorted(states.values()), trans
