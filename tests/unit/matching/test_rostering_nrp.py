"""The Curtois & Qu model: its objective is the checker's penalty; infeasible is reported."""

from __future__ import annotations

import dataclasses

from bench.common import SHARED_BENCHMARKS
from matching.instances.curtois import read_curtois
from matching.roster_check import check_nrp
from matching.rostering.nrp import solve_nrp
from matching.status import SolveStatus
from tests.support.benchmarks import benchmark_files_required

FOLDER = SHARED_BENCHMARKS / "shift-scheduling" / "curtois-qu"
pytestmark = benchmark_files_required(FOLDER)


def test_instance1_solver_objective_equals_checker_penalty() -> None:
    inst = read_curtois(FOLDER / "Instance1.ros")
    result = solve_nrp(inst, time_limit_s=20, seed=0, num_workers=1)
    assert result.status.has_solution
    report = check_nrp(inst, result.roster)
    assert report.ok, report.violations
    assert result.penalty is not None
    assert result.penalty.total == report.penalty
    assert result.best_bound is not None
    assert report.penalty >= result.best_bound
    if result.status is SolveStatus.OPTIMAL:
        assert report.penalty == 607  # the best reported value, proven optimal by CP-SAT here


def test_hint_is_accepted_and_kept_feasible() -> None:
    inst = read_curtois(FOLDER / "Instance1.ros")
    first = solve_nrp(inst, time_limit_s=5, seed=0, num_workers=1)
    again = solve_nrp(inst, time_limit_s=5, seed=0, num_workers=1, hint=first.roster)
    assert again.penalty is not None
    assert first.penalty is not None
    assert again.penalty.total <= first.penalty.total


def test_unreachable_minimum_workload_is_infeasible() -> None:
    inst = read_curtois(FOLDER / "Instance1.ros")
    e0 = inst.employees[0]
    impossible = dataclasses.replace(
        e0, contract=dataclasses.replace(e0.contract, min_total_minutes=10_000)
    )
    inst = dataclasses.replace(inst, employees=(impossible, *inst.employees[1:]))
    result = solve_nrp(inst, time_limit_s=10, seed=0, num_workers=1)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.penalty is None
    assert not result.roster


def test_lns_roster_is_legal_and_priced_like_the_checker() -> None:
    inst = read_curtois(FOLDER / "Instance3.ros")
    result = solve_nrp(inst, time_limit_s=4, seed=0, num_workers=1)
    assert result.status.has_solution
    report = check_nrp(inst, result.roster)
    assert report.ok, report.violations
    assert result.penalty is not None
    assert result.penalty.total == report.penalty
    assert result.best_bound is not None
    assert report.penalty >= result.best_bound


def test_without_lns_is_one_full_solve() -> None:
    inst = read_curtois(FOLDER / "Instance1.ros")
    result = solve_nrp(inst, time_limit_s=5, seed=0, num_workers=1, lns=False)
    assert result.status.has_solution
    assert check_nrp(inst, result.roster).ok


def test_work_limit_on_one_worker_gives_the_same_roster_twice() -> None:
    # Instance3 at 2 work units: the first phase and about fifteen LNS sub-solves, ~3.5 s a run.
    inst = read_curtois(FOLDER / "Instance3.ros")
    runs = [
        solve_nrp(inst, time_limit_s=60, seed=0, num_workers=1, work_limit=2.0) for _ in range(2)
    ]
    first, second = runs
    assert first.roster == second.roster
    assert first.penalty == second.penalty
    assert first.work_done == second.work_done
    assert not first.wall_capped
    assert first.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    assert check_nrp(inst, first.roster).ok
