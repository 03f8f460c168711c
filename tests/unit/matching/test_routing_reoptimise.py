"""Re-optimisation keeps promised requests inside their promised windows."""

from __future__ import annotations

import pytest

from matching.route_check import check_routes
from matching.routing import (
    InvalidProblem,
    Node,
    Promise,
    Request,
    RoutingProblem,
    RoutingResult,
    Vehicle,
    reoptimise,
    solve,
)
from tests.unit.matching._routing_helpers import line_problem


def _times(result: object, request: str) -> tuple[float, float]:
    visits = [v for r in result.routes for v in r.visits if v.request == request]  # type: ignore[attr-defined]
    pick = next(v.service_start for v in visits if v.kind == "pickup")
    drop = next(v.service_start for v in visits if v.kind == "dropoff")
    return pick, drop


def test_adding_a_request_keeps_promises() -> None:
    problem = line_problem([("A", 1.0, 5.0), ("B", 2.0, 6.0)], vehicles=2, capacity=2)
    current = solve(problem, time_limit=0.5)
    assert current.complete
    promised = {
        rid: Promise(rid, pickup=(p - 1.0, p + 1.0), dropoff=(d - 1.0, d + 1.0))
        for rid in ("A", "B")
        for p, d in [_times(current, rid)]
    }
    # The new rider sits right on A's and B's way: serving them could tempt a detour.
    new_nodes = (Node(101, 3.0, 1.0), Node(102, 4.0, 1.0))
    added = (Request("C", 101, 102),)
    result = reoptimise(
        problem, current, added=added, added_nodes=new_nodes, promised=promised, time_limit=0.5
    )
    assert result.complete
    assert {rid for r in result.routes for rid in r.requests} == {"A", "B", "C"}
    for rid, promise in promised.items():
        pick, drop = _times(result, rid)
        assert promise.pickup is not None
        assert promise.dropoff is not None
        assert promise.pickup[0] - 1e-9 <= pick <= promise.pickup[1] + 1e-9
        assert promise.dropoff[0] - 1e-9 <= drop <= promise.dropoff[1] + 1e-9


def test_new_request_that_breaks_a_promise_is_unserved_not_the_promise() -> None:
    problem = line_problem([("A", 1.0, 2.0)], vehicles=1)
    current = solve(problem, time_limit=0.5)
    pick, drop = _times(current, "A")
    promised = {"A": Promise("A", pickup=(pick, pick + 0.5), dropoff=(drop, drop + 0.5))}
    # C must be picked far away at the very moment A is promised: one vehicle cannot do both.
    new_nodes = (
        Node(101, -40.0, 0.0, 0.0, max(0.0, pick - 0.2), pick + 0.5),
        Node(102, -41.0, 0.0),
    )
    result = reoptimise(
        problem,
        current,
        added=(Request("C", 101, 102),),
        added_nodes=new_nodes,
        promised=promised,
        time_limit=0.5,
        drop_penalty=1000.0,
    )
    assert [u.request for u in result.unserved] == ["C"]
    got_pick, _ = _times(result, "A")
    assert pick - 1e-9 <= got_pick <= pick + 0.5 + 1e-9


def test_a_promise_given_to_an_added_request_is_kept() -> None:
    problem = line_problem([("A", 1.0, 2.0)], vehicles=1)
    current = solve(problem, time_limit=0.5, solution_limit=20)
    # C could be picked up at once (its stops lie on A's way); the dispatcher promised 50-55.
    added = (Request("C", 101, 102),)
    new_nodes = (Node(101, 3.0, 0.0), Node(102, 4.0, 0.0))
    result = reoptimise(
        problem,
        current,
        added=added,
        added_nodes=new_nodes,
        promised={"C": Promise("C", pickup=(50.0, 55.0))},
        time_limit=0.5,
        solution_limit=20,
    )
    assert result.complete
    pick, _ = _times(result, "C")
    assert 50.0 - 1e-9 <= pick <= 55.0 + 1e-9


def test_cancelling_removes_the_request() -> None:
    problem = line_problem([("A", 1.0, 5.0), ("B", 2.0, 6.0), ("C", -3.0, -4.0)], vehicles=2)
    current = solve(problem, time_limit=0.5)
    result = reoptimise(problem, current, cancelled=["C"], time_limit=0.5)
    assert result.complete
    served = {rid for r in result.routes for rid in r.requests}
    assert served == {"A", "B"}
    assert result.cost < current.cost
    new_problem_nodes = {v.node for r in result.routes for v in r.visits}
    assert not new_problem_nodes & {5, 6}  # C's stops


def test_reoptimised_plan_passes_the_checker() -> None:
    problem = line_problem([("A", 1.0, 5.0), ("B", 2.0, 6.0)], vehicles=2, ride={"A": 6.0})
    current = solve(problem, time_limit=0.5)
    new_nodes = (Node(101, 3.0, 0.0), Node(102, 7.0, 0.0))
    result = reoptimise(
        problem, current, added=(Request("C", 101, 102),), added_nodes=new_nodes, time_limit=0.5
    )
    new_problem = RoutingProblem(
        (*problem.nodes, *new_nodes), (*problem.requests, Request("C", 101, 102)), problem.vehicles
    )
    assert check_routes(new_problem, result.routes).feasible


def test_cancelling_an_unknown_request_is_invalid() -> None:
    problem = line_problem([("A", 1.0, 2.0)])
    current = solve(problem, time_limit=0.2)
    with pytest.raises(InvalidProblem, match="Z"):
        reoptimise(problem, current, cancelled=["Z"], time_limit=0.2)


def _matrix_problem() -> tuple[RoutingProblem, list[list[float]]]:
    """Every node at the same coordinates, so only the matrix gives travel times: a solver that
    fell back on coordinates would schedule with zero travel and fail the checker."""
    # node ids 0 (depot), 1 -> 2 (A), 3 -> 4 (B); positions are the same as the ids
    times = [
        [0.0, 4.0, 9.0, 5.0, 8.0],
        [4.0, 0.0, 6.0, 2.0, 7.0],
        [9.0, 6.0, 0.0, 7.0, 3.0],
        [5.0, 2.0, 7.0, 0.0, 6.0],
        [8.0, 7.0, 3.0, 6.0, 0.0],
    ]
    nodes = (Node(0, 0.0, 0.0, 0.0, 0.0, 200.0), *(Node(i, 0.0, 0.0, 1.0) for i in range(1, 5)))
    requests = (Request("A", 1, 2, max_ride_time=20.0), Request("B", 3, 4, max_ride_time=20.0))
    problem = RoutingProblem(
        nodes,
        requests,
        (Vehicle("van", 0, 0, 4),),
        tuple(tuple(row) for row in times),
    )
    return problem, times


# Times from and to the added stops 5 and 6 (request C), over nodes 0..6.
C_ROWS = [
    [6.0, 3.0, 5.0, 2.0, 6.0, 0.0, 4.0],
    [7.0, 6.0, 2.0, 5.0, 2.0, 4.0, 0.0],
]


def _extended(times: list[list[float]], new_rows: list[list[float]]) -> list[list[float]]:
    """`times` grown by the added stops: their rows as given, their columns the same."""
    grown = [row + [new[i] for new in new_rows] for i, row in enumerate(times)]
    return grown + new_rows


def _priced(matrix: list[list[float]], result: RoutingResult) -> float:
    """The plan's length priced leg by leg with `matrix` (node ids are positions here)."""
    return sum(
        matrix[a.node][b.node]
        for route in result.routes
        for a, b in zip(route.visits, route.visits[1:], strict=False)
    )


def test_adding_stops_to_a_problem_with_a_travel_matrix_uses_the_callers_times() -> None:
    problem, times = _matrix_problem()
    current = solve(problem, time_limit=0.5, solution_limit=50)
    assert current.complete
    matrix = _extended(times, C_ROWS)
    added_nodes = (Node(5, 0.0, 0.0, 1.0), Node(6, 0.0, 0.0, 1.0))
    added = (Request("C", 5, 6, max_ride_time=20.0),)
    result = reoptimise(
        problem,
        current,
        added=added,
        added_nodes=added_nodes,
        travel_times=matrix,
        time_limit=0.5,
        solution_limit=50,
    )
    assert result.complete
    new_problem = RoutingProblem(
        (*problem.nodes, *added_nodes),
        (*problem.requests, *added),
        problem.vehicles,
        tuple(tuple(row) for row in matrix),
    )
    report = check_routes(new_problem, result.routes)
    assert report.feasible, report.violations
    assert result.distance == pytest.approx(_priced(matrix, result))


def test_cancelling_and_adding_with_a_matrix_cuts_the_cancelled_stops_out() -> None:
    problem, times = _matrix_problem()
    current = solve(problem, time_limit=0.5, solution_limit=50)
    matrix = _extended(times, C_ROWS)
    added_nodes = (Node(5, 0.0, 0.0, 1.0), Node(6, 0.0, 0.0, 1.0))
    result = reoptimise(
        problem,
        current,
        added=(Request("C", 5, 6),),
        added_nodes=added_nodes,
        cancelled=["B"],
        travel_times=matrix,
        time_limit=0.5,
        solution_limit=50,
    )
    assert result.complete
    visited = [v.node for route in result.routes for v in route.visits]
    assert {1, 2, 5, 6} <= set(visited)
    assert not {3, 4} & set(visited)  # B's stops
    # priced with the caller's times, B's rows and columns cut out
    assert result.distance == pytest.approx(_priced(matrix, result))


def test_adding_stops_to_a_matrix_problem_without_their_times_is_refused() -> None:
    problem, times = _matrix_problem()
    current = solve(problem, time_limit=0.2, solution_limit=10)
    added_nodes = (Node(5, 0.0, 0.0), Node(6, 0.0, 0.0))
    with pytest.raises(InvalidProblem, match="travel_times: the problem has a travel-time matrix"):
        reoptimise(
            problem,
            current,
            added=(Request("C", 5, 6),),
            added_nodes=added_nodes,
            time_limit=0.2,
        )
    with pytest.raises(InvalidProblem, match="must be a 7x7 matrix"):
        reoptimise(
            problem,
            current,
            added=(Request("C", 5, 6),),
            added_nodes=added_nodes,
            travel_times=times,  # the old 5x5 one
            time_limit=0.2,
        )
