"""CP-SAT building blocks shared by the rostering models (city rosters and the NRP benchmark model).

- `make_solver` / `status_of`: one way to set limits, seed and workers, and one honest mapping of
  CP-SAT's status to `SolveStatus` (UNKNOWN at the limit is TIMED_OUT with no solution; an invalid
  model is a bug and raises, it is never reported as "no solution").
- `rest_cliques`: the no-overlap-plus-minimum-rest rule as maximal cliques. Two timed items
  conflict exactly when their "extended" intervals [start, end + rest) overlap, so the conflict
  graph is an interval graph and its maximal cliques (one per sweep point) give the tightest
  at-most-one cover of every conflicting pair.
- `limit_runs` / `forbid_short_runs`: consecutive-day rules as sliding-window sums and as clauses
  that forbid each too-short block (the pattern of the OR-Tools shift_scheduling_sat sample).
"""

from __future__ import annotations

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


def status_of(code: object, model: cp_model.CpModel) -> SolveStatus:
    """Map a CP-SAT status to `SolveStatus`.

    FEASIBLE from CP-SAT means a limit stopped the search; the only limit Muni sets is time, so it
    is TIMED_OUT (with a solution). UNKNOWN means the limit came before any solution: TIMED_OUT
    without one. MODEL_INVALID is a bug in the model builder and raises.
    """
    if code == cp_model.OPTIMAL:
        return SolveStatus.OPTIMAL
    if code == cp_model.FEASIBLE:
        return SolveStatus.TIMED_OUT
    if code == cp_model.INFEASIBLE:
        return SolveStatus.INFEASIBLE
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model as invalid: {model.validate()}")
    return SolveStatus.TIMED_OUT  # UNKNOWN: stopped by the time limit before any solution


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
