"""The deterministic work limit: one worker, one seed, one work limit -> one answer.

The instance is a reduced city week (80 workers, 500 shifts, about 6,700 pairs): above the size
where the city model runs its own LNS, and big enough that the LNS takes a dozen steps within
the budget, so the test covers the loop's stops and adaptive sizes, not just one CP-SAT call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.city_week import generate
from matching.roster_check import check_roster
from matching.rostering import _cpsat, model
from matching.rostering.model import solve_roster
from matching.status import SolveStatus

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


@pytest.fixture
def solves(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records the status code of every CP-SAT solve the rostering makes."""
    codes: list[object] = []
    real = _cpsat.Budget.solve

    def spy(self: _cpsat.Budget, solver: cp_model.CpSolver, m: cp_model.CpModel) -> object:
        code = real(self, solver, m)
        codes.append(code)
        return code

    monkeypatch.setattr(_cpsat.Budget, "solve", spy)
    return codes


def test_city_roster_with_a_work_limit_is_reproducible(solves: list[object]) -> None:
    problem = generate(7, n_workers=80, n_shifts=500)

    def run() -> model.RosterResult:
        return solve_roster(problem, time_limit_s=60, seed=7, num_workers=1, work_limit=1.5)

    first = run()
    n_solves = len(solves)
    second = run()
    assert first.pairs_considered > model.LNS_MIN_PAIRS  # the LNS runs on its own
    assert n_solves >= 3 + 6  # three full-model stage solves and at least six LNS steps
    assert len(solves) == 2 * n_solves  # the same steps, in the same order
    assert solves[:n_solves] == solves[n_solves:]
    assert first.assignments == second.assignments
    assert first.objective == second.objective
    assert first.stages == second.stages
    assert first.work_done == second.work_done
    assert not first.wall_capped
    assert not second.wall_capped
    # Stopped by the work limit, not by the clock: FEASIBLE, not TIMED_OUT.
    assert first.status is SolveStatus.FEASIBLE
    assert check_roster(problem, first.assignments).ok


def test_a_wall_cap_before_the_work_limit_is_reported() -> None:
    problem = generate(7, n_workers=80, n_shifts=500)
    result = solve_roster(problem, time_limit_s=1.5, seed=7, num_workers=1, work_limit=1_000)
    assert result.wall_capped
    assert result.status is SolveStatus.TIMED_OUT
    assert check_roster(problem, result.assignments).ok


def test_without_a_work_limit_the_clock_decides() -> None:
    problem = generate(3, n_workers=20, n_shifts=60)
    result = solve_roster(problem, time_limit_s=1, seed=0, num_workers=1)
    assert not result.wall_capped  # only meaningful in work mode
    assert result.work_done > 0  # reported in both modes


@pytest.mark.parametrize("work_limit", [0, -1.0, float("nan")])
def test_a_work_limit_must_be_positive(work_limit: float) -> None:
    problem = generate(3, n_workers=5, n_shifts=10)
    with pytest.raises(ValueError, match="work_limit must be positive"):
        solve_roster(problem, time_limit_s=1, work_limit=work_limit)
