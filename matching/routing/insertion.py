"""Feasible insertion of pickup-and-delivery pairs into fixed routes, on the OR-Tools model's
own integers.

The searches outside OR-Tools (ejection.py, ruin_recreate.py) read the built model's transit
times and windows (transit rounded up, windows as the model tightened them), so every plan they
return is one the model accepts as a first solution. Checks are Savelsbergh's constant-time
insertion tests (earliest service start forward, latest backward, loads), with an exact
route-duration check where a vehicle has a maximum duration. Ride-time limits are not checked
here: the solver does not use these searches for problems that have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from matching.routing.model import BuiltModel


@dataclass(frozen=True)
class PlanData:
    """The built model's integers, indexed by model node (depots included)."""

    transit: list[list[int]]
    cost: list[list[float]]
    lo: list[int]
    hi: list[int]
    demand: list[int]
    partner: list[int]  # pickup -> drop-off and drop-off -> pickup; -1 for depots
    is_pickup: list[bool]
    starts: list[int]  # per vehicle: model node
    ends: list[int]
    start_window: list[tuple[int, int]]
    end_window: list[tuple[int, int]]
    capacity: list[int]
    max_span: list[int | None]
    # per model node: the vehicles (by index) a pickup may ride in; None: any
    allowed: list[frozenset[int] | None]

    @classmethod
    def of(cls, built: BuiltModel) -> PlanData:
        problem, routing, manager, time = built.problem, built.routing, built.manager, built.time
        n = len(built.node_ids)
        ids = built.node_ids
        # Depots keep an open window here: their positions use the vehicle's own windows.
        lo, hi = [0] * n, [1 << 62] * n
        demand, partner, is_pickup = [0] * n, [-1] * n, [False] * n
        allowed: list[frozenset[int] | None] = [None] * n
        for r in problem.requests:
            p, d = built.model_node[r.pickup], built.model_node[r.dropoff]
            if r.vehicles is not None:
                allowed[p] = frozenset(
                    k for k, v in enumerate(problem.vehicles) if v.id in r.vehicles
                )
            demand[p], demand[d] = r.load, -r.load
            partner[p], partner[d] = d, p
            is_pickup[p] = True
            for k in (p, d):
                var = time.CumulVar(manager.NodeToIndex(k))
                lo[k], hi[k] = var.Min(), var.Max()
        cost = [[problem.travel(ids[a], ids[b]) for b in range(n)] for a in range(n)]
        starts, ends, start_window, end_window, spans = [], [], [], [], []
        for v, vehicle in enumerate(problem.vehicles):
            starts.append(built.model_node[vehicle.start])
            ends.append(built.model_node[vehicle.end])
            s, e = time.CumulVar(routing.Start(v)), time.CumulVar(routing.End(v))
            start_window.append((s.Min(), s.Max()))
            end_window.append((e.Min(), e.Max()))
            spans.append(None if vehicle.max_duration is None else _span_of(time, v))
        return cls(
            built.transit,
            cost,
            lo,
            hi,
            demand,
            partner,
            is_pickup,
            starts,
            ends,
            start_window,
            end_window,
            [v.capacity for v in problem.vehicles],
            spans,
            allowed,
        )


def _span_of(time: object, v: int) -> int:
    return int(time.GetSpanUpperBoundForVehicle(v))  # type: ignore[attr-defined]


class PlannedRoute:
    """One vehicle's stop sequence (depots at both ends) with its Savelsbergh arrays."""

    __slots__ = ("early", "late", "load", "ok", "stops", "vehicle")

    def __init__(self, vehicle: int, stops: list[int], data: PlanData) -> None:
        self.vehicle = vehicle
        self.stops = stops
        self.refresh(data)

    def refresh(self, data: PlanData) -> None:
        stops, lo, hi, transit = self.stops, data.lo, data.hi, data.transit
        v = self.vehicle
        n = len(stops)
        early = [0] * n
        load = [0] * n
        early[0] = data.start_window[v][0]
        ok = True
        for k in range(1, n):
            a, b = stops[k - 1], stops[k]
            t = early[k - 1] + transit[a][b]
            floor = data.end_window[v][0] if k == n - 1 else lo[b]
            early[k] = t if t > floor else floor
            load[k] = load[k - 1] + data.demand[b]
        late = [0] * n
        late[n - 1] = data.end_window[v][1]
        ok = early[n - 1] <= late[n - 1]
        for k in range(n - 2, -1, -1):
            a, b = stops[k], stops[k + 1]
            cap = data.start_window[v][1] if k == 0 else hi[a]
            t = late[k + 1] - transit[a][b]
            late[k] = t if t < cap else cap
            if early[k] > late[k]:
                ok = False
        cap_v = data.capacity[v]
        if any(x > cap_v for x in load) or not _paired(stops, data):
            ok = False
        self.early, self.late, self.load, self.ok = early, late, load, ok
        if ok and data.max_span[v] is not None:
            self.ok = min_span(stops, data, v) <= (data.max_span[v] or 0)

    def requests(self, data: PlanData) -> list[int]:
        """Pickup model nodes on this route."""
        return [s for s in self.stops[1:-1] if data.is_pickup[s]]

    def __len__(self) -> int:
        return len(self.stops) - 2


def min_span(stops: Sequence[int], data: PlanData, v: int) -> int:
    """Shortest possible end-minus-start time of the route `stops`, or a huge number when its
    windows cannot be met. Leaving as late as the waiting before the end allows (forward time
    slack, Savelsbergh 1992) keeps the earliest end and shortens the span."""
    lo, hi, transit = data.lo, data.hi, data.transit
    n = len(stops)
    t = data.start_window[v][0]
    start = t
    slack = data.start_window[v][1] - t  # how much later the start could be
    waited = 0
    for k in range(1, n):
        a, b = stops[k - 1], stops[k]
        floor, cap = data.end_window[v] if k == n - 1 else (lo[b], hi[b])
        arrive = t + transit[a][b]
        if arrive > cap:
            return 1 << 62
        wait = floor - arrive if floor > arrive else 0
        t = arrive + wait
        waited += wait
        slack = min(slack, waited + cap - t)
    return t - (start + min(slack, waited))


def _paired(stops: Sequence[int], data: PlanData) -> bool:
    """Every stop's partner is on the route too, a pickup before its drop-off."""
    open_pickups: set[int] = set()
    for s in stops[1:-1]:
        if data.is_pickup[s]:
            open_pickups.add(s)
        elif data.partner[s] not in open_pickups:
            return False
        else:
            open_pickups.discard(data.partner[s])
    return not open_pickups


class Plan:
    """Routes of every vehicle (used or not) and the moves on them."""

    def __init__(self, data: PlanData, routes: list[PlannedRoute], rng: random.Random) -> None:
        self.data = data
        self.routes = routes
        self.rng = rng

    @classmethod
    def of(
        cls, built: BuiltModel, routes: Sequence[Sequence[int]], rng: random.Random
    ) -> Plan | None:
        """The plan of `routes` (problem node ids per vehicle, depots excluded), or None when
        the model's integers reject it."""
        data = PlanData.of(built)
        planned = [
            PlannedRoute(
                v, [data.starts[v], *(built.model_node[i] for i in stops), data.ends[v]], data
            )
            for v, stops in enumerate(routes)
        ]
        return cls(data, planned, rng) if all(r.ok for r in planned) else None

    def node_routes(self, built: BuiltModel) -> list[list[int]]:
        """Problem node ids per vehicle, depots excluded."""
        return [[built.node_ids[s] for s in r.stops[1:-1]] for r in self.routes]

    def snapshot(self) -> list[list[int]]:
        return [list(r.stops) for r in self.routes]

    def restore(self, snapshot: list[list[int]]) -> None:
        for route, stops in zip(self.routes, snapshot, strict=True):
            route.stops = list(stops)
            route.refresh(self.data)

    @property
    def vehicles_used(self) -> int:
        return sum(1 for r in self.routes if len(r) > 0)

    @property
    def distance(self) -> float:
        cost = self.data.cost
        return sum(
            cost[a][b] for r in self.routes for a, b in zip(r.stops, r.stops[1:], strict=False)
        )

    def insertions(
        self, route: PlannedRoute, pickup: int, *, first: bool = False
    ) -> list[tuple[float, int, int]]:
        """Feasible (cost increase, i, j): the pickup goes after position i, the drop-off after
        position j of the route with the pickup in (j == i: right after it)."""
        data = self.data
        allowed = data.allowed[pickup]
        if allowed is not None and route.vehicle not in allowed:
            return []
        lo, hi, transit, cost = data.lo, data.hi, data.transit, data.cost
        p, d = pickup, data.partner[pickup]
        q = data.demand[p]
        cap = data.capacity[route.vehicle] - q
        stops, early, late, load = route.stops, route.early, route.late, route.load
        lo_p, hi_p, lo_d, hi_d = lo[p], hi[p], lo[d], hi[d]
        t_pd = transit[p][d]
        c_pd = cost[p][d]
        n = len(stops)
        span = data.max_span[route.vehicle]
        out: list[tuple[float, int, int]] = []
        for i in range(n - 1):
            if load[i] > cap:
                continue
            a = stops[i]
            tp = early[i] + transit[a][p]
            if tp > hi_p:
                continue
            if tp < lo_p:
                tp = lo_p
            b = stops[i + 1]
            c_ab = cost[a][b]
            c_ap = cost[a][p]
            # the drop-off right after the pickup
            td = tp + t_pd
            if td < lo_d:
                td = lo_d
            if td <= hi_d:
                nb = td + transit[d][b]
                if nb <= late[i + 1]:
                    delta = c_ap + c_pd + cost[d][b] - c_ab
                    if span is None or self._span_ok(route, i, p, i, d):
                        out.append((delta, i, i))
                        if first:
                            return out
            # the drop-off later: push the pickup's delay along the route
            t = tp + transit[p][b]
            if t < lo[b]:
                t = lo[b]
            if t > late[i + 1] or i + 1 == n - 1:
                continue
            base = c_ap + cost[p][b] - c_ab
            for j in range(i + 1, n - 1):
                if load[j] > cap:
                    break
                c = stops[j]
                nx = stops[j + 1]
                td = t + transit[c][d]
                if td < lo_d:
                    td = lo_d
                if (
                    td <= hi_d
                    and td + transit[d][nx] <= late[j + 1]
                    and (span is None or self._span_ok(route, i, p, j, d))
                ):
                    out.append((base + cost[c][d] + cost[d][nx] - cost[c][nx], i, j))
                    if first:
                        return out
                t += transit[c][nx]
                if t < lo[nx]:
                    t = lo[nx]
                if t > late[j + 1]:
                    break
        return out

    def _span_ok(self, route: PlannedRoute, i: int, p: int, j: int, d: int) -> bool:
        stops = with_pair(route.stops, i, p, j, d)
        limit = self.data.max_span[route.vehicle]
        return limit is None or min_span(stops, self.data, route.vehicle) <= limit

    def insert(self, route: PlannedRoute, pickup: int, i: int, j: int) -> None:
        route.stops = with_pair(route.stops, i, pickup, j, self.data.partner[pickup])
        route.refresh(self.data)

    def remove(self, route: PlannedRoute, pickups: Sequence[int]) -> None:
        gone = set(pickups) | {self.data.partner[p] for p in pickups}
        route.stops = [s for s in route.stops if s not in gone]
        route.refresh(self.data)

    def try_insert(self, pickup: int) -> bool:
        """Insert at the cheapest feasible place over every route; False if none fits."""
        best: tuple[float, int, int, int] | None = None
        for k, route in enumerate(self.routes):
            for delta, i, j in self.insertions(route, pickup):
                if best is None or delta < best[0]:
                    best = (delta, k, i, j)
        if best is None:
            return False
        self.insert(self.routes[best[1]], pickup, best[2], best[3])
        return True


def with_pair(stops: list[int], i: int, p: int, j: int, d: int) -> list[int]:
    """`stops` with p after position i and d after position j (positions of the original)."""
    if i == j:
        return [*stops[: i + 1], p, d, *stops[i + 1 :]]
    return [*stops[: i + 1], p, *stops[i + 1 : j + 1], d, *stops[j + 1 :]]
