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
from services.rides.fares import cancellation_charge, no_show_charge, price

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from uuid import UUID

    from services.rides.fares import Charge, ChargeRules, FarePolicy
    from services.rides.vehicles import VehicleSpec


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


class SuspendedFromDriving(RidesError):
    """A board member's recorded decision suspended the driver (decisions): no going on duty
    until it is lifted."""

    def __init__(self, member_id: str) -> None:
        super().__init__(f"driver {member_id} is suspended by a board decision")
        self.member_id = member_id


class OutsideServiceArea(RidesError):
    """A pickup or drop-off outside the city's service area (the polygon in its config)."""

    def __init__(self, field: str, lat: float, lon: float) -> None:
        super().__init__(f"{field} ({lat}, {lon}) is outside the city's service area")
        self.field = field
        self.lat = lat
        self.lon = lon


class TooManyOpenRides(RidesError):
    """The member has as many rides open (requested, not yet ended) as the city allows."""

    def __init__(self, member_id: str, open_rides: int, limit: int) -> None:
        super().__init__(
            f"member {member_id} has {open_rides} rides open; the city allows {limit} at once"
        )
        self.member_id = member_id
        self.open_rides = open_rides
        self.limit = limit


class OfferExpired(RidesError):
    """The offer lapsed before the driver answered; the ride went (or goes) to the next batch."""

    def __init__(self, ride_id: UUID, driver_id: str, expired_at: datetime) -> None:
        super().__init__(f"the offer of ride {ride_id} to {driver_id} lapsed at {expired_at}")
        self.ride_id = ride_id
        self.driver_id = driver_id
        self.expired_at = expired_at


class NoShowTooEarly(RidesError):
    """A no-show is marked only after the city's wait at the pickup."""

    def __init__(self, ride_id: UUID, waited_minutes: Decimal, required_minutes: int) -> None:
        super().__init__(
            f"ride {ride_id}: the driver has waited {waited_minutes} min at the pickup; a no-show "
            f"needs {required_minutes} min"
        )
        self.ride_id = ride_id
        self.waited_minutes = waited_minutes
        self.required_minutes = required_minutes


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
    WAITING = "waiting"  # requested, waiting for the next batch (no driver offered yet)
    OFFERED = "offered"  # matched: offered to one driver, until they answer or it lapses
    ACCEPTED = "accepted"  # the driver is on the way
    ARRIVING = "arriving"  # the driver is at the pickup: the no-show wait counts from here
    PICKED_UP = "picked_up"
    DROPPED_OFF = "dropped_off"  # at the drop-off; the fare is fixed in the same command
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # by the rider, their booker or the driver
    NO_SHOW = "no_show"  # the rider did not come after the city's wait at the pickup
    UNSERVABLE = "unservable"  # nobody could serve it within the city's bound on a wait


# Rides still open: they count against the member's cap on open rides.
OPEN_STATES = (
    RideState.WAITING,
    RideState.OFFERED,
    RideState.ACCEPTED,
    RideState.ARRIVING,
    RideState.PICKED_UP,
)
# States where the ride has a driver on the way or with them.
WITH_DRIVER = (RideState.OFFERED, RideState.ACCEPTED, RideState.ARRIVING, RideState.PICKED_UP)


class Driver(Aggregate):
    """A driver-member and their vehicle.

    Invariants: a driver holds at most one ride (`current_ride`), offered or in progress; an
    offer is received only while AVAILABLE (so never two offers at once); only the ride held is
    started, finished or withdrawn; a suspended driver never goes on duty, and is off duty
    once the ride in progress (if any) is finished. State is bounded: completed rides are
    counted, not listed.
    """

    # Drivers registered (and snapshotted) before suspensions and vehicles were recorded were
    # never suspended and named no vehicle: the class attributes stand in for the instance's.
    suspended = False
    vehicle_id: str | None = None

    class Registered(Aggregate.Created):
        member_id: str
        seats: int
        wheelchair_accessible: bool
        vehicle: str

    class WentOnDuty(Aggregate.Event):
        """v2: the vehicle driven (its id, seats, wheelchair access, description); None: the
        vehicle as before (v1 events, and going on duty without naming one)."""

        class_version = 2
        lat: float
        lon: float
        vehicle_id: str | None
        seats: int | None
        wheelchair_accessible: bool | None
        vehicle: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(vehicle_id=None, seats=None, wheelchair_accessible=None, vehicle=None)

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

    class Suspended(Aggregate.Event):
        """A board decision suspended the driver. `released`: the ride they were offered,
        let go (it lapses to the next batch); `off_duty`: they were taken off duty now (not
        when on a ride: they finish it first)."""

        decision_id: str
        released: UUID | None
        off_duty: bool

    class Reinstated(Aggregate.Event):
        decision_id: str

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

    def go_on_duty(self, at: Place, vehicle: VehicleSpec | None = None) -> None:
        """On duty at `at`, with `vehicle` (checked as theirs or the co-op's by the caller)
        or the vehicle as before. While holding a ride: only the position moves, and the
        vehicle cannot change."""
        if self.suspended:
            raise SuspendedFromDriving(self.member_id)
        if self.status in (DriverStatus.OFFERED, DriverStatus.ON_RIDE):
            if vehicle is not None and vehicle.id != self.vehicle_id:
                raise DriverBusy(self.member_id, self.status, "change vehicle")
            self._moved(lat=at.lat, lon=at.lon)
            return
        self._went_on_duty(
            lat=at.lat,
            lon=at.lon,
            vehicle_id=None if vehicle is None else vehicle.id,
            seats=None if vehicle is None else vehicle.seats,
            wheelchair_accessible=None if vehicle is None else vehicle.wheelchair_accessible,
            vehicle=None if vehicle is None else vehicle.description,
        )

    @event(WentOnDuty)
    def _went_on_duty(
        self,
        lat: float,
        lon: float,
        vehicle_id: str | None,
        seats: int | None,
        wheelchair_accessible: bool | None,
        vehicle: str | None,
    ) -> None:
        self.status = DriverStatus.AVAILABLE
        self.position = Place(lat, lon)
        if vehicle_id is not None:
            self.vehicle_id = vehicle_id
        if seats is not None:
            self.seats = seats
        if wheelchair_accessible is not None:
            self.wheelchair_accessible = wheelchair_accessible
        if vehicle is not None:
            self.vehicle = vehicle

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
        """Let go of the ride held (declined, cancelled before pickup, a no-show); a suspended
        driver is off duty after it."""
        self._require_holding(ride_id)
        self._offer_withdrawn(ride_id=ride_id)
        if self.suspended:
            self._went_off_duty()

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
        if self.suspended:
            self._went_off_duty()  # the ride in progress was finished; now off duty

    @event(RideFinished)
    def _ride_finished(self, ride_id: UUID, lat: float, lon: float) -> None:
        self.status = DriverStatus.AVAILABLE
        self.current_ride = None
        self.position = Place(lat, lon)
        self.completed_rides += 1

    # -- standing (decisions) ----------------------------------------------------------------------
    def suspend(self, decision_id: str) -> UUID | None:
        """Suspended by a board decision: off duty now unless on a ride (finished first); an
        offer held is let go. Returns the ride let go (its offer lapses), if any."""
        if self.suspended:
            return None
        released = self.current_ride if self.status is DriverStatus.OFFERED else None
        off_duty = self.status in (DriverStatus.AVAILABLE, DriverStatus.OFFERED)
        self._suspended(decision_id=decision_id, released=released, off_duty=off_duty)
        return released

    @event(Suspended)
    def _suspended(self, decision_id: str, released: UUID | None, off_duty: bool) -> None:
        self.suspended = True
        if off_duty:
            self.status = DriverStatus.OFF_DUTY
            self.current_ride = None

    def reinstate(self, decision_id: str) -> None:
        """The suspension was lifted: the driver may go on duty again (they stay off duty)."""
        if self.suspended:
            self._reinstated(decision_id=decision_id)

    @event(Reinstated)
    def _reinstated(self, decision_id: str) -> None:
        self.suspended = False

    def _require_holding(self, ride_id: UUID) -> None:
        if self.current_ride != ride_id:
            raise NotYourRide(ride_id, self.member_id)


class Ride(Aggregate):
    """One requested trip.

    Invariants: a fare and split exist exactly when COMPLETED, and the split sums to the fare;
    a driver is named exactly while OFFERED, ACCEPTED, ARRIVING, PICKED_UP, DROPPED_OFF,
    COMPLETED or NO_SHOW (and kept when a ride offered or accepted is cancelled); only the named
    driver moves the ride on, and an offer is accepted only before it lapses. A charge (a
    cancellation or a no-show) names the rule that decided it, even when it is nothing.
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
        """v2: when, until when, and by which batch decision (services.rides.batching's
        `Batch.Decided` holds everything the decision considered). v1 offers never lapse."""

        class_version = 2
        driver_id: str
        pickup_minutes: Decimal
        reason: str
        at: datetime | None
        expires_at: datetime | None
        batch_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(at=None, expires_at=None, batch_id=None)

    class OfferLapsed(Aggregate.Event):
        """The driver did not answer in time: no penalty; the ride goes into the next batch."""

        driver_id: str
        at: datetime

    class Accepted(Aggregate.Event):
        at: datetime

    class OfferTakenBack(Aggregate.Event):
        """The desk took the offer back to give the ride to another driver (by hand, with a
        reason kept in the dispatcher's vault): no mark against the driver it was offered to."""

        driver_id: str
        by: str
        at: datetime

    class Declined(Aggregate.Event):
        driver_id: str
        reason: str

    class DriverArriving(Aggregate.Event):
        at: datetime

    class PickedUp(Aggregate.Event):
        at: datetime

    class DroppedOff(Aggregate.Event):
        at: datetime

    class Completed(Aggregate.Event):
        """Carries what its readers need (rider, driver, distance, fare), so the published
        RideCompleted is made from this one event."""

        # v2: the fare and its parts are Money (v1: Decimals beside a `currency` string).
        # v3: the fare's breakdown, the rule (and its version) that made it, and what the
        # common fund pays of a solidarity fare. v4: the city's policy version that priced it
        # (kernel.policies; None for rides completed before versions were recorded).
        class_version = 4
        at: datetime
        rider_id: str
        driver_id: str
        distance_km: Decimal
        riding_minutes: Decimal
        driver_minutes: Decimal
        fare: Money
        split: dict[str, Money]
        breakdown: dict[str, Money]
        rule: str
        rules_version: str
        common_fund_pays: Money
        policy_version: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            currency = state.pop("currency")
            state["fare"] = Money.of(state["fare"], currency)
            state["split"] = {k: Money.of(v, currency) for k, v in state["split"].items()}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            fare: Money = state["fare"]
            state.update(
                breakdown={},
                rule="formula (before rules were versioned)",
                rules_version="0",
                common_fund_pays=Money.zero(fare.currency),
            )

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["policy_version"] = None

    class Cancelled(Aggregate.Event):
        rider_id: str
        by: str
        reason: str
        at: datetime

    class Charged(Aggregate.Event):
        """What a cancellation or a no-show costs the rider (maybe nothing), by which rule."""

        kind: str
        rider_id: str
        driver_id: str | None
        amount: Money
        split: dict[str, Money]
        rule: str
        at: datetime

    class NoShow(Aggregate.Event):
        driver_id: str
        waited_minutes: Decimal
        at: datetime

    class Unservable(Aggregate.Event):
        """Nobody could serve the ride within the city's bound on a wait; `reason` is the
        matcher's (matching.assignment.UnassignedReason) in the last batch that saw it."""

        reason: str
        waited_seconds: int
        at: datetime
        batch_id: UUID | None

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
        self.offered_at: datetime | None = None
        self.offer_expires_at: datetime | None = None
        self.batch_id: UUID | None = None
        self.declined_by: list[str] = []  # who passed (declined or let lapse): bounded by drivers
        self.accepted_at: datetime | None = None
        self.arrived_at: datetime | None = None
        self.picked_up_at: datetime | None = None
        self.dropped_off_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.fare: Money | None = None
        self.split: dict[str, Money] = {}
        self.fare_breakdown: dict[str, Money] = {}
        self.fare_rule: str | None = None
        self.rules_version: str | None = None
        self.policy_version: int | None = None
        self.common_fund_pays: Money | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None
        self.cancelled_by: str | None = None
        self.charge: Money | None = None
        self.charge_kind: str | None = None
        self.charge_rule: str | None = None
        self.unservable_reason: str | None = None

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

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def _require(self, action: str, *states: RideState) -> None:
        if self.state not in states:
            raise RideNotInState(self.id, self.state, action)

    def _require_driver(self, member_id: str) -> None:
        if self.driver_id != member_id:
            raise NotYourRide(self.id, member_id)

    # -- matching ------------------------------------------------------------------------------
    def offer(
        self,
        driver_id: str,
        pickup_minutes: Decimal,
        reason: str,
        *,
        now: datetime | None = None,
        expires_at: datetime | None = None,
        batch_id: UUID | None = None,
    ) -> None:
        """Offer the ride to one driver, until `expires_at` (None: until they answer)."""
        self._require("offer", RideState.WAITING)
        self._offered(
            driver_id=driver_id,
            pickup_minutes=pickup_minutes,
            reason=reason,
            at=now,
            expires_at=expires_at,
            batch_id=batch_id,
        )

    @event(Offered)
    def _offered(
        self,
        driver_id: str,
        pickup_minutes: Decimal,
        reason: str,
        at: datetime | None,
        expires_at: datetime | None,
        batch_id: UUID | None,
    ) -> None:
        self.state = RideState.OFFERED
        self.driver_id = driver_id
        self.offer_reason = reason
        self.offered_at = at
        self.offer_expires_at = expires_at
        self.batch_id = batch_id

    def offer_lapsed_by(self, now: datetime) -> bool:
        """True while OFFERED and the offer's time is up at `now`."""
        return (
            self.state is RideState.OFFERED
            and self.offer_expires_at is not None
            and now >= self.offer_expires_at
        )

    def lapse_offer(self, now: datetime) -> None:
        """The offer's time is up: back to waiting for the next batch, never to that driver."""
        if not self.offer_lapsed_by(now):
            raise RideNotInState(self.id, self.state, "lapse the offer of")
        assert self.driver_id is not None  # noqa: S101 (OFFERED names a driver)
        self._offer_lapsed(driver_id=self.driver_id, at=now)

    @event(OfferLapsed)
    def _offer_lapsed(self, driver_id: str, at: datetime) -> None:
        self.state = RideState.WAITING
        self.declined_by.append(driver_id)
        self.driver_id = None
        self.offer_reason = None
        self.offer_expires_at = None

    def take_back_offer(self, *, by: str, now: datetime) -> str:
        """The desk takes the standing offer back (to assign the ride by hand); the ride waits
        again. Returns the driver it was offered to."""
        self._require("take back the offer of", RideState.OFFERED)
        assert self.driver_id is not None  # noqa: S101 (OFFERED names a driver)
        driver_id = self.driver_id
        self._offer_taken_back(driver_id=driver_id, by=by, at=now)
        return driver_id

    @event(OfferTakenBack)
    def _offer_taken_back(self, driver_id: str, by: str, at: datetime) -> None:
        self.state = RideState.WAITING
        self.driver_id = None
        self.offer_reason = None
        self.offer_expires_at = None

    def release_offer(self, driver_id: str, now: datetime) -> None:
        """The driver offered the ride can no longer take it (suspended): the offer lapses now,
        and the ride goes into the next batch, never back to them."""
        self._require("release the offer of", RideState.OFFERED)
        self._require_driver(driver_id)
        self._offer_lapsed(driver_id=driver_id, at=now)

    def mark_unservable(self, reason: str, now: datetime, *, batch_id: UUID | None = None) -> None:
        self._require("give up on", RideState.WAITING)
        waited = int((now - self.requested_at).total_seconds())
        self._unservable(reason=reason, waited_seconds=waited, at=now, batch_id=batch_id)

    @event(Unservable)
    def _unservable(
        self, reason: str, waited_seconds: int, at: datetime, batch_id: UUID | None
    ) -> None:
        self.state = RideState.UNSERVABLE
        self.unservable_reason = reason
        self.batch_id = batch_id

    # -- the driver's answers ----------------------------------------------------------------------
    def accept(self, driver_id: str, now: datetime) -> None:
        self._require("accept", RideState.OFFERED)
        self._require_driver(driver_id)
        if self.offer_lapsed_by(now):
            assert self.offer_expires_at is not None  # noqa: S101 (lapsed means it had a limit)
            raise OfferExpired(self.id, driver_id, self.offer_expires_at)
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
        self.offer_expires_at = None

    def arrive(self, driver_id: str, now: datetime) -> None:
        """The driver is at the pickup; the city's no-show wait counts from now."""
        self._require("mark arriving", RideState.ACCEPTED)
        self._require_driver(driver_id)
        self._driver_arriving(at=now)

    @event(DriverArriving)
    def _driver_arriving(self, at: datetime) -> None:
        self.state = RideState.ARRIVING
        self.arrived_at = at

    def pick_up(self, driver_id: str, now: datetime) -> None:
        self._require("mark picked up", RideState.ACCEPTED, RideState.ARRIVING)
        self._require_driver(driver_id)
        self._picked_up(at=now)

    @event(PickedUp)
    def _picked_up(self, at: datetime) -> None:
        self.state = RideState.PICKED_UP
        self.picked_up_at = at

    def drop_off(
        self, driver_id: str, now: datetime, policy: FarePolicy, *, solidarity: bool = False
    ) -> None:
        """Drop off and complete: the fare from the co-op's rules on distance and minutes riding
        (a solidarity fare if the co-op named the rider)."""
        self._require("mark dropped off", RideState.PICKED_UP)
        self._require_driver(driver_id)
        assert self.picked_up_at is not None  # noqa: S101 (guaranteed by PICKED_UP state)
        assert self.accepted_at is not None  # noqa: S101 (accepted before picked up)
        minutes = _minutes(now - self.picked_up_at)
        fare = price(
            policy,
            distance_km=self.distance_km,
            minutes=max(minutes, Decimal(0)),
            solidarity=solidarity,
        )
        self._dropped_off(at=now)
        self._completed(
            at=now,
            rider_id=self.rider_id,
            driver_id=driver_id,
            distance_km=self.distance_km,
            riding_minutes=minutes,
            driver_minutes=_minutes(now - self.accepted_at),
            fare=fare.total,
            split=fare.split,
            breakdown=fare.breakdown,
            rule=fare.rule,
            rules_version=policy.rules_version,
            common_fund_pays=fare.fund_pays,
            policy_version=policy.policy_version,
        )

    @event(DroppedOff)
    def _dropped_off(self, at: datetime) -> None:
        self.state = RideState.DROPPED_OFF
        self.dropped_off_at = at

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
        breakdown: dict[str, Money],
        rule: str,
        rules_version: str,
        common_fund_pays: Money,
        policy_version: int | None,
    ) -> None:
        self.state = RideState.COMPLETED
        self.completed_at = at
        self.riding_minutes = riding_minutes
        self.driver_minutes = driver_minutes
        self.fare = fare
        self.split = split
        self.fare_breakdown = breakdown
        self.fare_rule = rule
        self.rules_version = rules_version
        self.common_fund_pays = common_fund_pays
        self.policy_version = policy_version

    # -- endings without a trip -------------------------------------------------------------------
    def cancel(
        self, by: str, reason: str, now: datetime, *, rules: ChargeRules | None = None
    ) -> None:
        """Cancel before pickup. With `rules`, the charge is decided and recorded (the rider's or
        their booker's cancellation after the free minutes costs the fee; the driver's is free)."""
        self._require(
            "cancel", RideState.WAITING, RideState.OFFERED, RideState.ACCEPTED, RideState.ARRIVING
        )
        by_rider = by != self.driver_id
        accepted = (
            self.accepted_at if self.state in (RideState.ACCEPTED, RideState.ARRIVING) else None
        )
        self._cancelled(rider_id=self.rider_id, by=by, reason=reason, at=now)
        if rules is not None:
            charge = cancellation_charge(rules, accepted_at=accepted, now=now, by_rider=by_rider)
            self._record_charge(charge, now)

    @event(Cancelled)
    def _cancelled(self, rider_id: str, by: str, reason: str, at: datetime) -> None:
        self.state = RideState.CANCELLED
        self.cancel_reason = reason
        self.cancelled_by = by
        self.cancelled_at = at

    def no_show(self, driver_id: str, now: datetime, rules: ChargeRules) -> None:
        """The rider did not come: only after the city's wait at the pickup, with its fee."""
        self._require("mark a no-show for", RideState.ARRIVING)
        self._require_driver(driver_id)
        assert self.arrived_at is not None  # noqa: S101 (ARRIVING records when)
        waited = _minutes(now - self.arrived_at)
        if waited < rules.no_show_wait_minutes:
            raise NoShowTooEarly(self.id, waited, rules.no_show_wait_minutes)
        self._no_show(driver_id=driver_id, waited_minutes=waited, at=now)
        self._record_charge(no_show_charge(rules, waited_minutes=waited), now)

    @event(NoShow)
    def _no_show(self, driver_id: str, waited_minutes: Decimal, at: datetime) -> None:
        self.state = RideState.NO_SHOW

    def _record_charge(self, charge: Charge, now: datetime) -> None:
        self._charged(
            kind=charge.kind,
            rider_id=self.rider_id,
            driver_id=self.driver_id,
            amount=charge.amount,
            split=charge.split,
            rule=charge.rule,
            at=now,
        )

    @event(Charged)
    def _charged(
        self,
        kind: str,
        rider_id: str,
        driver_id: str | None,
        amount: Money,
        split: dict[str, Money],
        rule: str,
        at: datetime,
    ) -> None:
        self.charge = amount
        self.charge_kind = kind
        self.charge_rule = rule


def _minutes(elapsed: timedelta) -> Decimal:
    """A timedelta in minutes, to a tenth."""
    return Decimal(elapsed.total_seconds() / 60).quantize(Decimal("0.1"))
