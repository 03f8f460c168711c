"""The independent checker rejects hand-made bad routes with the right rule."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from matching.route_check import Rule, check_routes
from matching.routing import Node, Request, RoutingProblem, Vehicle


@dataclass(frozen=True)
class V:
    node: int
    service_start: float


@dataclass(frozen=True)
class R:
    vehicle: str
    visits: tuple[V, ...]


def _problem(**vehicle: object) -> RoutingProblem:
    nodes = (
        Node(0, 0, 0, 0, 0, 100),
        Node(1, 3, 0, 1, 0, 100),
        Node(2, 6, 0, 1, 0, 100),
        Node(3, 4, 0, 1, 0, 100),
        Node(4, 5, 0, 1, 0, 100),
    )
    requests = (Request("A", 1, 2, 1, 10.0), Request("B", 3, 4, 1, 10.0))
    kw: dict[str, object] = {"capacity": 2, "max_duration": 50.0, "fixed_cost": 7.0} | vehicle
    fleet = (Vehicle("v0", 0, 0, **kw), Vehicle("v1", 0, 0, **kw))  # type: ignore[arg-type]
    return RoutingProblem(nodes, requests, fleet)


GOOD = R("v0", (V(0, 0), V(1, 3), V(3, 5), V(4, 7), V(2, 9), V(0, 16)))


def test_good_route_passes_and_cost_is_recomputed() -> None:
    report = check_routes(_problem(), [GOOD])
    assert report.feasible, report.violations
    assert report.distance == pytest.approx(12.0)
    assert report.cost == pytest.approx(19.0)
    assert report.served == ("A", "B")
    assert report.vehicles_used == 1


@pytest.mark.parametrize(
    ("routes", "rule"),
    [
        # service at node 3 before the vehicle can get there from node 1 (3 + 1 + 1 = 5)
        ([R("v0", (V(0, 0), V(1, 3), V(3, 4.5), V(4, 7), V(2, 9), V(0, 16)))], Rule.TRAVEL_TIME),
        # drop-off of A before its pickup
        ([R("v0", (V(0, 0), V(2, 6), V(1, 10), V(3, 12), V(4, 14), V(0, 20)))], Rule.PRECEDENCE),
        # A picked up by v0, dropped by v1
        (
            [
                R("v0", (V(0, 0), V(1, 3), V(3, 5), V(4, 7), V(0, 13))),
                R("v1", (V(0, 0), V(2, 6), V(0, 13))),
            ],
            Rule.PAIRING,
        ),
        # B never served
        ([R("v0", (V(0, 0), V(1, 3), V(2, 7), V(0, 14)))], Rule.UNSERVED),
        # a node twice
        (
            [R("v0", (V(0, 0), V(1, 3), V(1, 5), V(3, 7), V(4, 9), V(2, 11), V(0, 20)))],
            Rule.DUPLICATE_VISIT,
        ),
        # wrong depot
        ([R("v0", (V(1, 3), V(3, 5), V(4, 7), V(2, 9), V(0, 16)))], Rule.DEPOT),
        # unknown vehicle
        ([R("bus", GOOD.visits)], Rule.UNKNOWN_VEHICLE),
        # unknown node
        ([R("v0", (V(0, 0), V(99, 3), V(0, 9)))], Rule.UNKNOWN_NODE),
        # same vehicle twice
        ([GOOD, GOOD], Rule.VEHICLE_COUNT),
    ],
)
def test_bad_routes_are_rejected_with_the_rule(routes: list[R], rule: Rule) -> None:
    report = check_routes(_problem(), routes)
    assert not report.feasible
    assert rule in report.rules(), report.violations


def test_time_window_violation() -> None:
    nodes = (Node(0, 0, 0), Node(1, 1, 0, 0, 5, 6), Node(2, 2, 0))
    problem = RoutingProblem(nodes, (Request("A", 1, 2),), (Vehicle("v", 0, 0, 1),))
    late = R("v", (V(0, 0), V(1, 7), V(2, 8), V(0, 10)))
    report = check_routes(problem, [late])
    assert report.rules() == {Rule.TIME_WINDOW}
    assert report.violations[0].request == "A"


def test_capacity_violation() -> None:
    report = check_routes(_problem(capacity=1), [GOOD])
    assert report.rules() == {Rule.CAPACITY}


def test_ride_time_violation_found_with_waiting() -> None:
    # A picked up at 3, waits long before the drop-off: ride = 30 - (3 + 1) = 26 > 10.
    slow = R("v0", (V(0, 0), V(1, 3), V(3, 5), V(4, 7), V(2, 30), V(0, 40)))
    report = check_routes(_problem(), [slow])
    assert report.rules() == {Rule.RIDE_TIME}


def test_route_duration_violation() -> None:
    long_day = R("v0", (V(0, 0), V(1, 3), V(3, 5), V(4, 7), V(2, 9), V(0, 60)))
    report = check_routes(_problem(), [long_day])
    assert report.rules() == {Rule.ROUTE_DURATION}


def test_too_many_routes_for_the_fleet() -> None:
    nodes = (Node(0, 0, 0), Node(1, 1, 0), Node(2, 2, 0), Node(3, 1, 1), Node(4, 2, 1))
    problem = RoutingProblem(
        nodes, (Request("A", 1, 2), Request("B", 3, 4)), (Vehicle("v", 0, 0, 1),)
    )
    routes = [
        R("v", (V(0, 0), V(1, 1), V(2, 2), V(0, 4))),
        R("v", (V(0, 0), V(3, 2), V(4, 3), V(0, 6))),
    ]
    assert Rule.VEHICLE_COUNT in check_routes(problem, routes).rules()


def test_unserved_allowed_but_must_be_reported() -> None:
    partial = [R("v0", (V(0, 0), V(1, 3), V(2, 7), V(0, 14)))]
    ok = check_routes(_problem(), partial, reported_unserved=["B"], allow_unserved=True)
    assert ok.feasible
    assert ok.unserved == ("B",)
    wrong = check_routes(_problem(), partial, reported_unserved=[], allow_unserved=True)
    assert wrong.rules() == {Rule.MISREPORTED}


def test_real_arithmetic_catches_a_rounded_down_travel_time() -> None:
    # Travel 0 -> 1 is sqrt(2) = 1.41421...; starting service at 1.414 is too early.
    nodes = (Node(0, 0, 0), Node(1, 1, 1), Node(2, 2, 2))
    problem = RoutingProblem(nodes, (Request("A", 1, 2),), (Vehicle("v", 0, 0, 1),))
    early = R("v", (V(0, 0), V(1, 1.414), V(2, 2.9), V(0, 6)))
    assert check_routes(problem, [early]).rules() == {Rule.TRAVEL_TIME}
