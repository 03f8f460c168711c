"""Independent feasibility checker for pickup-and-delivery routes.

It shares no code with the solver (it does not import `matching.routing`): it reads any problem
and routes that have the right attributes (see the Protocols below), recomputes travel times in
real (float) arithmetic from coordinates or the matrix, and lists every broken rule. A plan the
solver returns must pass this check; that is how integer scaling in the solver is kept honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

EPS = 1e-6  # real-arithmetic tolerance: far below any rounding the solver could hide


class NodeLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def service(self) -> float: ...
    @property
    def earliest(self) -> float: ...
    @property
    def latest(self) -> float: ...


class RequestLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def pickup(self) -> int: ...
    @property
    def dropoff(self) -> int: ...
    @property
    def load(self) -> int: ...
    @property
    def max_ride_time(self) -> float | None: ...


class VehicleLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def max_duration(self) -> float | None: ...
    @property
    def fixed_cost(self) -> float: ...


class ProblemLike(Protocol):
    @property
    def nodes(self) -> Sequence[NodeLike]: ...
    @property
    def requests(self) -> Sequence[RequestLike]: ...
    @property
    def vehicles(self) -> Sequence[VehicleLike]: ...
    @property
    def travel_times(self) -> Sequence[Sequence[float]] | None: ...


class VisitLike(Protocol):
    @property
    def node(self) -> int: ...
    @property
    def service_start(self) -> float: ...


class RouteLike(Protocol):
    @property
    def vehicle(self) -> str: ...
    @property
    def visits(self) -> Sequence[VisitLike]: ...


class Rule(StrEnum):
    UNKNOWN_VEHICLE = "unknown_vehicle"
    VEHICLE_COUNT = "vehicle_count"  # more routes than vehicles, or a vehicle used twice
    DEPOT = "depot"  # route does not start/end at the vehicle's depots
    UNKNOWN_NODE = "unknown_node"
    DUPLICATE_VISIT = "duplicate_visit"
    TRAVEL_TIME = "travel_time"  # service starts before the vehicle can be there
    TIME_WINDOW = "time_window"
    CAPACITY = "capacity"
    VEHICLE_NOT_ALLOWED = "vehicle_not_allowed"  # a request in a vehicle it may not ride in
    PAIRING = "pairing"  # pickup and drop-off not on the same vehicle, or one missing
    PRECEDENCE = "precedence"  # drop-off before its pickup
    RIDE_TIME = "ride_time"
    ROUTE_DURATION = "route_duration"
    UNSERVED = "unserved"  # a request is neither served nor allowed to be unserved
    MISREPORTED = "misreported"  # the unserved list disagrees with the routes


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    detail: str
    vehicle: str | None = None
    request: str | None = None
    node: int | None = None


@dataclass(frozen=True)
class CheckReport:
    """Every violation found, and distance/cost recomputed from the routes in real arithmetic."""

    violations: tuple[Violation, ...]
    distance: float
    cost: float  # distance + fixed cost of each vehicle that serves at least one stop
    vehicles_used: int
    served: tuple[str, ...]
    unserved: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    def rules(self) -> set[Rule]:
        return {v.rule for v in self.violations}


def check_routes(
    problem: ProblemLike,
    routes: Iterable[RouteLike],
    *,
    reported_unserved: Iterable[str] | None = None,
    allow_unserved: bool = False,
    eps: float = EPS,
) -> CheckReport:
    """Check `routes` against `problem`; see `Rule` for what is checked.

    Each route lists its visits from start depot to end depot with the service start time of
    each. `reported_unserved`, if given, must equal the set of requests no route serves. Unserved
    requests are violations unless `allow_unserved`.
    """
    nodes = {n.id: n for n in problem.nodes}
    position = {n.id: i for i, n in enumerate(problem.nodes)}
    matrix = problem.travel_times

    def travel(a: int, b: int) -> float:
        if matrix is not None:
            return float(matrix[position[a]][position[b]])
        na, nb = nodes[a], nodes[b]
        return math.hypot(na.x - nb.x, na.y - nb.y)

    vehicles = {v.id: v for v in problem.vehicles}
    role: dict[int, tuple[RequestLike, str]] = {}
    for r in problem.requests:
        role[r.pickup] = (r, "pickup")
        role[r.dropoff] = (r, "dropoff")

    out: list[Violation] = []
    seen_vehicles: set[str] = set()
    visited: dict[int, str] = {}
    # request id -> (vehicle, position, service start) for each stop
    pick_at: dict[str, tuple[str, int, float]] = {}
    drop_at: dict[str, tuple[str, int, float]] = {}
    distance = 0.0
    fixed = 0.0
    used = 0
    route_list = list(routes)
    if len(route_list) > len(problem.vehicles):
        out.append(
            Violation(
                Rule.VEHICLE_COUNT,
                f"{len(route_list)} routes but only {len(problem.vehicles)} vehicles",
            )
        )
    for route in route_list:
        vid = route.vehicle
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out.append(Violation(Rule.UNKNOWN_VEHICLE, f"vehicle {vid} is not in the problem", vid))
            continue
        if vid in seen_vehicles:
            out.append(Violation(Rule.VEHICLE_COUNT, f"vehicle {vid} has two routes", vid))
        seen_vehicles.add(vid)
        visits = list(route.visits)
        if len(visits) < 2 or visits[0].node != vehicle.start or visits[-1].node != vehicle.end:
            out.append(
                Violation(
                    Rule.DEPOT,
                    f"route of {vid} must start at node {vehicle.start} and end at node "
                    f"{vehicle.end}",
                    vid,
                )
            )
            continue
        bad_node = False
        for visit in visits[1:-1]:
            if visit.node not in role:
                why = "is not a request stop" if visit.node in nodes else "is not a known node"
                out.append(
                    Violation(Rule.UNKNOWN_NODE, f"node {visit.node} {why}", vid, None, visit.node)
                )
                bad_node = True
        if bad_node:
            continue
        if len(visits) > 2:
            used += 1
            fixed += vehicle.fixed_cost
        load = 0
        for k, visit in enumerate(visits):
            node = nodes[visit.node]
            t = visit.service_start
            if k > 0:
                prev = visits[k - 1]
                leg = travel(prev.node, visit.node)
                distance += leg
                ready = prev.service_start + nodes[prev.node].service + leg
                if t < ready - eps:
                    out.append(
                        Violation(
                            Rule.TRAVEL_TIME,
                            f"service at node {visit.node} starts at {t:.6f}, but leaving node "
                            f"{prev.node} after service it cannot arrive before {ready:.6f}",
                            vid,
                            None,
                            visit.node,
                        )
                    )
            if t < node.earliest - eps or t > node.latest + eps:
                out.append(
                    Violation(
                        Rule.TIME_WINDOW,
                        f"service at node {visit.node} starts at {t:.6f}, outside "
                        f"[{node.earliest}, {node.latest}]",
                        vid,
                        role[visit.node][0].id if visit.node in role else None,
                        visit.node,
                    )
                )
            if 0 < k < len(visits) - 1:
                request, kind = role[visit.node]
                if visit.node in visited:
                    out.append(
                        Violation(
                            Rule.DUPLICATE_VISIT,
                            f"node {visit.node} is visited more than once",
                            vid,
                            request.id,
                            visit.node,
                        )
                    )
                    continue
                visited[visit.node] = vid
                if kind == "pickup":
                    load += request.load
                    pick_at[request.id] = (vid, k, t)
                    # optional on a request: the vehicles it may ride in (None: any)
                    allowed = getattr(request, "vehicles", None)
                    if allowed is not None and vid not in allowed:
                        out.append(
                            Violation(
                                Rule.VEHICLE_NOT_ALLOWED,
                                f"request {request.id} may ride only in "
                                f"{', '.join(sorted(allowed))}, not {vid}",
                                vid,
                                request.id,
                                visit.node,
                            )
                        )
                else:
                    load -= request.load
                    drop_at[request.id] = (vid, k, t)
                if load > vehicle.capacity:
                    out.append(
                        Violation(
                            Rule.CAPACITY,
                            f"load {load} after node {visit.node} exceeds capacity "
                            f"{vehicle.capacity}",
                            vid,
                            request.id,
                            visit.node,
                        )
                    )
        duration = visits[-1].service_start - visits[0].service_start
        if vehicle.max_duration is not None and duration > vehicle.max_duration + eps:
            out.append(
                Violation(
                    Rule.ROUTE_DURATION,
                    f"route of {vid} lasts {duration:.6f} > {vehicle.max_duration}",
                    vid,
                )
            )

    served: list[str] = []
    unserved: list[str] = []
    for r in problem.requests:
        p, d = pick_at.get(r.id), drop_at.get(r.id)
        if p is None and d is None:
            unserved.append(r.id)
            continue
        if p is None or d is None or p[0] != d[0]:
            out.append(
                Violation(
                    Rule.PAIRING,
                    f"request {r.id}: pickup on {p[0] if p else 'no vehicle'}, drop-off on "
                    f"{d[0] if d else 'no vehicle'}",
                    (p or d or ("?",))[0],
                    r.id,
                )
            )
            continue
        served.append(r.id)
        if d[1] < p[1]:
            out.append(
                Violation(
                    Rule.PRECEDENCE, f"request {r.id}: drop-off before its pickup", p[0], r.id
                )
            )
            continue
        ride = d[2] - (p[2] + nodes[r.pickup].service)
        if r.max_ride_time is not None and ride > r.max_ride_time + eps:
            out.append(
                Violation(
                    Rule.RIDE_TIME,
                    f"request {r.id}: ride time {ride:.6f} > {r.max_ride_time}",
                    p[0],
                    r.id,
                )
            )
    if not allow_unserved:
        out.extend(
            Violation(Rule.UNSERVED, f"request {rid} is not served", None, rid) for rid in unserved
        )
    if reported_unserved is not None:
        reported = set(reported_unserved)
        for rid in sorted(reported ^ set(unserved)):
            said = "reported unserved but served" if rid in reported else "unserved, not reported"
            out.append(Violation(Rule.MISREPORTED, f"request {rid}: {said}", None, rid))
    return CheckReport(tuple(out), distance, distance + fixed, used, tuple(served), tuple(unserved))
