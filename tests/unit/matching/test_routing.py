"""One test per constraint: each instance is built so that breaking the constraint would be
cheaper, and the test asserts the solver does not (and that the cheaper plan exists without it)."""

from __future__ import annotations

import math

import pytest

from matching.route_check import check_routes
from matching.routing import (
    Node,
    Request,
    RoutingProblem,
    RoutingResult,
    SolveStatus,
    Vehicle,
    solve,
)
from matching.routing.model import ModelOptions
from matching.routing.phases import eliminate_routes
from matching.routing.search import Best, SearchOptions
from tests.unit.matching._routing_helpers import line_problem

LIMIT = 1.0  # seconds; every instance here is solved to optimality well within it


def _solve(problem: RoutingProblem, **kw: object) -> RoutingResult:
    result = solve(problem, time_limit=LIMIT, seed=0, **kw)  # type: ignore[arg-type]
    assert result.status.has_solution
    report = check_routes(
        problem,
        result.routes,
        reported_unserved=[u.request for u in result.unserved],
        allow_unserved="drop_penalty" in kw,
    )
    assert report.feasible, report.violations
    assert report.cost == pytest.approx(result.cost)
    return result


def _order(result: RoutingResult) -> list[str]:
    return [
        f"{v.kind[0]}{v.request}" for r in result.routes for v in r.visits if v.request is not None
    ]


def test_time_windows_force_a_costlier_order() -> None:
    stops = [("A", 1.0, 2.0), ("B", 3.0, 4.0)]
    free = _solve(line_problem(stops))
    assert free.cost == pytest.approx(8.0)
    # A may only be picked up late and B must be dropped early: B must go first.
    tight = _solve(line_problem(stops, windows={1.0: (10.0, 11.0), 4.0: (0.0, 5.0)}))
    assert tight.cost == pytest.approx(10.0)
    assert _order(tight)[:2] == ["pB", "dB"]
    pick_a = next(
        v for r in tight.routes for v in r.visits if v.kind == "pickup" and v.request == "A"
    )
    assert 10.0 - 1e-9 <= pick_a.service_start <= 11.0 + 1e-9


def test_capacity_forbids_carrying_two() -> None:
    stops = [("A", 1.0, 3.0), ("B", 2.0, 4.0)]
    assert _solve(line_problem(stops, capacity=2)).cost == pytest.approx(8.0)
    one_seat = _solve(line_problem(stops, capacity=1))
    assert one_seat.cost == pytest.approx(10.0)
    assert max(v.load_after for r in one_seat.routes for v in r.visits) == 1


def test_loads_larger_than_one_count_against_capacity() -> None:
    stops = [("A", 1.0, 3.0), ("B", 2.0, 4.0)]
    result = _solve(line_problem(stops, capacity=3, loads={"A": 2, "B": 2}))
    assert result.cost == pytest.approx(10.0)


def _precedence_problem() -> RoutingProblem:
    nodes = (
        Node(0, 0, 0, 0, 0, 1000),
        Node(1, 10, 0),
        Node(2, 0, 1),  # A: (10,0) -> (0,1)
        Node(3, 0, 2),
        Node(4, 10, 1),  # B: (0,2) -> (10,1)
    )
    requests = (Request("A", 1, 2), Request("B", 3, 4))
    return RoutingProblem(nodes, requests, (Vehicle("v0", 0, 0, 5),))


def test_precedence_pickup_before_dropoff() -> None:
    # Visiting (0,1) (A's drop-off) first would give 23.05; respecting precedence costs ~24.1.
    result = _solve(_precedence_problem())
    best_with_precedence = 2 + math.hypot(10, 1) + 1 + math.hypot(10, 1) + 1
    assert result.cost == pytest.approx(best_with_precedence)
    order = _order(result)
    assert order.index("pA") < order.index("dA")
    assert order.index("pB") < order.index("dB")


def test_pairing_same_vehicle_even_when_splitting_is_cheaper() -> None:
    # Two depots 20 apart; pickup next to one, drop-off next to the other.
    nodes = (Node(0, 0, 0), Node(9, 20, 0), Node(1, 1, 0), Node(2, 19, 0))
    vehicles = (Vehicle("west", 0, 0, 1), Vehicle("east", 9, 9, 1))
    problem = RoutingProblem(nodes, (Request("A", 1, 2),), vehicles)
    result = _solve(problem)
    assert result.vehicles_used == 1
    assert result.cost == pytest.approx(38.0)  # split would be 4


def test_max_ride_time_forbids_pooling_detour() -> None:
    stops = [("A", 1.0, 4.0), ("B", 2.0, 3.0)]
    pooled = _solve(line_problem(stops, service=5.0))
    assert pooled.cost == pytest.approx(8.0)  # B rides inside A's trip: A rides 13
    limited = _solve(line_problem(stops, service=5.0, ride={"A": 5.0}))
    assert limited.cost == pytest.approx(10.0)
    for route in limited.routes:
        starts = {(v.kind, v.request): v.service_start for v in route.visits}
        if ("pickup", "A") in starts:
            assert starts[("dropoff", "A")] - starts[("pickup", "A")] - 5.0 <= 5.0 + 1e-9


def test_route_duration_splits_the_work() -> None:
    stops = [("A", 1.0, 2.0), ("B", -1.0, -2.0)]
    kw = {"vehicles": 2, "fixed_cost": 1.0, "service": 10.0}
    assert _solve(line_problem(stops, **kw)).vehicles_used == 1  # type: ignore[arg-type]
    split = _solve(line_problem(stops, max_duration=30.0, **kw))  # type: ignore[arg-type]
    assert split.vehicles_used == 2
    assert all(r.duration <= 30.0 + 1e-9 for r in split.routes)


def test_fixed_vehicle_cost_means_fewer_vehicles() -> None:
    nodes = (
        Node(0, 0, 0),
        Node(9, 20, 0),
        Node(1, 1, 0),
        Node(2, 2, 0),
        Node(3, 18, 0),
        Node(4, 19, 0),
    )
    requests = (Request("A", 1, 2), Request("B", 3, 4))

    def fleet(fixed: float) -> tuple[Vehicle, ...]:
        return (Vehicle("west", 0, 0, 2, None, fixed), Vehicle("east", 9, 9, 2, None, fixed))

    two = _solve(RoutingProblem(nodes, requests, fleet(0.0)))
    assert two.vehicles_used == 2
    assert two.distance == pytest.approx(8.0)
    one = _solve(RoutingProblem(nodes, requests, fleet(100.0)))
    assert one.vehicles_used == 1
    assert one.cost == pytest.approx(one.distance + 100.0)


def test_unservable_request_is_dropped_only_when_allowed() -> None:
    # Request B's drop-off window is unreachable from the depot in time.
    problem = line_problem([("A", 1.0, 2.0), ("B", 50.0, 60.0)], windows={50.0: (0.0, 5.0)})
    strict = solve(problem, time_limit=LIMIT)
    assert strict.status is SolveStatus.INFEASIBLE
    assert [u.request for u in strict.unserved] == ["B"]
    assert "alone" in strict.unserved[0].reason
    lenient = _solve(problem, drop_penalty=1000.0)
    assert lenient.status.has_solution
    assert [u.request for u in lenient.unserved] == ["B"]


def test_drop_penalty_trades_off_against_distance() -> None:
    problem = line_problem([("A", 1.0, 2.0), ("B", 30.0, 31.0)])
    cheap_drop = _solve(problem, drop_penalty=5.0)
    assert [u.request for u in cheap_drop.unserved] == ["B"]
    assert "penalty" in cheap_drop.unserved[0].reason
    dear_drop = _solve(problem, drop_penalty=500.0)
    assert dear_drop.unserved == ()


def test_same_seed_same_result() -> None:
    problem = line_problem(
        [(c, float(k + 1), float(k + 3)) for k, c in enumerate("ABCDE")], capacity=2, vehicles=2
    )
    a = solve(problem, time_limit=10.0, seed=3, solution_limit=30)
    b = solve(problem, time_limit=10.0, seed=3, solution_limit=30)
    assert a.routes == b.routes
    assert a.cost == b.cost


def _spread_plan(problem: RoutingProblem) -> Best:
    """A complete plan with every request on its own vehicle (what a weak first phase gives)."""
    routes = [[r.pickup, r.dropoff] for r in problem.requests]
    routes += [[] for _ in range(len(problem.vehicles) - len(routes))]
    return Best(0, 2 * len(problem.requests), routes, [], SolveStatus.FEASIBLE)


def test_route_elimination_merges_routes_when_one_vehicle_can_serve_all() -> None:
    problem = line_problem(
        [("A", 1.0, 2.0), ("B", 3.0, 4.0), ("C", 5.0, 6.0)], vehicles=3, fixed_cost=100.0
    )
    best = eliminate_routes(
        problem,
        ModelOptions(),
        _spread_plan(problem),
        time_limit=10.0,
        seed=0,
        search=SearchOptions(),
        solution_limit=50,
    )
    assert best.served == 6
    assert sum(1 for stops in best.routes if stops) == 1


def test_route_elimination_keeps_the_plan_when_windows_need_every_vehicle() -> None:
    # A and B must both be picked up around t = 40, 50 apart: one vehicle cannot do both.
    problem = line_problem(
        [("A", 10.0, 11.0), ("B", -40.0, -41.0)],
        vehicles=2,
        fixed_cost=100.0,
        windows={10.0: (40.0, 42.0), -40.0: (40.0, 42.0)},
    )
    start = _spread_plan(problem)
    best = eliminate_routes(
        problem,
        ModelOptions(),
        start,
        time_limit=10.0,
        seed=0,
        search=SearchOptions(),
        solution_limit=50,
    )
    assert best is start
    result = _solve(problem)
    assert result.vehicles_used == 2
    assert not result.unserved


def test_a_request_rides_only_in_a_vehicle_it_may_use_even_when_another_is_nearer() -> None:
    # Two depots 20 apart; the wheelchair user lives next to the car, the van is far.
    nodes = (
        Node(0, 0, 0),
        Node(9, 20, 0),
        Node(1, 1, 0),
        Node(2, 2, 0),
        Node(3, 3, 0),
        Node(4, 4, 0),
    )
    vehicles = (Vehicle("car", 0, 0, 4), Vehicle("van", 9, 9, 4))
    anyone = RoutingProblem(nodes, (Request("W", 1, 2), Request("A", 3, 4)), vehicles)
    assert {r.vehicle for r in _solve(anyone).routes if r.visits[1:-1]} == {"car"}

    limited = RoutingProblem(
        nodes,
        (Request("W", 1, 2, vehicles=frozenset({"van"})), Request("A", 3, 4)),
        vehicles,
    )
    result = _solve(limited)  # checked by route_check, which knows the rule too
    rides = {v.request: r.vehicle for r in result.routes for v in r.visits if v.request}
    assert rides["W"] == "van"  # A may ride either (the van passes by: it takes both)


def test_the_route_checker_finds_a_request_in_a_vehicle_it_may_not_use() -> None:
    nodes = (Node(0, 0, 0), Node(9, 20, 0), Node(1, 1, 0), Node(2, 2, 0))
    vehicles = (Vehicle("car", 0, 0, 4), Vehicle("van", 9, 9, 4))
    free = RoutingProblem(nodes, (Request("W", 1, 2),), vehicles)
    routes = _solve(free).routes  # the car takes W
    limited = RoutingProblem(nodes, (Request("W", 1, 2, vehicles=frozenset({"van"})),), vehicles)

    report = check_routes(limited, routes)

    assert not report.feasible
    assert [v.rule.value for v in report.violations] == ["vehicle_not_allowed"]


def test_a_request_naming_no_known_vehicle_is_refused() -> None:
    from matching.status import InvalidProblem

    nodes = (Node(0, 0, 0), Node(1, 1, 0), Node(2, 2, 0))
    for vehicles in (frozenset(), frozenset({"bus"})):
        with pytest.raises(InvalidProblem, match="vehicles must name"):
            RoutingProblem(
                nodes, (Request("W", 1, 2, vehicles=vehicles),), (Vehicle("car", 0, 0, 4),)
            )
