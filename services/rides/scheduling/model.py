"""The planner's values. Times are minutes since local midnight of the service day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["start", "pickup", "dropoff", "end"]


@dataclass(frozen=True, slots=True)
class Spot:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Booking:
    """One rider's trip as the planner sees it, with the windows promised to them.

    `seats` counts everyone travelling; with `wheelchair`, one of them rides in a wheelchair
    place instead of a seat. The promise is `pickup_window` and `dropoff_window`; `max_ride` bounds
    drop-off minus (pickup + boarding), and `service` is the boarding or alighting time.
    """

    ride_id: str
    pickup: Spot
    dropoff: Spot
    seats: int
    wheelchair: bool
    pickup_window: tuple[float, float]
    dropoff_window: tuple[float, float]
    max_ride: float
    service: float

    @property
    def seat_load(self) -> int:
        return self.seats - (1 if self.wheelchair else 0)

    @property
    def wheelchair_load(self) -> int:
        return 1 if self.wheelchair else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "ride_id": self.ride_id,
            "pickup": [self.pickup.lat, self.pickup.lon],
            "dropoff": [self.dropoff.lat, self.dropoff.lon],
            "seats": self.seats,
            "wheelchair": self.wheelchair,
            "pickup_window": list(self.pickup_window),
            "dropoff_window": list(self.dropoff_window),
            "max_ride": self.max_ride,
            "service": self.service,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Booking:
        def pair(key: str) -> tuple[float, float]:
            values: list[float] = data[key]  # type: ignore[assignment]
            return float(values[0]), float(values[1])

        pickup, dropoff = pair("pickup"), pair("dropoff")
        return cls(
            ride_id=str(data["ride_id"]),
            pickup=Spot(*pickup),
            dropoff=Spot(*dropoff),
            seats=int(data["seats"]),  # type: ignore[call-overload]
            wheelchair=bool(data["wheelchair"]),
            pickup_window=pair("pickup_window"),
            dropoff_window=pair("dropoff_window"),
            max_ride=float(data["max_ride"]),  # type: ignore[arg-type]
            service=float(data["service"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class FleetVehicle:
    """A scheduled vehicle for one day: its depot, its hours and what it carries."""

    id: str
    seats: int
    wheelchair_places: int
    depot: Spot
    day_start: float
    day_end: float
    max_route: float


@dataclass(frozen=True, slots=True)
class StopRef:
    """A stop in a route order: whose, and which end of their trip."""

    ride_id: str
    kind: Literal["pickup", "dropoff"]


@dataclass(frozen=True, slots=True)
class PlannedStop:
    kind: Kind
    ride_id: str | None
    arrival: float
    at: float  # service starts (>= arrival: the gap is waiting)
    lat: float
    lon: float

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "ride_id": self.ride_id,
            # Unrounded: the route checker re-adds travel times to these to the microsecond.
            "arrival": self.arrival,
            "at": self.at,
            "lat": self.lat,
            "lon": self.lon,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PlannedStop:
        ride = data["ride_id"]
        return cls(
            kind=data["kind"],  # type: ignore[arg-type]
            ride_id=None if ride is None else str(ride),
            arrival=float(data["arrival"]),  # type: ignore[arg-type]
            at=float(data["at"]),  # type: ignore[arg-type]
            lat=float(data["lat"]),  # type: ignore[arg-type]
            lon=float(data["lon"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Plan:
    """Every vehicle's stops (depot start and end included for a vehicle that serves anyone).

    `method` says how it was made: "reoptimise" (the router from the current plan), "insertion"
    (the booking put into the current order by hand when the router's plan did not pass the
    checks) or "removal" (a cancelled booking's stops taken out of the current order).
    """

    routes: dict[str, tuple[PlannedStop, ...]]
    travel_minutes: float
    km: float
    method: str
    status: str
    wall_s: float
    time_limit_s: float
    seed: int

    def orders(self) -> dict[str, list[StopRef]]:
        return orders_of(self.routes)

    def served(self) -> set[str]:
        return {
            s.ride_id
            for stops in self.routes.values()
            for s in stops
            if s.kind == "pickup" and s.ride_id
        }

    def vehicle_of(self, ride_id: str) -> str | None:
        for vehicle, stops in self.routes.items():
            if any(s.ride_id == ride_id for s in stops):
                return vehicle
        return None

    def pickup_at(self, ride_id: str) -> float | None:
        for stops in self.routes.values():
            for s in stops:
                if s.ride_id == ride_id and s.kind == "pickup":
                    return s.at
        return None


def orders_of(routes: dict[str, tuple[PlannedStop, ...]]) -> dict[str, list[StopRef]]:
    """Each vehicle's stop order (whose stop, which end), without times or depots."""
    orders: dict[str, list[StopRef]] = {}
    for vehicle, stops in routes.items():
        orders[vehicle] = []
        for s in stops:
            if s.ride_id is not None and s.kind in ("pickup", "dropoff"):
                kind: Literal["pickup", "dropoff"] = "pickup" if s.kind == "pickup" else "dropoff"
                orders[vehicle].append(StopRef(s.ride_id, kind))
    return orders
