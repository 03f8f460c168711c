"""Vehicles: seats, wheelchair places and an owner (a driver, or the co-op's fleet).

A driver registers their own vehicles (`Vehicle`); the co-op's fleet is the city config's
(`[[rides.scheduled.vehicles]]`, owner "coop", like the Cantua Creek van), changed only by a
decision. A driver goes on duty with one of their own or one of the fleet's, and matching then
uses that vehicle's seats and wheelchair access. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid
from services.rides.domain import InvalidRideRequest, RidesError

if TYPE_CHECKING:
    from uuid import UUID

COOP = "coop"  # the owner of the co-op's own fleet
MAX_SEATS = 16
MAX_WHEELCHAIR_PLACES = 6
MAX_DESCRIPTION = 80


class UnknownVehicle(RidesError):
    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"no vehicle {vehicle_id}")
        self.vehicle_id = vehicle_id


class NotYourVehicle(RidesError):
    """The vehicle is another driver's (the co-op's fleet is every driver's to use)."""

    def __init__(self, vehicle_id: str, member_id: str) -> None:
        super().__init__(f"vehicle {vehicle_id} is not {member_id}'s nor the co-op's")
        self.vehicle_id = vehicle_id
        self.member_id = member_id


@dataclass(frozen=True)
class VehicleSpec:
    """What a driver on duty drives: a registered vehicle or one of the co-op's fleet."""

    id: str
    owner: str
    seats: int
    wheelchair_places: int
    description: str

    @property
    def wheelchair_accessible(self) -> bool:
        return self.wheelchair_places > 0

    def usable_by(self, member_id: str) -> bool:
        return self.owner in (member_id, COOP)


def check_vehicle(seats: int, wheelchair_places: int, description: str) -> str:
    """The description trimmed, or `InvalidRideRequest` naming the field that is wrong."""
    if not 1 <= seats <= MAX_SEATS:
        raise InvalidRideRequest(
            "seats", f"a vehicle has 1 to {MAX_SEATS} passenger seats, got {seats}"
        )
    if not 0 <= wheelchair_places <= MAX_WHEELCHAIR_PLACES:
        raise InvalidRideRequest(
            "wheelchairPlaces",
            f"a vehicle has 0 to {MAX_WHEELCHAIR_PLACES} wheelchair places, "
            f"got {wheelchair_places}",
        )
    text = description.strip()
    if not text or len(text) > MAX_DESCRIPTION:
        raise InvalidRideRequest(
            "description", f"describe the vehicle in 1 to {MAX_DESCRIPTION} characters"
        )
    if any(not ch.isprintable() for ch in text):
        raise InvalidRideRequest("description", "a description is one line of printable text")
    return text


class Vehicle(Aggregate):
    """A driver's own vehicle. Invariants: 1 to 16 seats, 0 to 6 wheelchair places, a
    one-line description riders can recognise it by (1 to 80 characters), and an owner."""

    class Registered(Aggregate.Created):
        owner: str
        seats: int
        wheelchair_places: int
        description: str
        at: datetime

    @event(Registered)
    def __init__(
        self, owner: str, seats: int, wheelchair_places: int, description: str, at: datetime
    ) -> None:
        self.owner = owner
        self.seats = seats
        self.wheelchair_places = wheelchair_places
        self.description = description
        self.registered_at = at

    @classmethod
    def register(
        cls, owner: str, *, seats: int, wheelchair_places: int, description: str, now: datetime
    ) -> Vehicle:
        text = check_vehicle(seats, wheelchair_places, description)
        return cls(owner, seats, wheelchair_places, text, now)

    def spec(self) -> VehicleSpec:
        return VehicleSpec(
            str(self.id), self.owner, self.seats, self.wheelchair_places, self.description
        )


class VehicleInUse(RidesError):
    """Another driver is on duty with the vehicle (the co-op's van is driven by one at a time)."""

    def __init__(self, vehicle_id: str, driver_id: str) -> None:
        super().__init__(f"vehicle {vehicle_id} is on duty with another driver")
        self.vehicle_id = vehicle_id
        self.driver_id = driver_id


class VehicleUse(Aggregate):
    """Who last went on duty with a vehicle (its id is the vehicle's). The vehicle is in use
    while that driver is still on duty with it; the caller says whether they are, from the
    driver's own aggregate, so a driver going off duty (or being suspended) frees it without an
    event here. Saved with the driver who takes it: two at once, one wins."""

    class Opened(Aggregate.Created):
        vehicle_id: str

    class Taken(Aggregate.Event):
        driver_id: str

    @staticmethod
    def create_id(vehicle_id: str) -> UUID:
        return stable_uuid("rides-vehicle-use", vehicle_id)

    @event(Opened)
    def __init__(self, vehicle_id: str) -> None:
        self.vehicle_id = vehicle_id
        self.driver_id: str | None = None

    def take(self, driver_id: str, *, holder_on_duty_with_it: bool) -> None:
        """`driver_id` goes on duty with the vehicle; refused while another still is."""
        if self.driver_id == driver_id:
            return
        if self.driver_id is not None and holder_on_duty_with_it:
            raise VehicleInUse(self.vehicle_id, self.driver_id)
        self._taken(driver_id=driver_id)

    @event(Taken)
    def _taken(self, driver_id: str) -> None:
        self.driver_id = driver_id
