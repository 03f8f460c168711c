"""Bad input raises InvalidProblem naming the item and the rule."""

from __future__ import annotations

import math

import pytest

from matching.routing import InvalidProblem, Node, Request, RoutingProblem, Vehicle, solve

DEPOT = Node(0, 0, 0)
FLEET = (Vehicle("v0", 0, 0, 3),)


def _nodes(*extra: Node) -> tuple[Node, ...]:
    return (DEPOT, Node(1, 1, 0), Node(2, 2, 0), *extra)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: RoutingProblem(
                (DEPOT, Node(1, 0, 0, 0, 10, 20), Node(2, 10, 0, 0, 0, 15)),
                (Request("R1", 1, 2),),
                FLEET,
            ),
            r"request R1: drop-off window closes",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2),), (Vehicle("v0", 0, 0, -1),)),
            r"vehicle v0: capacity -1",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2, load=4),), FLEET),
            r"request R1: load 4 exceeds",
        ),
        (
            lambda: RoutingProblem(
                (DEPOT, Node(1, 1, 0, 0, 5, 4), Node(2, 2, 0)), (Request("R1", 1, 2),), FLEET
            ),
            r"node 1: window end",
        ),
        (
            lambda: RoutingProblem(
                (DEPOT, Node(1, 1, 0, -1.0), Node(2, 2, 0)), (Request("R1", 1, 2),), FLEET
            ),
            r"node 1: service time",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 7),), FLEET),
            r"request R1: dropoff node 7 is not a known node",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2),), (Vehicle("v0", 0, 9, 3),)),
            r"vehicle v0: end node 9",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2, max_ride_time=0.5),), FLEET),
            r"request R1: max_ride_time",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2, max_ride_time=math.nan),), FLEET),
            r"request R1: max_ride_time nan must be finite \(None means no limit\)",
        ),
        (
            lambda: RoutingProblem(
                (DEPOT, Node(1, 1, 0, latest=math.nan), Node(2, 2, 0)),
                (Request("R1", 1, 2),),
                FLEET,
            ),
            r"node 1: window end is NaN",
        ),
        (
            lambda: RoutingProblem(
                _nodes(), (Request("R1", 1, 2),), (Vehicle("v0", 0, 0, 3, max_duration=math.inf),)
            ),
            r"vehicle v0: max_duration inf must be finite",
        ),
        (
            lambda: RoutingProblem(
                _nodes(), (Request("R1", 1, 2),), (Vehicle("v0", 0, 0, 3, max_duration=math.nan),)
            ),
            r"vehicle v0: max_duration nan must be finite",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 2), Request("R1", 2, 1)), FLEET),
            r"request R1: request ids must be unique",
        ),
        (
            lambda: RoutingProblem(_nodes(), (Request("R1", 1, 0),), FLEET),
            r"request R1: dropoff node 0 is a vehicle depot",
        ),
        (
            lambda: RoutingProblem(
                _nodes(), (Request("R1", 1, 2),), FLEET, travel_times=((0.0, 1.0),)
            ),
            r"travel_times must be a 3x3 matrix",
        ),
    ],
)
def test_invalid_problem(build: object, match: str) -> None:
    with pytest.raises(InvalidProblem, match=match):
        build()  # type: ignore[operator]


def test_bad_solver_arguments() -> None:
    problem = RoutingProblem(_nodes(), (Request("R1", 1, 2),), FLEET)
    with pytest.raises(InvalidProblem, match="time_limit"):
        solve(problem, time_limit=0)
    with pytest.raises(InvalidProblem, match="drop_penalty"):
        solve(problem, time_limit=1, drop_penalty=-1)
