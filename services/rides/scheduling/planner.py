"""Plans a service day: the router re-plans, the route checker verifies, by hand as a fallback.

Every change to a day (a booking added, changed or cancelled) is a re-plan from the current
plan with `matching.routing.reoptimise`: everyone already booked is mandatory and keeps the
windows promised to them (their nodes' windows are the promise). The plan that comes back is
checked before it is offered to the aggregate: by `matching.route_check` (which shares no code
with the router) on a problem built afresh from the bookings, and here for seats and wheelchair
places apart (the router knows one capacity, and that a wheelchair user rides only in a vehicle
with a place). If the router's plan fails either, or the router
found none in its time, the booking is inserted into the current order by hand (timeline.py),
which checks every rule as it goes; a plan that passes nothing is no plan, and the booking is
refused with the reason and the nearest windows that do fit.

Pure: no store, no clock. Times are minutes since local midnight of the day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matching.route_check import check_routes
from matching.routing import (
    Node,
    Request,
    Route,
    RoutingProblem,
    RoutingResult,
    Vehicle,
    Visit,
    reoptimise,
    solve,
)
from matching.status import InvalidProblem
from services.rides.scheduling.model import Booking, Plan, PlannedStop, Spot, StopRef
from services.rides.scheduling.timeline import Travel, insert, loads_ok, simulate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from services.rides.scheduling.model import FleetVehicle


class Refusal:
    """Why a booking cannot be planned (the codes the GraphQL refusal carries)."""

    NO_WHEELCHAIR_PLACE = "no_wheelchair_place"  # no vehicle has one
    TOO_MANY_SEATS = "too_many_seats"  # more than any vehicle carries
    CANNOT_SERVE_ALONE = "cannot_serve_alone"  # even an empty vehicle cannot keep the windows
    NO_ROOM = "no_room_in_window"  # the day's other promises leave no room in this window


@dataclass(frozen=True)
class _Built:
    problem: RoutingProblem
    node_of: dict[tuple[str, str], int]
    stop_of: dict[int, tuple[str, str]]


@dataclass(frozen=True)
class _CheckRoute:
    vehicle: str
    visits: tuple[_CheckVisit, ...]


@dataclass(frozen=True)
class _CheckVisit:
    node: int
    service_start: float


class Planner:
    def __init__(
        self,
        fleet: Sequence[FleetVehicle],
        travel: Travel,
        *,
        time_limit: float,
        seconds_per_booking: float | None = None,
        seed: int = 0,
    ) -> None:
        """`time_limit` is the router's time per re-plan; with `seconds_per_booking`, a re-plan
        gets a tenth of a second plus that much per booking of the day, up to `time_limit` (a
        day with two bookings needs no second of search, and a series of empty days adds up)."""
        if not fleet:
            raise ValueError("a planner needs at least one scheduled vehicle")
        self.fleet = tuple(fleet)
        self.by_id = {v.id: v for v in self.fleet}
        self.travel = travel
        self.time_limit = time_limit
        self.seconds_per_booking = seconds_per_booking
        self.seed = seed

    def limit_for(self, bookings: int) -> float:
        if self.seconds_per_booking is None:
            return self.time_limit
        return min(self.time_limit, 0.1 + self.seconds_per_booking * bookings)

    # -- the dial-a-ride problem ------------------------------------------------------------------
    def _nodes(self, bookings: Sequence[Booking], first_id: int) -> list[Node]:
        nodes = []
        for k, b in enumerate(bookings):
            for offset, spot, (lo, hi) in (
                (0, b.pickup, b.pickup_window),
                (1, b.dropoff, b.dropoff_window),
            ):
                nodes.append(Node(first_id + 2 * k + offset, spot.lon, spot.lat, b.service, lo, hi))
        return nodes

    def _spots(self, bookings: Sequence[Booking]) -> list[object]:
        spots: list[object] = [v.depot for v in self.fleet]
        for b in bookings:
            spots += [b.pickup, b.dropoff]
        return spots

    def _matrix(self, bookings: Sequence[Booking]) -> tuple[tuple[float, ...], ...]:
        spots = self._spots(bookings)
        return tuple(
            tuple(self.travel.minutes(a, b) for b in spots)  # type: ignore[arg-type]
            for a in spots
        )

    def build(self, bookings: Sequence[Booking], *, seats_only: bool = False) -> _Built:
        """The day as a RoutingProblem: a depot node per vehicle, two nodes per booking.

        The router knows one capacity: everyone aboard, against seats plus wheelchair places
        (the seats and places apart are checked after). `seats_only` counts everyone against
        the seats alone, a tighter model for when the first breaks the seat count."""
        depots = [
            Node(k, v.depot.lon, v.depot.lat, 0.0, v.day_start, v.day_end)
            for k, v in enumerate(self.fleet)
        ]
        first = len(self.fleet)
        nodes = depots + self._nodes(bookings, first)
        # A wheelchair user rides only in a vehicle with a wheelchair place.
        with_places = frozenset(v.id for v in self.fleet if v.wheelchair_places > 0)
        requests = tuple(
            Request(
                b.ride_id,
                first + 2 * k,
                first + 2 * k + 1,
                b.seats,
                b.max_ride,
                vehicles=with_places if b.wheelchair and with_places else None,
            )
            for k, b in enumerate(bookings)
        )
        vehicles = tuple(
            Vehicle(v.id, k, k, v.seats + (0 if seats_only else v.wheelchair_places), v.max_route)
            for k, v in enumerate(self.fleet)
        )
        node_of: dict[tuple[str, str], int] = {}
        for r in requests:
            node_of[(r.id, "pickup")], node_of[(r.id, "dropoff")] = r.pickup, r.dropoff
        return _Built(
            RoutingProblem(tuple(nodes), requests, vehicles, self._matrix(bookings)),
            node_of,
            {n: key for key, n in node_of.items()},
        )

    # -- checks ---------------------------------------------------------------------------------
    def violations(self, bookings: Sequence[Booking], plan: Plan) -> list[str]:
        """Every rule `plan` breaks for these bookings (empty: the plan keeps every promise).

        The route checker reads a problem built afresh from the bookings, so the windows it
        checks are the promises, not whatever the router was given."""
        built = self.build(bookings)
        routes = []
        for vehicle, stops in plan.routes.items():
            if vehicle not in self.by_id:
                return [f"vehicle {vehicle} is not in the fleet"]
            depot = self.fleet.index(self.by_id[vehicle])
            visits = []
            for s in stops:
                if s.kind in ("start", "end"):
                    visits.append(_CheckVisit(depot, s.at))
                elif (s.ride_id or "", s.kind) in built.node_of:
                    visits.append(_CheckVisit(built.node_of[(s.ride_id or "", s.kind)], s.at))
                else:
                    return [f"stop {s.kind} of {s.ride_id} is no booking's"]
            routes.append(_CheckRoute(vehicle, tuple(visits)))
        report = check_routes(built.problem, routes)
        found = [f"{v.rule}: {v.detail}" for v in report.violations]
        by_id = {b.ride_id: b for b in bookings}
        for vehicle, order in plan.orders().items():
            if not loads_ok(self.by_id[vehicle], order, by_id):
                found.append(f"vehicle {vehicle}: seats or wheelchair places exceeded")
        return found

    # -- re-planning ----------------------------------------------------------------------------
    def replan(
        self,
        bookings: Sequence[Booking],
        current: Mapping[str, Sequence[StopRef]],
        *,
        add: Booking | None = None,
        remove: str | None = None,
    ) -> Plan | None:
        """A checked plan for `bookings` (less `remove`, plus `add`) from the `current` orders,
        or None if no plan keeps every promise and serves everyone (then `add` is refused).

        Re-plans with the re-optimiser; falls back to inserting `add` into (or taking `remove`
        out of) the current orders by hand when the router's plan does not pass the checks."""
        kept = [b for b in bookings if b.ride_id != remove]
        after = [*kept, add] if add is not None else kept
        clock = time.perf_counter()
        routed = self._reoptimised(bookings, current, add=add, remove=remove)
        if routed is not None and not self.violations(after, routed):
            return routed
        by_id = {b.ride_id: b for b in kept}
        orders = {v: [s for s in current.get(v, ()) if s.ride_id != remove] for v in self.by_id}
        if add is None:
            plan = self._timed(orders, by_id, "removal", clock)
        else:
            plan = self._inserted(orders, by_id, add, clock)
        if plan is not None and not self.violations(after, plan):
            return plan
        return None

    def _reoptimised(
        self,
        bookings: Sequence[Booking],
        current: Mapping[str, Sequence[StopRef]],
        *,
        add: Booking | None,
        remove: str | None,
    ) -> Plan | None:
        built = self.build(bookings)
        routes = []
        for vehicle, order in current.items():
            depot = self.fleet.index(self.by_id[vehicle])
            visits = [Visit(depot, "start", None, 0, 0, 0)]
            for s in order:
                visits.append(Visit(built.node_of[(s.ride_id, s.kind)], s.kind, s.ride_id, 0, 0, 0))
            routes.append(Route(vehicle, tuple(visits), 0.0))
        added: tuple[Request, ...] = ()
        added_nodes: list[Node] = []
        matrix: tuple[tuple[float, ...], ...] | None = None
        if add is not None:
            first = len(built.problem.nodes)
            added_nodes = self._nodes([add], first)
            added = (Request(add.ride_id, first, first + 1, add.seats, add.max_ride),)
            matrix = self._matrix([*bookings, add])
        started = time.perf_counter()
        limit = self.limit_for(len(bookings) + (1 if add else 0) - (1 if remove else 0))
        try:
            result = reoptimise(
                built.problem,
                routes,
                added=added,
                added_nodes=added_nodes,
                cancelled=(remove,) if remove is not None else (),
                travel_times=matrix,
                time_limit=limit,
                seed=self.seed,
            )
        except InvalidProblem:
            return None
        if not result.complete:
            return None
        stop_of = dict(built.stop_of)
        if add is not None:
            stop_of[added_nodes[0].id] = (add.ride_id, "pickup")
            stop_of[added_nodes[1].id] = (add.ride_id, "dropoff")
        everyone = [*bookings, *([add] if add else [])]
        return self._plan_of(result, stop_of, everyone, "reoptimise", started, limit)

    def solve_all(self, bookings: Sequence[Booking], *, time_limit: float) -> Plan | None:
        """Plan every booking at once from nothing (what re-planning booking by booking is
        measured against: bench/rural_day.py); None if the router finds no complete plan."""
        plan = None
        for seats_only in (False, True):
            built = self.build(bookings, seats_only=seats_only)
            started = time.perf_counter()
            result = solve(built.problem, time_limit=time_limit, seed=self.seed)
            if not result.complete:
                continue
            plan = self._plan_of(result, built.stop_of, bookings, "solve", started, time_limit)
            if not self.violations(bookings, plan):
                return plan
        return plan

    def _plan_of(
        self,
        result: RoutingResult,
        stop_of: Mapping[int, tuple[str, str]],
        bookings: Sequence[Booking],
        method: str,
        started: float,
        time_limit: float,
    ) -> Plan:
        planned: dict[str, tuple[PlannedStop, ...]] = {}
        spots = {b.ride_id: b for b in bookings}
        km = 0.0
        for route in result.routes:
            vehicle = self.by_id[route.vehicle]
            stops: list[PlannedStop] = []
            prev = vehicle.depot
            for v in route.visits:
                if v.kind in ("start", "end"):
                    spot = vehicle.depot
                    stops.append(
                        PlannedStop(v.kind, None, v.arrival, v.service_start, spot.lat, spot.lon)
                    )
                else:
                    rid, kind = stop_of[v.node]
                    b = spots[rid]
                    spot = b.pickup if kind == "pickup" else b.dropoff
                    stops.append(
                        PlannedStop(kind, rid, v.arrival, v.service_start, spot.lat, spot.lon)  # type: ignore[arg-type]
                    )
                km += self.travel.km(prev, spot)
                prev = spot
            if len(stops) > 2:
                # The router starts the clock at opening; the van leaves just in time instead.
                first = stops[1]
                leave = max(
                    stops[0].at,
                    first.at - self.travel.minutes(vehicle.depot, Spot(first.lat, first.lon)),
                )
                stops[0] = PlannedStop("start", None, leave, leave, stops[0].lat, stops[0].lon)
                planned[route.vehicle] = tuple(stops)
        return Plan(
            planned,
            travel_minutes=result.distance,
            km=km,
            method=method,
            status=str(result.status),
            wall_s=time.perf_counter() - started,
            time_limit_s=time_limit,
            seed=self.seed,
        )

    def _timed(
        self,
        orders: Mapping[str, Sequence[StopRef]],
        bookings: Mapping[str, Booking],
        method: str,
        clock: float,
    ) -> Plan | None:
        routes: dict[str, tuple[PlannedStop, ...]] = {}
        minutes = km = 0.0
        for vid, order in orders.items():
            if not order:
                continue
            timed = simulate(self.by_id[vid], order, bookings, self.travel)
            if timed is None:
                return None
            routes[vid] = timed.stops
            minutes += timed.travel_minutes
            km += timed.km
        return Plan(
            routes, minutes, km, method, "feasible", time.perf_counter() - clock, 0.0, self.seed
        )

    def _inserted(
        self,
        orders: Mapping[str, Sequence[StopRef]],
        bookings: Mapping[str, Booking],
        add: Booking,
        clock: float,
    ) -> Plan | None:
        best: tuple[float, str, list[StopRef]] | None = None
        for vid, order in orders.items():
            before = simulate(self.by_id[vid], order, bookings, self.travel)
            found = insert(self.by_id[vid], order, bookings, add, self.travel)
            if found is None or before is None:
                continue
            extra = found[1].travel_minutes - before.travel_minutes
            if best is None or extra < best[0]:
                best = (extra, vid, found[0])
        if best is None:
            return None
        new_orders = {**orders, best[1]: best[2]}
        return self._timed(new_orders, {**bookings, add.ride_id: add}, "insertion", clock)

    # -- refusals -------------------------------------------------------------------------------
    def why_not(self, booking: Booking) -> str:
        """The reason a booking that found no plan was refused."""
        if booking.wheelchair and not any(v.wheelchair_places for v in self.fleet):
            return Refusal.NO_WHEELCHAIR_PLACE
        if not any(
            booking.seat_load <= v.seats and booking.wheelchair_load <= v.wheelchair_places
            for v in self.fleet
        ):
            return Refusal.TOO_MANY_SEATS
        if all(insert(v, [], {}, booking, self.travel) is None for v in self.fleet):
            return Refusal.CANNOT_SERVE_ALONE
        return Refusal.NO_ROOM

    def nearest_windows(
        self,
        bookings: Sequence[Booking],
        current: Mapping[str, Sequence[StopRef]],
        booking: Booking,
        *,
        shifts: Sequence[float],
        count: int,
    ) -> list[tuple[float, float]]:
        """Up to `count` pickup windows of the same length, shifted by `shifts` (nearest first),
        that fit the current plan as it stands (each found by inserting the booking)."""
        by_id = {b.ride_id: b for b in bookings if b.ride_id != booking.ride_id}
        orders = {
            v: [s for s in current.get(v, ()) if s.ride_id != booking.ride_id] for v in self.by_id
        }
        found: list[tuple[float, float]] = []
        for shift in shifts:
            if len(found) >= count:
                break
            moved = shifted(booking, shift)
            if any(
                insert(self.by_id[v], order, by_id, moved, self.travel, first_fit=True)
                for v, order in orders.items()
            ):
                found.append(moved.pickup_window)
        return found


def shifted(booking: Booking, minutes: float) -> Booking:
    from dataclasses import replace

    (a, b), (c, d) = booking.pickup_window, booking.dropoff_window
    return replace(
        booking,
        pickup_window=(a + minutes, b + minutes),
        dropoff_window=(c + minutes, d + minutes),
    )
