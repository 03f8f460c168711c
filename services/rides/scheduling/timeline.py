"""Times along a given stop order, with every rule of a scheduled ride checked on the way.

The router (matching.routing) plans with one capacity; a van has seats and wheelchair places, so
loads are checked here on both. `insert` is the planner's fallback and its search for the
nearest windows that fit: it tries every position for a booking's two stops in the current
order and keeps the shortest order that breaks no rule (a sufficient test: a window it finds
really fits the plan as it stands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernel.geo import Point, great_circle_km
from services.rides.scheduling.model import PlannedStop, Spot, StopRef

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from services.rides.scheduling.model import Booking, FleetVehicle

EPS = 1e-6


class Travel:
    """Road minutes and kilometres between places: great-circle distance times the city's
    detour factor, at its average speed (the rides service's haversine provider, in minutes)."""

    def __init__(self, *, detour_factor: float, speed_kmh: float) -> None:
        self.detour_factor = detour_factor
        self.speed_kmh = speed_kmh
        self._km: dict[tuple[Spot, Spot], float] = {}

    def km(self, a: Spot, b: Spot) -> float:
        key = (a, b)
        found = self._km.get(key)
        if found is None:
            found = (
                great_circle_km(Point(a.lat, a.lon), Point(b.lat, b.lon)) * self.detour_factor
                if a != b
                else 0.0
            )
            self._km[key] = found
        return found

    def minutes(self, a: Spot, b: Spot) -> float:
        return self.km(a, b) / self.speed_kmh * 60.0


@dataclass(frozen=True)
class Timed:
    stops: tuple[PlannedStop, ...]
    travel_minutes: float
    km: float


def _spot(booking: Booking, kind: str) -> Spot:
    return booking.pickup if kind == "pickup" else booking.dropoff


def simulate(
    vehicle: FleetVehicle,
    order: Sequence[StopRef],
    bookings: Mapping[str, Booking],
    travel: Travel,
) -> Timed | None:
    """Times for `order`, or None if no times keep every rule (see `timed_or_failure`)."""
    found = timed_or_failure(vehicle, order, bookings, travel)
    return found if isinstance(found, Timed) else None


def timed_or_failure(
    vehicle: FleetVehicle,
    order: Sequence[StopRef],
    bookings: Mapping[str, Booking],
    travel: Travel,
) -> Timed | int:
    """Times for `order`, or the position in `order` of the first stop that broke a rule
    (len(order) for the route's end: its length or the closing time).

    Service starts as early as each window allows, except that a pickup is held back when its
    rider would otherwise ride too long (waiting at later stops); then the departure from the
    depot is pushed as late as the waiting allows (Savelsbergh's forward time slack), so waiting
    does not count against the route's length.
    """
    if not order:
        return Timed((), 0.0, 0.0)
    overload = _overload(vehicle, order, bookings)
    if overload is not None:
        return overload
    hold: dict[str, float] = {}
    for _ in range(len(order) + 1):
        result = _forward(vehicle, order, bookings, travel, vehicle.day_start, hold)
        if isinstance(result, tuple):
            rid, late = result
            hold[rid] = late
            continue
        if isinstance(result, int):
            return result
        pushed = _push_departure(result, order, bookings)
        if pushed > EPS:
            later = _forward(vehicle, order, bookings, travel, result.stops[0].at + pushed, hold)
            if isinstance(later, Timed):
                result = later
        first, last = result.stops[0].at, result.stops[-1].at
        if last > vehicle.day_end + EPS or last - first > vehicle.max_route + EPS:
            return len(order)
        return result
    return len(order)


def _forward(
    vehicle: FleetVehicle,
    order: Sequence[StopRef],
    bookings: Mapping[str, Booking],
    travel: Travel,
    leave: float,
    hold: Mapping[str, float],
) -> Timed | tuple[str, float] | int:
    """Serve `order` leaving the depot at `leave`: the timed stops; or (rider, start) when a
    rider's pickup must start at least that late to keep their ride time; or the position of
    the stop that missed its window."""
    stops = [PlannedStop("start", None, leave, leave, vehicle.depot.lat, vehicle.depot.lon)]
    t, here = leave, vehicle.depot
    picked: dict[str, float] = {}
    minutes = km = 0.0
    for k, ref in enumerate(order):
        b = bookings[ref.ride_id]
        there = _spot(b, ref.kind)
        leg = travel.minutes(here, there)
        minutes += leg
        km += travel.km(here, there)
        arrival = t + leg
        lo, hi = b.pickup_window if ref.kind == "pickup" else b.dropoff_window
        at = max(arrival, lo)
        if ref.kind == "pickup":
            at = max(at, hold.get(b.ride_id, at))
            if at > hi + EPS:
                return k
            picked[b.ride_id] = at
        else:
            if at > hi + EPS or b.ride_id not in picked:
                return k
            excess = at - (picked[b.ride_id] + b.service) - b.max_ride
            if excess > EPS:
                return (b.ride_id, picked[b.ride_id] + excess)
        stops.append(PlannedStop(ref.kind, b.ride_id, arrival, at, there.lat, there.lon))
        t, here = at + b.service, there
    leg = travel.minutes(here, vehicle.depot)
    minutes += leg
    km += travel.km(here, vehicle.depot)
    end = t + leg
    stops.append(PlannedStop("end", None, end, end, vehicle.depot.lat, vehicle.depot.lon))
    return Timed(tuple(stops), minutes, km)


def _push_departure(
    timed: Timed, order: Sequence[StopRef], bookings: Mapping[str, Booking]
) -> float:
    """How much later the van may leave without any stop missing its window: the forward time
    slack at the depot, capped by the waiting there is to absorb."""
    waited = 0.0
    slack = float("inf")
    for ref, stop in zip(order, timed.stops[1:-1], strict=True):
        b = bookings[ref.ride_id]
        hi = b.pickup_window[1] if ref.kind == "pickup" else b.dropoff_window[1]
        waited += stop.at - stop.arrival
        slack = min(slack, waited + hi - stop.at)
    return max(0.0, min(slack, waited))


def loads_ok(
    vehicle: FleetVehicle, order: Sequence[StopRef], bookings: Mapping[str, Booking]
) -> bool:
    """Seats and wheelchair places never exceeded along `order` (whatever the times)."""
    return _overload(vehicle, order, bookings) is None


def _overload(
    vehicle: FleetVehicle, order: Sequence[StopRef], bookings: Mapping[str, Booking]
) -> int | None:
    seats = chairs = 0
    for k, ref in enumerate(order):
        b = bookings[ref.ride_id]
        sign = 1 if ref.kind == "pickup" else -1
        seats += sign * b.seat_load
        chairs += sign * b.wheelchair_load
        if seats > vehicle.seats or chairs > vehicle.wheelchair_places:
            return k
    return None


def insert(
    vehicle: FleetVehicle,
    order: Sequence[StopRef],
    bookings: Mapping[str, Booking],
    new: Booking,
    travel: Travel,
    *,
    first_fit: bool = False,
) -> tuple[list[StopRef], Timed] | None:
    """The shortest order with `new`'s stops put into `order` that breaks no rule, or None.

    With `first_fit`, the first order that fits (enough to know a window fits)."""
    if new.seat_load > vehicle.seats or new.wheelchair_load > vehicle.wheelchair_places:
        return None
    everyone = {**bookings, new.ride_id: new}
    pick, drop = StopRef(new.ride_id, "pickup"), StopRef(new.ride_id, "dropoff")
    best: tuple[list[StopRef], Timed] | None = None
    n = len(order)
    base = simulate(vehicle, order, bookings, travel)
    for i in range(n + 1):
        # Stops before the pickup keep (at least) their times: if the pickup cannot be
        # reached in its window from there, no later position can reach it either.
        if base is not None and i > 0:
            prev = base.stops[i]  # stops[0] is the depot
            before = bookings[order[i - 1].ride_id]
            reach = prev.at + before.service + travel.minutes(Spot(prev.lat, prev.lon), new.pickup)
            if reach > new.pickup_window[1] + EPS:
                break
        for j in range(i, n + 1):
            candidate = [*order[:i], pick, *order[i:j], drop, *order[j:]]
            timed = timed_or_failure(vehicle, candidate, everyone, travel)
            if isinstance(timed, int):
                # A stop before the drop-off broke a rule: a later drop-off leaves that part of
                # the route as it is, so it breaks there too.
                if timed < j + 1:
                    break
                continue
            if best is None or timed.travel_minutes < best[1].travel_minutes - EPS:
                best = (candidate, timed)
                if first_fit:
                    return best
    return best
