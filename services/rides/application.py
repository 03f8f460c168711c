"""Command side of the rides context, and its read-model queries. Each public method is one
use case.

Lists come from the read models (services.rides.projections), never from loading aggregates.
A command that decides on a table (dispatch choosing a driver) first catches the table up
(`catch_up`), so it sees every save before it; the aggregates it then loads have the last
word (a driver refuses a second offer), and optimistic concurrency settles races between
replicas (`retry_on_conflict`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Transcoding

from kernel.eventstore import FederationApplication, retry_on_conflict
from kernel.geo import InvalidPoint, Point, great_circle_km
from kernel.paging import page_request
from kernel.personal import open_personal_data
from kernel.policies import PolicyLog
from kernel.readside.freshness import read_after
from kernel.transcodings import EnumAsValue
from matching.travel import HaversineProvider
from services.rides.dispatch import RINGS, Candidate, ranked, reach_box, reach_km
from services.rides.domain import (
    Driver,
    DriverAlreadyRegistered,
    DriverBusy,
    DriverNotRegistered,
    DriverStatus,
    InvalidRideRequest,
    NotYourRide,
    Place,
    Ride,
    RideNotFound,
    RideState,
)
from services.rides.fares import FarePolicy, price
from services.rides.projections import Drivers, Listing, RideRecord, RideRecords
from services.rides.scheduling.application import ScheduledRides

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from eventsourcing.persistence import JSONTranscoder

    from services.rides.dispatch import Choice
    from services.rides.fares import Fare
    from services.rides.projections import DriverRecord

# A go-on-duty or a drop-off offers the freed driver's neighbourhood this many waiting rides at
# most, oldest first: enough for any real queue, and a bound on the work of one command.
WAITING_BATCH = 50
# Candidates tried per ring, nearest first, when the nearer ones turn out to hold an offer
# already (the table had not yet applied it): a few, never the whole box.
CANDIDATE_TRIES = 5


class PlaceAsDict(Transcoding):
    type = Place
    name = "rides.Place"

    def encode(self, obj: Place) -> dict[str, float]:
        return {"lat": obj.lat, "lon": obj.lon}

    def decode(self, data: dict[str, float]) -> Place:
        return Place(data["lat"], data["lon"])


def place(lat: float, lon: float, *, field: str) -> Place:
    try:
        Point(lat, lon)
    except InvalidPoint as exc:
        raise InvalidRideRequest(field, str(exc)) from None
    return Place(lat, lon)


DECLINED = "decline"
CANCELLED = "cancel"


def _reason_field(kind: str, ride_id: UUID) -> str:
    """The vault field of a reason: the kind and 80 bits of the ride id (fields are short)."""
    return f"{kind}_{ride_id.hex[:20]}"


class Rides(ScheduledRides, FederationApplication):
    service = "rides"
    read_models = (Drivers, RideRecords, *ScheduledRides.scheduled_read_models)
    # The policy versions decisions adopted (decisions.PolicyChanged), so `policies()` and
    # `policy_version(at)` answer with them (kernel.policies).
    inbound_read_models = (PolicyLog,)
    # A driver gains a few events per ride; a snapshot keeps a cold load short.
    snapshotting_intervals = {Driver: 100}  # noqa: RUF012 (the library declares it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After the store is open (a vault beside its file or schema): what members write.
        self.personal = open_personal_data(self.settings, self.service)
        policy = self.city.rides
        self.fares = FarePolicy(
            base=policy.fare_base,
            per_km=policy.fare_per_km,
            per_minute=policy.fare_per_minute,
            currency=self.city.currency,
            split=policy.split,
        )
        self.travel = HaversineProvider(
            detour_factor=float(policy.detour_factor), speed_kmh=float(policy.average_speed_kmh)
        )
        self.reach_km = reach_km(
            max_pickup_minutes=policy.max_pickup_minutes,
            speed_kmh=float(policy.average_speed_kmh),
            detour_factor=float(policy.detour_factor),
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlaceAsDict())
        transcoder.register(EnumAsValue(DriverStatus, "rides.DriverStatus"))
        transcoder.register(EnumAsValue(RideState, "rides.RideState"))

    # -- drivers --------------------------------------------------------------------------------
    def register_driver(
        self, member_id: str, *, seats: int, wheelchair_accessible: bool, vehicle: str
    ) -> UUID:
        if seats < 1 or seats > 16:
            raise InvalidRideRequest("seats", f"a vehicle has 1 to 16 passenger seats, got {seats}")
        if not vehicle.strip() or len(vehicle) > 80:
            raise InvalidRideRequest("vehicle", "describe the vehicle in 1 to 80 characters")

        def register() -> UUID:
            # Two registrations at once both save version 1; the second is refused, retried,
            # and finds the first here.
            if Driver.create_id(member_id) in self.repository:
                raise DriverAlreadyRegistered(member_id)
            driver = Driver(member_id, seats, wheelchair_accessible, vehicle.strip())
            self.save(driver)
            return driver.id

        return retry_on_conflict(register)

    def go_on_duty(self, member_id: str, *, lat: float, lon: float) -> Driver:
        at = place(lat, lon, field="position")

        def go() -> None:
            driver = self.driver(member_id)
            driver.go_on_duty(at)
            self.save(driver)

        retry_on_conflict(go)
        self.dispatch_waiting(near=at)
        return self.driver(member_id)

    def go_off_duty(self, member_id: str) -> Driver:
        def go() -> Driver:
            driver = self.driver(member_id)
            driver.go_off_duty()
            self.save(driver)
            return driver

        return retry_on_conflict(go)

    def driver(self, member_id: str) -> Driver:
        try:
            driver: Driver = self.repository.get(Driver.create_id(member_id))
        except AggregateNotFoundError:
            raise DriverNotRegistered(member_id) from None
        return driver

    def drivers_of(self, member_ids: list[str]) -> dict[str, DriverRecord]:
        """Driver rows by member id, in one read of the drivers table (for a DataLoader)."""
        return self.read_model(Drivers).of_members(member_ids)

    # -- rides ----------------------------------------------------------------------------------
    def quote(self, *, pickup: Place, dropoff: Place) -> tuple[Decimal, Fare]:
        """Distance (km, with the city's detour factor) and the fare at the estimated minutes."""
        km = (
            Decimal(great_circle_km(Point(pickup.lat, pickup.lon), Point(dropoff.lat, dropoff.lon)))
            * self.city.rides.detour_factor
        )
        km = km.quantize(Decimal("0.01"))
        minutes = (km / self.city.rides.average_speed_kmh * 60).quantize(Decimal("0.1"))
        return km, price(self.fares, distance_km=km, minutes=minutes)

    def request_ride(
        self,
        rider_id: str,
        *,
        pickup: Place,
        dropoff: Place,
        seats: int,
        wheelchair: bool,
        booked_by: str | None = None,
    ) -> UUID:
        km, fare = self.quote(pickup=pickup, dropoff=dropoff)
        ride = Ride.request(
            rider_id=rider_id,
            pickup=pickup,
            dropoff=dropoff,
            seats=seats,
            wheelchair=wheelchair,
            distance_km=km,
            quote=fare.total,
            now=self.clock.now(),
            booked_by=booked_by,
        )
        self.save(ride)  # a new aggregate: nothing to race with
        self.dispatch(ride.id)
        return ride.id

    def dispatch(self, ride_id: UUID) -> bool:
        """Offer a waiting ride to the nearest suitable available driver. True if offered.

        Safe under concurrency: if another process offered the same driver (or this ride)
        meanwhile, the save is refused and the choice is made again from fresh state.
        """
        return retry_on_conflict(lambda: self._dispatch(ride_id))

    def _dispatch(self, ride_id: UUID) -> bool:
        ride = self.ride(ride_id)
        if ride.state is not RideState.WAITING:
            return False
        self.catch_up(Drivers)
        tried = set(ride.declined_by)
        for share in RINGS:
            last = share == RINGS[-1]
            radius = self.reach_km * share
            for choice in self._choices(ride, radius, exclude=tried, whole_reach=last):
                tried.add(choice.member_id)
                driver = self.driver(choice.member_id)
                try:
                    driver.receive_offer(ride.id)
                except DriverBusy:
                    continue  # offered meanwhile (by another replica, or not yet in the table)
                ride.offer(choice.member_id, choice.pickup_minutes, choice.reason)
                self.save(ride, driver)
                return True
        return False

    def _choices(
        self, ride: Ride, radius_km: float, *, exclude: set[str], whole_reach: bool
    ) -> list[Choice]:
        """The few nearest suitable drivers within `radius_km` of the pickup, from the table."""
        at = ride.pickup
        nearby = self.read_model(Drivers).available_in(
            reach_box(at.lat, at.lon, radius_km), seats=ride.seats, wheelchair=ride.wheelchair
        )
        choices = ranked(
            pickup=(at.lat, at.lon),
            seats=ride.seats,
            wheelchair=ride.wheelchair,
            candidates=[
                Candidate(
                    d.member_id, d.position.lat, d.position.lon, d.seats, d.wheelchair_accessible
                )
                for d in nearby
                if d.position is not None
            ],
            exclude=sorted(exclude),
            travel=self.travel,
            max_pickup_minutes=self.city.rides.max_pickup_minutes,
            # Inside a smaller ring only those within its circle are surely the nearest.
            within_km=None if whole_reach else radius_km,
        )
        return choices[:CANDIDATE_TRIES]

    def dispatch_waiting(self, *, near: Place | None = None) -> int:
        """Offer waiting rides, oldest first; only those a driver at `near` could reach."""
        self.catch_up(RideRecords)
        within = None if near is None else reach_box(near.lat, near.lon, self.reach_km)
        waiting = self.read_model(RideRecords).waiting(within=within, limit=WAITING_BATCH)
        return sum(self.dispatch(r.id) for r in waiting)

    def accept_ride(self, member_id: str, ride_id: UUID) -> Ride:
        def accept() -> Ride:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            ride.accept(member_id, self.clock.now())
            driver.start_ride(ride.id)
            self.save(ride, driver)
            return ride

        return retry_on_conflict(accept)

    def decline_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        """Decline without penalty: the ride goes back to waiting and to the next driver."""

        def decline() -> None:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            ride.decline(member_id, "")  # the words go to the vault (_keep_reason)
            driver.withdraw_offer(ride.id)
            self.save(ride, driver)

        retry_on_conflict(decline)
        self._keep_reason(member_id, DECLINED, ride_id, reason)
        self.dispatch(ride_id)
        return self.ride(ride_id)

    # -- what members write about a ride ---------------------------------------------------------
    # A reason for declining or cancelling is free text about a trip, and may be about a person:
    # it is kept in the writer's vault (kernel/personal.py), never in an event, so erasing the
    # writer erases it; the events record that the ride was declined or cancelled, and by whom.
    def _keep_reason(self, member_id: str, kind: str, ride_id: UUID, reason: str) -> None:
        text = reason.strip()[:280]
        if text:
            self.personal.put(member_id, _reason_field(kind, ride_id), text)

    def reason(self, kind: str, ride_id: UUID, *, by: Iterable[str | None]) -> str | None:
        """What one of `by` wrote when they declined or cancelled the ride (None if nothing)."""
        for member_id in by:
            if member_id is not None:
                found = self.personal.get(member_id, _reason_field(kind, ride_id))
                if found is not None:
                    return found
        return None

    def close(self) -> None:
        super().close()
        self.personal.close()

    def mark_picked_up(self, member_id: str, ride_id: UUID) -> Ride:
        def pick_up() -> Ride:
            ride = self.ride(ride_id)
            ride.pick_up(member_id, self.clock.now())
            self.save(ride)
            return ride

        return retry_on_conflict(pick_up)

    def mark_dropped_off(self, member_id: str, ride_id: UUID) -> Ride:
        def drop_off() -> Ride:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            ride.drop_off(member_id, self.clock.now(), self.fares)
            driver.finish_ride(ride.id, ride.dropoff)
            self.save(ride, driver)
            return ride

        ride = retry_on_conflict(drop_off)
        self.dispatch_waiting(near=ride.dropoff)
        return ride

    def cancel_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        ride = retry_on_conflict(lambda: self._cancel_ride(member_id, ride_id))
        self._keep_reason(member_id, CANCELLED, ride_id, reason)
        return ride

    def _cancel_ride(self, member_id: str, ride_id: UUID) -> Ride:
        ride = self.ride(ride_id)
        if member_id not in (ride.rider_id, ride.booked_by, ride.driver_id):
            raise NotYourRide(ride.id, member_id)
        was_offered_to = (
            ride.driver_id if ride.state in (RideState.OFFERED, RideState.ACCEPTED) else None
        )
        ride.cancel(member_id, "", self.clock.now())  # the words go to the vault
        changed: list[Any] = [ride]
        if was_offered_to:
            driver = self.driver(was_offered_to)
            driver.withdraw_offer(ride.id)
            changed.append(driver)
        self.save(*changed)
        return ride

    def ride(self, ride_id: UUID) -> Ride:
        try:
            ride: Ride = self.repository.get(ride_id)
        except AggregateNotFoundError:
            raise RideNotFound(ride_id) from None
        if not isinstance(ride, Ride):
            raise RideNotFound(ride_id)
        return ride

    # -- lists (read models) --------------------------------------------------------------------
    def rides_of(
        self,
        member_id: str,
        *,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> Listing[RideRecord]:
        """A member's rides as a rider, newest first, one page (`first`, `after` a cursor).

        `seen` (a mutation's `position`) waits, boundedly, until the list shows that write.
        Raises `InvalidPage` (naming `first`, `after` or `seen`) or `NotCaughtUp`.
        """
        request = page_request(first, after, arity=2)
        as_of = read_after(self, RideRecords, seen)
        return Listing(self.read_model(RideRecords).of_rider(member_id, request), as_of)

    def drives_of(
        self,
        member_id: str,
        *,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> Listing[RideRecord]:
        """A driver's completed rides, newest drop-off first, one page (as `rides_of`)."""
        if Driver.create_id(member_id) not in self.repository:
            raise DriverNotRegistered(member_id)
        request = page_request(first, after, arity=2)
        as_of = read_after(self, RideRecords, seen)
        return Listing(self.read_model(RideRecords).driven_by(member_id, request), as_of)
