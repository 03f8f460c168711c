"""The dial-a-ride (ride-time limit) search settings: bandit operator selection and the close-nodes
LNS operator only with ride-time limits, the long run's first heuristic by seed, and a
solution-limited dial-a-ride solve still the same twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ortools.constraint_solver import routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_TRUE

from matching.route_check import check_routes
from matching.routing import search, solve
from matching.routing.search import (
    FIRST_SOLUTIONS,
    RIDE_LIMITED_FIRST_SOLUTIONS,
    SearchOptions,
    search_parameters,
)
from tests.unit.matching._routing_helpers import line_problem

if TYPE_CHECKING:
    import pytest

STOPS = [(c, float(k + 1), float(k + 4)) for k, c in enumerate("ABCDEF")]


def test_bandit_operators_only_with_ride_limits() -> None:
    search = SearchOptions()
    plain = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, search, None)
    ride = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, search, None, ride_limits=True)
    assert not plain.use_multi_armed_bandit_concatenate_operators  # type: ignore[attr-defined]
    assert ride.use_multi_armed_bandit_concatenate_operators  # type: ignore[attr-defined]
    off = SearchOptions(bandit_operators_with_ride_limits=False)
    ride_off = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, off, None, ride_limits=True)
    assert not ride_off.use_multi_armed_bandit_concatenate_operators  # type: ignore[attr-defined]


def test_close_nodes_lns_only_with_ride_limits() -> None:
    search = SearchOptions()
    plain = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, search, None)
    ride = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, search, None, ride_limits=True)
    off = SearchOptions(close_nodes_lns_with_ride_limits=False)
    ride_off = search_parameters(1.0, FIRST_SOLUTIONS[0], 0.1, off, None, ride_limits=True)

    def close_nodes_lns(params: Any) -> bool:
        return bool(
            params.local_search_operators.use_local_cheapest_insertion_close_nodes_lns == BOOL_TRUE
        )

    assert not close_nodes_lns(plain)
    assert close_nodes_lns(ride)
    assert not close_nodes_lns(ride_off)


def test_ride_limited_solve_same_twice_under_solution_limit() -> None:
    problem = line_problem(
        STOPS, capacity=2, vehicles=2, service=1.0, ride={c: 6.0 for c, _, _ in STOPS}
    )
    a = solve(problem, time_limit=20.0, seed=1, solution_limit=40)
    b = solve(problem, time_limit=20.0, seed=1, solution_limit=40)
    assert a.status.has_solution
    assert a.unserved == ()
    assert check_routes(problem, a.routes).feasible
    assert a.routes == b.routes
    assert a.cost == b.cost


def test_the_long_dial_a_ride_run_never_starts_from_local_cheapest_cost_insertion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = line_problem(STOPS, capacity=2, vehicles=2, ride={c: 6.0 for c, _, _ in STOPS})
    firsts: list[int] = []
    real = search.search_parameters

    def recording(time_limit: float, first: int, *args: Any, **kwargs: Any) -> object:
        firsts.append(first)
        return real(time_limit, first, *args, **kwargs)

    monkeypatch.setattr(search, "search_parameters", recording)
    started: dict[int, int] = {}
    for seed in range(6):
        firsts.clear()
        solve(problem, time_limit=5.0, seed=seed, solution_limit=5)
        started[seed] = firsts[0]  # the long run; the continuation comes after it
    fss = routing_enums_pb2.FirstSolutionStrategy
    assert started[0] == fss.PARALLEL_CHEAPEST_INSERTION
    assert set(started.values()) == set(RIDE_LIMITED_FIRST_SOLUTIONS)
    assert fss.LOCAL_CHEAPEST_COST_INSERTION not in started.values()
