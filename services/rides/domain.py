"""The rides domain: drivers, rides, fares. No I/O, no clock: `now` is passed in.

Aggregates:
    Driver      a member who drives, their vehicle and duty status
    Ride        one requested trip, from request to completion or cancellation
    and indexes (kernel.indexes.Index) of a city's drivers, its waiting rides, a rider's rides
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


class RidesError(Exception):
    """Base for expected, user-facing failures in the rides context."""


class InvalidRideRequest(RidesError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class RideNotFound(RidesError):
    def __init__(self, ride_id: UUID | str) -> None:
        super().__init__(f"no ride {ride_id}")


class DriverNotRegistered(RidesError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id} is not registered as a driver")


class DriverAlreadyRegistered(RidesError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id} is already registered as a driver")


class NotYourRide(RidesError):
    def __init__(self, ride_id: UUID, who: str) -> None:
        super().__init__(f"ride {ride_id} is not yours ({who})")


class RideStateConflict(RidesError):
    """The ride is not in a state where this action is allowed."""

    def __init__(self, ride_id: UUID, state: RideState, action: str) -> None:
        super().__init__(f"cannot {action} ride {ride_id}: it is {state.value}")
        self.state = state


class DriverBusy(RidesError):
    def __init__(self, member_id: str, action: str) -> None:
        super().__init__(f"driver {member_id} cannot {action} during a ride")


@dataclass(frozen=True)
class Place:
    """A pickup or drop-off point (validated by kernel.geo.Point at the edge)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class FarePolicy:
    """Base + per km + per minute, split by shares that sum to 100 (co-op policy, never surge)."""

    base: Decimal
    per_km: Decimal
    per_minute: Decimal
    currency: str
    split: Mapping[str, int]


@dataclass(frozen=True)
class Fare:
    total: Decimal
    currency: str
    split: dict[str, Decimal]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def price(policy: FarePolicy, *, distance_km: Decimal, minutes: Decimal) -> Fare:
    """The fare and its exact split (largest remainder: the parts sum to the total)."""
    from kernel.money import Money  # value type of the kernel: allowed in the domain

    total = Money.of(
        _cents(policy.base + policy.per_km * distance_km + policy.per_minute * minutes),
        policy.currency,
    )
    parts = total.allocate({k: Decimal(v) for k, v in policy.split.items()})
    return Fare(total.amount, policy.currency, {k: m.amount for k, m in parts.items()})


class DriverStatus(StrEnum):
    OFF_DUTY = "off_duty"
    AVAILABLE = "available"
    OFFERED = "offered"
    ON_RIDE = "on_ride"


class Driver(Aggregate):
    """A driver-member and their vehicle. Invariant: at most one ride offered or in progress."""

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("driver", member_id)

    @event("Registered")
    def __init__(
        self, member_id: str, seats: int, wheelchair_accessible: bool, vehicle: str
    ) -> None:
        self.member_id = member_id
        self.seats = seats
        self.wheelchair_accessible = wheelchair_accessible
        self.vehicle = vehicle
        self.status = DriverStatus.OFF_DUTY
        self.position: Place | None = None
        self.current_ride: UUID | None = None
        self.rides: list[UUID] = []

    def go_on_duty(self, at: Place) -> None:
        if self.status in (DriverStatus.OFFERED, DriverStatus.ON_RIDE):
            self._moved(lat=at.lat, lon=at.lon)
            return
        self._went_on_duty(lat=at.lat, lon=at.lon)

    @event("WentOnDuty")
    def _went_on_duty(self, lat: float, lon: float) -> None:
        self.status = DriverStatus.AVAILABLE
        self.position = Place(lat, lon)

    @event("Moved")
    def _moved(self, lat: float, lon: float) -> None:
        self.position = Place(lat, lon)

    def go_off_duty(self) -> None:
        if self.status in (DriverStatus.OFFERED, DriverStatus.ON_RIDE):
            raise DriverBusy(self.member_id, "go off duty")
        if self.status is DriverStatus.OFF_DUTY:
            return
        self._went_off_duty()

    @event("WentOffDuty")
    def _went_off_duty(self) -> None:
        self.status = DriverStatus.OFF_DUTY

    @property
    def available(self) -> bool:
        return self.status is DriverStatus.AVAILABLE

    @event("OfferReceived")
    def receive_offer(self, ride_id: UUID) -> None:
        self.status = DriverStatus.OFFERED
        self.current_ride = ride_id

    @event("OfferWithdrawn")
    def withdraw_offer(self, ride_id: UUID) -> None:
        self.status = DriverStatus.AVAILABLE
        self.current_ride = None

    @event("RideStarted")
    def start_ride(self, ride_id: UUID) -> None:
        self.status = DriverStatus.ON_RIDE
        self.current_ride = ride_id

    @event("RideFinished")
    def finish_ride(self, ride_id: UUID, lat: float, lon: float) -> None:
        self.status = DriverStatus.AVAILABLE
        self.current_ride = None
        self.position = Place(lat, lon)
        self.rides.append(ride_id)


class RideState(StrEnum):
    WAITING = "waiting"  # requested, no driver offered yet
    OFFERED = "offered"
    ACCEPTED = "accepted"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Ride(Aggregate):
    """One requested trip. Invariant: a fare and split exist exactly when COMPLETED, and the
    split sums to the fare."""

    @event("Requested")
    def __init__(
        self,
        rider_id: str,
        pickup: Place,
        dropoff: Place,
        seats: int,
        wheelchair: bool,
        distance_km: Decimal,
        quote: Decimal,
        currency: str,
        requested_at: datetime,
        booked_by: str | None = None,
    ) -> None:
        self.rider_id = rider_id
        self.pickup = pickup
        self.dropoff = dropoff
        self.seats = seats
        self.wheelchair = wheelchair
        self.distance_km = distance_km
        self.quote = quote
        self.currency = currency
        self.requested_at = requested_at
        self.booked_by = booked_by
        self.state = RideState.WAITING
        self.driver_id: str | None = None
        self.offer_reason: str | None = None
        self.declined_by: list[str] = []
        self.accepted_at: datetime | None = None
        self.picked_up_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.fare: Decimal | None = None
        self.split: dict[str, Decimal] = {}
        self.cancel_reason: str | None = None

    @classmethod
    def request(
        cls,
        *,
        rider_id: str,
        pickup: Place,
        dropoff: Place,
        seats: int,
        wheelchair: bool,
        distance_km: Decimal,
        quote: Decimal,
        currency: str,
        now: datetime,
        booked_by: str | None = None,
    ) -> Ride:
        if seats < 1:
            raise InvalidRideRequest("seats", f"must be at least 1, got {seats}")
        if seats > 8:
            raise InvalidRideRequest("seats", f"at most 8 seats in one ride, got {seats}")
        if pickup == dropoff:
            raise InvalidRideRequest("dropoff", "must differ from the pickup")
        return cls(
            rider_id=rider_id,
            pickup=pickup,
            dropoff=dropoff,
            seats=seats,
            wheelchair=wheelchair,
            distance_km=distance_km,
            quote=quote,
            currency=currency,
            requested_at=now,
            booked_by=booked_by,
        )

    def _require(self, action: str, *states: RideState) -> None:
        if self.state not in states:
            raise RideStateConflict(self.id, self.state, action)

    def _require_driver(self, member_id: str) -> None:
        if self.driver_id != member_id:
            raise NotYourRide(self.id, member_id)

    def offer(self, driver_id: str, pickup_minutes: Decimal, reason: str) -> None:
        self._require("offer", RideState.WAITING)
        self._offered(driver_id=driver_id, pickup_minutes=pickup_minutes, reason=reason)

    @event("Offered")
    def _offered(self, driver_id: str, pickup_minutes: Decimal, reason: str) -> None:
        self.state = RideState.OFFERED
        self.driver_id = driver_id
        self.offer_reason = reason

    def accept(self, driver_id: str, now: datetime) -> None:
        self._require("accept", RideState.OFFERED)
        self._require_driver(driver_id)
        self._accepted(at=now)

    @event("Accepted")
    def _accepted(self, at: datetime) -> None:
        self.state = RideState.ACCEPTED
        self.accepted_at = at

    def decline(self, driver_id: str, reason: str) -> None:
        """A driver declines without penalty; the ride waits for the next driver."""
        self._require("decline", RideState.OFFERED)
        self._require_driver(driver_id)
        self._declined(driver_id=driver_id, reason=reason)

    @event("Declined")
    def _declined(self, driver_id: str, reason: str) -> None:
        self.state = RideState.WAITING
        self.declined_by.append(driver_id)
        self.driver_id = None
        self.offer_reason = None

    def pick_up(self, driver_id: str, now: datetime) -> None:
        self._require("mark picked up", RideState.ACCEPTED)
        self._require_driver(driver_id)
        self._picked_up(at=now)

    @event("PickedUp")
    def _picked_up(self, at: datetime) -> None:
        self.state = RideState.PICKED_UP
        self.picked_up_at = at

    def drop_off(self, driver_id: str, now: datetime, policy: FarePolicy) -> None:
        """Complete the ride: fare from the co-op's formula on distance and minutes riding."""
        self._require("mark dropped off", RideState.PICKED_UP)
        self._require_driver(driver_id)
        assert self.picked_up_at is not None  # noqa: S101 (guaranteed by PICKED_UP state)
        minutes = Decimal((now - self.picked_up_at).total_seconds() / 60).quantize(Decimal("0.1"))
        fare = price(policy, distance_km=self.distance_km, minutes=max(minutes, Decimal(0)))
        assert self.accepted_at is not None  # noqa: S101 (accepted before picked up)
        driver_minutes = Decimal((now - self.accepted_at).total_seconds() / 60).quantize(
            Decimal("0.1")
        )
        # The event carries what its readers need (rider, driver, distance), so the published
        # RideCompleted can be made from this one event.
        self._completed(
            at=now,
            rider_id=self.rider_id,
            driver_id=driver_id,
            distance_km=self.distance_km,
            riding_minutes=minutes,
            driver_minutes=driver_minutes,
            fare=fare.total,
            currency=fare.currency,
            split=fare.split,
        )

    @event("Completed")
    def _completed(
        self,
        at: datetime,
        rider_id: str,
        driver_id: str,
        distance_km: Decimal,
        riding_minutes: Decimal,
        driver_minutes: Decimal,
        fare: Decimal,
        currency: str,
        split: dict[str, Decimal],
    ) -> None:
        self.state = RideState.COMPLETED
        self.completed_at = at
        self.riding_minutes = riding_minutes
        self.driver_minutes = driver_minutes
        self.fare = fare
        self.split = split

    def cancel(self, by: str, reason: str, now: datetime) -> None:
        self._require("cancel", RideState.WAITING, RideState.OFFERED, RideState.ACCEPTED)
        self._cancelled(rider_id=self.rider_id, by=by, reason=reason, at=now)

    @event("Cancelled")
    def _cancelled(self, rider_id: str, by: str, reason: str, at: datetime) -> None:
        self.state = RideState.CANCELLED
        self.cancel_reason = reason
        self.cancelled_by = by


# Index kinds (kernel.indexes.Index): the drivers of a city, a member's rides as a rider, and a
# city's rides waiting for a driver (oldest first; dispatch retries them).
DRIVERS = "rides.drivers"
RIDER_RIDES = "rides.rider-rides"
WAITING = "rides.waiting"


def new_ride_id() -> UUID:
    return uuid4()
