"""The rides domain: drivers and rides. No I/O, no clock: `now` is passed in.

Aggregates:
    Driver      a member who drives, their vehicle and duty status
    Ride        one requested trip, from request to completion or cancellation

Their event classes are declared (`Driver.OfferReceived`, `Ride.Completed`, ...), so the read
models (services.rides.projections) and the published mapping (services.rides.published) name
them by class. Neither aggregate grows with the city's history: lists of rides and drivers are
read models, not aggregate state. Fares are in services.rides.fares.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid
from kernel.money import Money
from services.rides.fares import price

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from uuid import UUID

    from services.rides.fares import FarePolicy


class RidesError(Exception):
    """Base for expected, user-facing failures in the rides context."""


class InvalidRideRequest(RidesError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class RideNotFound(RidesError):
    def __init__(self, ride_id: UUID | str) -> None:
        super().__init__(f"no ride {ride_id}")
        self.ride_id = str(ride_id)


class DriverNotRegistered(RidesError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id} is not registered as a driver")
        self.member_id = member_id


class DriverAlreadyRegistered(RidesError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id} is already registered as a driver")
        self.member_id = member_id


class NotYourRide(RidesError):
    def __init__(self, ride_id: UUID, who: str) -> None:
        super().__init__(f"ride {ride_id} is not yours ({who})")
        self.ride_id = ride_id
        self.who = who


class RideNotInState(RidesError):
    """The ride is not in a state where this action is allowed."""

    def __init__(self, ride_id: UUID, state: RideState, action: str) -> None:
        super().__init__(f"cannot {action} ride {ride_id}: it is {state.value}")
        self.ride_id = ride_id
        self.state = state
        self.action = action


class DriverBusy(RidesError):
    """The driver's status does not allow this (an offer while already offered, say)."""

    def __init__(self, member_id: str, status: DriverStatus, action: str) -> None:
        super().__init__(f"driver {member_id} cannot {action}: {status.value.replace('_', ' ')}")
        self.member_id = member_id
        self.status = status
        self.action = action


@dataclass(frozen=True)
class Place:
    """A pickup or drop-off point (validated by kernel.geo.Point at the edge)."""

    lat: float
    lon: float


# Plain enums, not StrEnum: a str subclass would be stored as a bare string in a snapshot and
# come back as one; these are stored by a transcoding (services.rides.application) instead.
class DriverStatus(Enum):
    OFF_DUTY = "off_duty"
    AVAILABLE = "available"
    OFFERED = "offered"
    ON_RIDE = "on_ride"


class RideState(Enum):
    WAITING = "waiting"  # requested, no driver offered yet
    OFFERED = "offered"
    ACCEPTED = "accepted"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Driver(Aggregate):
    """A driver-member and their vehicle.

    Invariants: a driver holds at most one ride (`current_ride`), offered or in progress; an
    offer is received only while AVAILABLE (so never two offers at once); only the ride held is
    started, finished or withdrawn. State is bounded: completed rides are counted, not listed.
    """

    class Registered(Aggregate.Created):
        member_id: str
        seats: int
        wheelchair_accessible: bool
        vehicle: str

    class WentOnDuty(Aggregate.Event):
        lat: float
        lon: float

    class Moved(Aggregate.Event):
        lat: float
        lon: float

    class WentOffDuty(Aggregate.Event):
        pass

    class OfferReceived(Aggregate.Event):
        ride_id: UUID

    class OfferWithdrawn(Aggregate.Event):
        ride_id: UUID

    class RideStarted(Aggregate.Event):
        ride_id: UUID

    class RideFinished(Aggregate.Event):
        ride_id: UUID
        lat: float
        lon: float

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("driver", member_id)

    @event(Registered)
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
        self.completed_rides = 0

    @property
    def available(self) -> bool:
        return self.status is DriverStatus.AVAILABLE

    def go_on_duty(self, at: Place) -> None:
        if self.status in (DriverStatus.OFFERED, DriverStatus.ON_RIDE):
            self._moved(lat=at.lat, lon=at.lon)
            return
        self._went_on_duty(lat=at.lat, lon=at.lon)

    @event(WentOnDuty)
    def _went_on_duty(self, lat: float, lon: float) -> None:
        self.status = DriverStatus.AVAILABLE
        self.position = Place(lat, lon)

    @event(Moved)
    def _moved(self, lat: float, lon: float) -> None:
        self.position = Place(lat, lon)

    def go_off_duty(self) -> None:
        if self.status in (DriverStatus.OFFERED, DriverStatus.ON_RIDE):
            raise DriverBusy(self.member_id, self.status, "go off duty")
        if self.status is DriverStatus.OFF_DUTY:
            return
        self._went_off_duty()

    @event(WentOffDuty)
    def _went_off_duty(self) -> None:
        self.status = DriverStatus.OFF_DUTY

    def receive_offer(self, ride_id: UUID) -> None:
        """Hold `ride_id` as an offer. Refused unless AVAILABLE: a driver never holds two."""
        if self.status is not DriverStatus.AVAILABLE:
            raise DriverBusy(self.member_id, self.status, "receive an offer")
        self._offer_received(ride_id=ride_id)

    @event(OfferReceived)
    def _offer_received(self, ride_id: UUID) -> None:
        self.status = DriverStatus.OFFERED
        self.current_ride = ride_id

    def withdraw_offer(self, ride_id: UUID) -> None:
        """Let go of the ride held (declined, or cancelled before pickup)."""
        self._require_holding(ride_id)
        self._offer_withdrawn(ride_id=ride_id)

    @event(OfferWithdrawn)
    def _offer_withdrawn(self, ride_id: UUID) -> None:
        self.status = DriverStatus.AVAILABLE
        self.current_ride = None

    def start_ride(self, ride_id: UUID) -> None:
        self._require_holding(ride_id)
        if self.status is not DriverStatus.OFFERED:
            raise DriverBusy(self.member_id, self.status, "start a ride")
        self._ride_started(ride_id=ride_id)

    @event(RideStarted)
    def _ride_started(self, ride_id: UUID) -> None:
        self.status = DriverStatus.ON_RIDE

    def finish_ride(self, ride_id: UUID, at: Place) -> None:
        self._require_holding(ride_id)
        if self.status is not DriverStatus.ON_RIDE:
            raise DriverBusy(self.member_id, self.status, "finish a ride")
        self._ride_finished(ride_id=ride_id, lat=at.lat, lon=at.lon)

    @event(RideFinished)
    def _ride_finished(self, ride_id: UUID, lat: float, lon: float) -> None:
        self.status = DriverStatus.AVAILABLE
        self.current_ride = None
        self.position = Place(lat, lon)
        self.completed_rides += 1

    def _require_holding(self, ride_id: UUID) -> None:
        if self.current_ride != ride_id:
            raise NotYourRide(ride_id, self.member_id)


class Ride(Aggregate):
    """One requested trip.

    Invariants: a fare and split exist exactly when COMPLETED, and the split sums to the fare;
    a driver is named exactly while OFFERED, ACCEPTED, PICKED_UP or COMPLETED (and kept when a
    ride offered or accepted is cancelled); only the named driver moves the ride on.
    """

    class Requested(Aggregate.Created):
        # v2: the quote is Money (v1 kept a Decimal beside a `currency` string).
        class_version = 2
        rider_id: str
        pickup: Place
        dropoff: Place
        seats: int
        wheelchair: bool
        distance_km: Decimal
        quote: Money
        requested_at: datetime
        booked_by: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["quote"] = Money.of(state["quote"], state.pop("currency"))

    class Offered(Aggregate.Event):
        driver_id: str
        pickup_minutes: Decimal
        reason: str

    class Accepted(Aggregate.Event):
        at: datetime

    class Declined(Aggregate.Event):
        driver_id: str
        reason: str

    class PickedUp(Aggregate.Event):
        at: datetime

    class Completed(Aggregate.Event):
        """Carries what its readers need (rider, driver, distance, fare), so the published
        RideCompleted is made from this one event."""

        # v2: the fare and its parts are Money (v1: Decimals beside a `currency` string).
        class_version = 2
        at: datetime
        rider_id: str
        driver_id: str
        distance_km: Decimal
        riding_minutes: Decimal
        driver_minutes: Decimal
        fare: Money
        split: dict[str, Money]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            currency = state.pop("currency")
            state["fare"] = Money.of(state["fare"], currency)
            state["split"] = {k: Money.of(v, currency) for k, v in state["split"].items()}

    class Cancelled(Aggregate.Event):
        rider_id: str
        by: str
        reason: str
        at: datetime

    @event(Requested)
    def __init__(
        self,
        rider_id: str,
        pickup: Place,
        dropoff: Place,
        seats: int,
        wheelchair: bool,
        distance_km: Decimal,
        quote: Money,
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
        self.requested_at = requested_at
        self.booked_by = booked_by
        self.state = RideState.WAITING
        self.driver_id: str | None = None
        self.offer_reason: str | None = None
        self.declined_by: list[str] = []  # bounded by the city's drivers
        self.accepted_at: datetime | None = None
        self.picked_up_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.fare: Money | None = None
        self.split: dict[str, Money] = {}
        self.cancelled_at: datetime | None = None
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
        quote: Money,
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
            requested_at=now,
            booked_by=booked_by,
        )

    @property
    def currency(self) -> str:
        return self.quote.currency

    def _require(self, action: str, *states: RideState) -> None:
        if self.state not in states:
            raise RideNotInState(self.id, self.state, action)

    def _require_driver(self, member_id: str) -> None:
        if self.driver_id != member_id:
            raise NotYourRide(self.id, member_id)

    def offer(self, driver_id: str, pickup_minutes: Decimal, reason: str) -> None:
        self._require("offer", RideState.WAITING)
        self._offered(driver_id=driver_id, pickup_minutes=pickup_minutes, reason=reason)

    @event(Offered)
    def _offered(self, driver_id: str, pickup_minutes: Decimal, reason: str) -> None:
        self.state = RideState.OFFERED
        self.driver_id = driver_id
        self.offer_reason = reason

    def accept(self, driver_id: str, now: datetime) -> None:
        self._require("accept", RideState.OFFERED)
        self._require_driver(driver_id)
        self._accepted(at=now)

    @event(Accepted)
    def _accepted(self, at: datetime) -> None:
        self.state = RideState.ACCEPTED
        self.accepted_at = at

    def decline(self, driver_id: str, reason: str) -> None:
        """A driver declines without penalty; the ride waits for the next driver."""
        self._require("decline", RideState.OFFERED)
        self._require_driver(driver_id)
        self._declined(driver_id=driver_id, reason=reason)

    @event(Declined)
    def _declined(self, driver_id: str, reason: str) -> None:
        self.state = RideState.WAITING
        self.declined_by.append(driver_id)
        self.driver_id = None
        self.offer_reason = None

    def pick_up(self, driver_id: str, now: datetime) -> None:
        self._require("mark picked up", RideState.ACCEPTED)
        self._require_driver(driver_id)
        self._picked_up(at=now)

    @event(PickedUp)
    def _picked_up(self, at: datetime) -> None:
        self.state = RideState.PICKED_UP
        self.picked_up_at = at

    def drop_off(self, driver_id: str, now: datetime, policy: FarePolicy) -> None:
        """Complete the ride: fare from the co-op's formula on distance and minutes riding."""
        self._require("mark dropped off", RideState.PICKED_UP)
        self._require_driver(driver_id)
        assert self.picked_up_at is not None  # noqa: S101 (guaranteed by PICKED_UP state)
        assert self.accepted_at is not None  # noqa: S101 (accepted before picked up)
        minutes = _minutes(now - self.picked_up_at)
        fare = price(policy, distance_km=self.distance_km, minutes=max(minutes, Decimal(0)))
        self._completed(
            at=now,
            rider_id=self.rider_id,
            driver_id=driver_id,
            distance_km=self.distance_km,
            riding_minutes=minutes,
            driver_minutes=_minutes(now - self.accepted_at),
            fare=fare.total,
            split=fare.split,
        )

    @event(Completed)
    def _completed(
        self,
        at: datetime,
        rider_id: str,
        driver_id: str,
        distance_km: Decimal,
        riding_minutes: Decimal,
        driver_minutes: Decimal,
        fare: Money,
        split: dict[str, Money],
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

    @event(Cancelled)
    def _cancelled(self, rider_id: str, by: str, reason: str, at: datetime) -> None:
        self.state = RideState.CANCELLED
        self.cancel_reason = reason
        self.cancelled_by = by
        self.cancelled_at = at


def _minutes(elapsed: timedelta) -> Decimal:
    """A timedelta in minutes, to a tenth."""
    return Decimal(elapsed.total_seconds() / 60).quantize(Decimal("0.1"))
