"""Property: on random small instances the independent checker accepts every solver answer."""

from __future__ import annotations

import functools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.route_check import check_routes
from matching.routing import Node, Request, RoutingProblem, Vehicle, solve


def _ride_limit(direct: float, factor: float) -> float:
    """A maximum ride time: `factor` times the direct trip, plus a minute."""
    return direct * factor + 1.0


@st.composite
def problems(draw: st.DrawFn) -> RoutingProblem:
    n = draw(st.integers(1, 6))
    coord = st.floats(-20, 20, allow_nan=False).map(lambda v: round(v, 3))
    nodes = [Node(0, 0.0, 0.0, 0.0, 0.0, 500.0)]
    requests = []
    capacity = draw(st.integers(1, 4))
    for k in range(n):
        px, py, dx, dy = draw(coord), draw(coord), draw(coord), draw(coord)
        service = draw(st.sampled_from([0.0, 1.0, 2.5]))
        start = draw(st.floats(0, 200, allow_nan=False))
        width = draw(st.floats(5, 300, allow_nan=False))
        direct = math.hypot(px - dx, py - dy)
        pick = Node(2 * k + 1, px, py, service, start, start + width)
        drop = Node(2 * k + 2, dx, dy, service, 0.0, start + width + direct + 60.0)
        ride = draw(st.none() | st.floats(1.0, 3.0).map(functools.partial(_ride_limit, direct)))
        nodes += [pick, drop]
        requests.append(Request(f"r{k}", pick.id, drop.id, draw(st.integers(1, capacity)), ride))
    vehicles = tuple(
        Vehicle(f"v{v}", 0, 0, capacity, draw(st.none() | st.just(400.0)), draw(st.just(0.0)))
        for v in range(draw(st.integers(1, 3)))
    )
    return RoutingProblem(tuple(nodes), tuple(requests), vehicles)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_checker_accepts_every_solver_answer(problem: RoutingProblem) -> None:
    result = solve(problem, time_limit=0.3, drop_penalty=10_000.0)
    assert result.status.has_solution
    report = check_routes(
        problem,
        result.routes,
        reported_unserved=[u.request for u in result.unserved],
        allow_unserved=True,
    )
    assert report.feasible, report.violations
    assert math.isclose(report.cost, result.cost, abs_tol=1e-6)
    assert report.vehicles_used == result.vehicles_used
