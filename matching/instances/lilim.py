"""Reader for the Li & Lim (2001) PDPTW files.

Line 1: `K Q S` (vehicles, capacity, speed); then one line per task
`i x y demand ready due service pickup delivery`; task 0 is the depot. A pickup has `pickup = 0`
and names its delivery; a delivery names its pickup.
"""

from __future__ import annotations

import math
from pathlib import Path

from matching.routing.problem import Node, Request, RoutingProblem, Vehicle
from matching.status import InvalidProblem


def lexicographic_fixed_cost(nodes: tuple[Node, ...]) -> float:
    """A per-vehicle cost larger than any distance a solution can have.

    Every route leaves each node at most once, so the sum over nodes of the longest arc out of
    it bounds any total distance; one vehicle fewer then always beats any distance saving, which
    is the (vehicles, distance) lexicographic order of the Li & Lim best-known values.
    """
    total = 0.0
    for a in nodes:
        total += max(math.hypot(a.x - b.x, a.y - b.y) for b in nodes)
    return float(math.ceil(total))


def read_lilim(path: Path | str, *, vehicle_fixed_cost: float | None = None) -> RoutingProblem:
    """Read a Li & Lim file (CRLF or LF). Vehicles start and end at task 0.

    `vehicle_fixed_cost` defaults to `lexicographic_fixed_cost`, so minimising cost minimises
    vehicles first and distance second.
    """
    path = Path(path)
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows or len(rows[0]) < 2:
        raise InvalidProblem(f"{path.name}: first line must be 'K Q S'")
    k, capacity = int(rows[0][0]), int(rows[0][1])
    nodes: list[Node] = []
    pairs: list[tuple[int, int, int]] = []
    for row in rows[1:]:
        if len(row) < 9:
            raise InvalidProblem(f"{path.name}: task line '{' '.join(row)}' needs 9 fields")
        i = int(row[0])
        nodes.append(
            Node(i, float(row[1]), float(row[2]), float(row[6]), float(row[4]), float(row[5]))
        )
        demand, pickup, delivery = int(row[3]), int(row[7]), int(row[8])
        if i != 0 and pickup == 0:
            if delivery == 0:
                raise InvalidProblem(f"{path.name}: task {i} is neither pickup nor delivery")
            pairs.append((i, delivery, demand))
    if not nodes or nodes[0].id != 0:
        raise InvalidProblem(f"{path.name}: the first task must be the depot 0")
    node_tuple = tuple(nodes)
    fixed = (
        lexicographic_fixed_cost(node_tuple) if vehicle_fixed_cost is None else vehicle_fixed_cost
    )
    requests = tuple(Request(str(p), pickup=p, dropoff=d, load=q) for p, d, q in pairs)
    vehicles = tuple(Vehicle(f"v{v}", 0, 0, capacity, None, fixed) for v in range(k))
    return RoutingProblem(node_tuple, requests, vehicles, name=path.stem)
