"""Small hand-made routing problems shared by the routing tests."""

from __future__ import annotations

from matching.routing import Node, Request, RoutingProblem, Vehicle


def line_problem(
    stops: list[tuple[str, float, float]],
    *,
    capacity: int = 10,
    vehicles: int = 1,
    max_duration: float | None = None,
    fixed_cost: float = 0.0,
    service: float = 0.0,
    windows: dict[float, tuple[float, float]] | None = None,
    ride: dict[str, float] | None = None,
    loads: dict[str, int] | None = None,
) -> RoutingProblem:
    """Depot at x=0; each request `(id, pickup_x, dropoff_x)` on the x axis.

    `windows` maps a stop's x position to its window; `ride` request id -> max ride time.
    """
    windows = windows or {}
    nodes = [Node(0, 0.0, 0.0, 0.0, 0.0, 1000.0)]
    requests = []
    for k, (rid, px, dx) in enumerate(stops):
        pid, did = 2 * k + 1, 2 * k + 2
        pw = windows.get(px, (0.0, 1000.0))
        dw = windows.get(dx, (0.0, 1000.0))
        nodes.append(Node(pid, px, 0.0, service, *pw))
        nodes.append(Node(did, dx, 0.0, service, *dw))
        load = (loads or {}).get(rid, 1)
        requests.append(Request(rid, pid, did, load, (ride or {}).get(rid)))
    fleet = tuple(
        Vehicle(f"v{v}", 0, 0, capacity, max_duration, fixed_cost) for v in range(vehicles)
    )
    return RoutingProblem(tuple(nodes), tuple(requests), fleet)
