"""Reader for the Cordeau (2006) dial-a-ride files.

Line 1: `K n T Q L` (vehicles, requests, max route duration, capacity, max ride time); then 2n+2
lines `i x y d q e l`. Node 0 is the start depot, 1..n pickups, n+i the drop-off of request i,
2n+1 the end depot.
"""

from __future__ import annotations

from pathlib import Path

from matching.routing.problem import Node, Request, RoutingProblem, Vehicle
from matching.status import InvalidProblem


def read_cordeau(path: Path | str, *, vehicle_fixed_cost: float = 0.0) -> RoutingProblem:
    """Read a Cordeau DARP file (CRLF or LF) into a RoutingProblem named after the file."""
    path = Path(path)
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows or len(rows[0]) < 5:
        raise InvalidProblem(f"{path.name}: first line must be 'K n T Q L'")
    k, n = int(rows[0][0]), int(rows[0][1])
    max_duration, capacity, max_ride = float(rows[0][2]), int(rows[0][3]), float(rows[0][4])
    if len(rows) - 1 < 2 * n + 2:
        raise InvalidProblem(f"{path.name}: expected {2 * n + 2} node lines, got {len(rows) - 1}")
    nodes: list[Node] = []
    loads: dict[int, int] = {}
    for row in rows[1 : 2 * n + 3]:
        i = int(row[0])
        x, y, service = float(row[1]), float(row[2]), float(row[3])
        loads[i] = int(row[4])
        nodes.append(Node(i, x, y, service, float(row[5]), float(row[6])))
    requests = tuple(
        Request(str(i), pickup=i, dropoff=n + i, load=loads[i], max_ride_time=max_ride)
        for i in range(1, n + 1)
    )
    vehicles = tuple(
        Vehicle(f"v{v}", 0, 2 * n + 1, capacity, max_duration, vehicle_fixed_cost) for v in range(k)
    )
    return RoutingProblem(tuple(nodes), requests, vehicles, name=path.stem)
