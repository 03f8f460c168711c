"""Problem and result types for pickup-and-delivery routing (dial-a-ride, PDPTW).

All times and distances are real numbers in the caller's unit (minutes, say). Travel time equals
travel cost (distance at unit speed) unless a travel-time matrix is given, which is then both.
Everything is validated at construction so the solver never sees a problem it cannot state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from matching.status import InvalidProblem, SolveStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

# Stands in for "no closing time": a window that never closes still needs a finite end in the model.
OPEN = math.inf


@dataclass(frozen=True, slots=True)
class Node:
    """A place with a service duration and a window in which service must start."""

    id: int
    x: float
    y: float
    service: float = 0.0
    earliest: float = 0.0
    latest: float = OPEN


@dataclass(frozen=True, slots=True)
class Request:
    """Carry `load` seats from node `pickup` to node `dropoff`.

    `max_ride_time` bounds start of drop-off service minus (start of pickup service + pickup service
    duration), the Cordeau definition; None means unbounded. `vehicles` names the vehicles that
    may carry it (a wheelchair user: those with a wheelchair place); None means any.
    """

    id: str
    pickup: int
    dropoff: int
    load: int = 1
    max_ride_time: float | None = None
    vehicles: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle that leaves node `start` and must end at node `end`.

    `max_duration` bounds end-depot time minus start-depot time. `fixed_cost` is paid once if the
    vehicle serves anything, in distance units, so a large value makes fewer vehicles win.
    """

    id: str
    start: int
    end: int
    capacity: int
    max_duration: float | None = None
    fixed_cost: float = 0.0


@dataclass(frozen=True)
class RoutingProblem:
    """Nodes, the requests between them, the fleet, and optionally a travel-time matrix.

    `travel_times[i][j]` is indexed by position in `nodes`, not by node id; when None, travel
    time is the Euclidean distance between coordinates.
    """

    nodes: tuple[Node, ...]
    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    travel_times: tuple[tuple[float, ...], ...] | None = None
    name: str = ""
    _index: dict[int, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[int, int] = {}
        for pos, node in enumerate(self.nodes):
            if node.id in index:
                raise InvalidProblem(f"node {node.id}: node ids must be unique")
            index[node.id] = pos
        object.__setattr__(self, "_index", index)
        _validate(self)

    def position(self, node_id: int) -> int:
        """Position of `node_id` in `nodes` (and in the travel-time matrix)."""
        return self._index[node_id]

    def node(self, node_id: int) -> Node:
        return self.nodes[self._index[node_id]]

    def travel(self, a: int, b: int) -> float:
        """Travel time (= cost) from node id `a` to node id `b`."""
        i, j = self._index[a], self._index[b]
        if self.travel_times is not None:
            return self.travel_times[i][j]
        na, nb = self.nodes[i], self.nodes[j]
        return math.hypot(na.x - nb.x, na.y - nb.y)

    @cached_property
    def request_by_id(self) -> Mapping[str, Request]:
        return {r.id: r for r in self.requests}


def _validate(p: RoutingProblem) -> None:
    """Raise InvalidProblem naming the first broken rule."""
    for node in p.nodes:
        if not (math.isfinite(node.x) and math.isfinite(node.y)):
            raise InvalidProblem(f"node {node.id}: coordinates must be finite")
        if node.service < 0 or not math.isfinite(node.service):
            raise InvalidProblem(f"node {node.id}: service time must be finite and >= 0")
        if not math.isfinite(node.earliest) or node.earliest < 0:
            raise InvalidProblem(f"node {node.id}: window start must be finite and >= 0")
        if math.isnan(node.latest):
            raise InvalidProblem(f"node {node.id}: window end is NaN (OPEN means no closing time)")
        if node.latest < node.earliest:
            raise InvalidProblem(
                f"node {node.id}: window end {node.latest} is before window start {node.earliest}"
            )
    if p.travel_times is not None:
        n = len(p.nodes)
        if len(p.travel_times) != n or any(len(row) != n for row in p.travel_times):
            raise InvalidProblem(f"travel_times must be a {n}x{n} matrix (one row per node)")
        for i, row in enumerate(p.travel_times):
            for j, t in enumerate(row):
                if not math.isfinite(t) or t < 0:
                    raise InvalidProblem(
                        f"travel_times[{i}][{j}]: travel time must be finite and >= 0"
                    )
    if not p.vehicles:
        raise InvalidProblem("vehicles: at least one vehicle is needed")
    depots: set[int] = set()
    seen_vehicles: set[str] = set()
    for v in p.vehicles:
        if v.id in seen_vehicles:
            raise InvalidProblem(f"vehicle {v.id}: vehicle ids must be unique")
        seen_vehicles.add(v.id)
        for role, node_id in (("start", v.start), ("end", v.end)):
            if node_id not in p._index:
                raise InvalidProblem(f"vehicle {v.id}: {role} node {node_id} is not a known node")
            depots.add(node_id)
        if v.capacity < 0:
            raise InvalidProblem(f"vehicle {v.id}: capacity {v.capacity} must be >= 0")
        if v.max_duration is not None and not (
            math.isfinite(v.max_duration) and v.max_duration >= 0
        ):
            raise InvalidProblem(
                f"vehicle {v.id}: max_duration {v.max_duration} must be finite and >= 0 "
                "(None means no limit)"
            )
        if v.fixed_cost < 0 or not math.isfinite(v.fixed_cost):
            raise InvalidProblem(f"vehicle {v.id}: fixed_cost must be finite and >= 0")
    max_capacity = max(v.capacity for v in p.vehicles)
    used: dict[int, str] = {}
    seen_requests: set[str] = set()
    for r in p.requests:
        if r.id in seen_requests:
            raise InvalidProblem(f"request {r.id}: request ids must be unique")
        seen_requests.add(r.id)
        if r.vehicles is not None:
            unknown = sorted(r.vehicles - seen_vehicles)
            if not r.vehicles or unknown:
                raise InvalidProblem(
                    f"request {r.id}: vehicles must name at least one vehicle of the problem"
                    + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                )
        for role, node_id in (("pickup", r.pickup), ("dropoff", r.dropoff)):
            if node_id not in p._index:
                raise InvalidProblem(f"request {r.id}: {role} node {node_id} is not a known node")
            if node_id in depots:
                raise InvalidProblem(
                    f"request {r.id}: {role} node {node_id} is a vehicle depot; "
                    "give the stop its own node"
                )
            if node_id in used:
                raise InvalidProblem(
                    f"request {r.id}: {role} node {node_id} is already used by request "
                    f"{used[node_id]}; each stop belongs to one request"
                )
            used[node_id] = r.id
        if r.load < 0:
            raise InvalidProblem(f"request {r.id}: load {r.load} must be >= 0")
        if r.max_ride_time is not None and not math.isfinite(r.max_ride_time):
            raise InvalidProblem(
                f"request {r.id}: max_ride_time {r.max_ride_time} must be finite "
                "(None means no limit)"
            )
        if r.load > max_capacity:
            raise InvalidProblem(
                f"request {r.id}: load {r.load} exceeds the largest vehicle capacity {max_capacity}"
            )
        pick, drop = p.node(r.pickup), p.node(r.dropoff)
        direct = p.travel(r.pickup, r.dropoff)
        soonest_drop = pick.earliest + pick.service + direct
        if drop.latest < soonest_drop - 1e-9:
            raise InvalidProblem(
                f"request {r.id}: drop-off window closes at {drop.latest}, before the pickup "
                f"window opens ({pick.earliest}) plus service and travel ({soonest_drop:.3f})"
            )
        if r.max_ride_time is not None and r.max_ride_time < direct - 1e-9:
            raise InvalidProblem(
                f"request {r.id}: max_ride_time {r.max_ride_time} is shorter than the direct "
                f"travel time {direct:.3f}"
            )


VisitKind = Literal["start", "pickup", "dropoff", "end"]


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop: `arrival` at the node and `service_start` (>= arrival; the gap is waiting)."""

    node: int
    kind: VisitKind
    request: str | None
    arrival: float
    service_start: float
    load_after: int


@dataclass(frozen=True, slots=True)
class Route:
    """The ordered visits of one vehicle, start depot first and end depot last."""

    vehicle: str
    visits: tuple[Visit, ...]
    distance: float

    @property
    def duration(self) -> float:
        return self.visits[-1].service_start - self.visits[0].service_start

    @property
    def requests(self) -> tuple[str, ...]:
        return tuple(v.request for v in self.visits if v.kind == "pickup" and v.request)


@dataclass(frozen=True, slots=True)
class Unserved:
    request: str
    reason: str


@dataclass(frozen=True)
class RoutingResult:
    """What a solve returns.

    `routes` holds the used vehicles only. `cost` = `distance` + fixed costs of used vehicles (the
    penalties of dropped requests are not in it). `complete` is False when a request is unserved;
    when dropping was not allowed, such a result is a partial plan and `status` says why.
    """

    status: SolveStatus
    routes: tuple[Route, ...]
    cost: float
    distance: float
    vehicles_used: int
    unserved: tuple[Unserved, ...]
    message: str = ""
    wall_time: float = 0.0

    @property
    def complete(self) -> bool:
        return self.status.has_solution and not self.unserved

    def route_of(self, vehicle: str) -> Route | None:
        return next((r for r in self.routes if r.vehicle == vehicle), None)


@dataclass(frozen=True, slots=True)
class Promise:
    """Windows already promised to a rider; re-optimisation keeps service inside them.

    A None window means "as in the request" (the node's own window).
    """

    request: str
    pickup: tuple[float, float] | None = None
    dropoff: tuple[float, float] | None = None
