"""Command side of the rides context, and its read-model queries. Each public method is one
use case.

Lists come from the read models (services.rides.projections), never from loading aggregates.
A command that decides on a table (dispatch choosing a driver) first catches the table up
(`catch_up`), so it sees every save before it; the aggregates it then loads have the last
word (a driver refuses a second offer), and optimistic concurrency settles races between
replicas (`retry_on_conflict`).
"""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import Transcoding

from kernel.eventstore import FederationApplication, retry_on_conflict
from kernel.geo import InvalidPoint, Point, great_circle_km
from kernel.paging import page_request
from kernel.personal import open_personal_data
from kernel.policies import PolicyLog
from kernel.readside.freshness import read_after
from kernel.transcodings import EnumAsValue
from matching.assignment import WaitPriority
from matching.travel import HaversineProvider, OsrmTableProvider
from services.rides.area import ServiceArea
from services.rides.batching import Batch, BatchDriver, BatchRequest, offer_reason, plan_batch
from services.rides.dispatch import RINGS, Box, Candidate, ranked, reach_box, reach_km
from services.rides.domain import (
    OPEN_STATES,
    Driver,
    DriverAlreadyRegistered,
    DriverBusy,
    DriverNotRegistered,
    DriverStatus,
    InvalidRideRequest,
    NotYourRide,
    OutsideServiceArea,
    Place,
    Ride,
    RideNotFound,
    RideNotInState,
    RideState,
    TooManyOpenRides,
)
from services.rides.export import export_member
from services.rides.fares import ChargeRules, FarePolicy, price
from services.rides.inbound import DriverSuspended, SuspensionLifted
from services.rides.incidents import (
    Incident,
    IncidentKind,
    IncidentNotFound,
    IncidentOutcome,
    IncidentState,
    ReporterRole,
    clean_text,
)
from services.rides.projections import (
    Dispatching,
    Drivers,
    IncidentRecord,
    Incidents,
    Listing,
    RideRecord,
    RideRecords,
    VehicleRecord,
    Vehicles,
)
from services.rides.rules import charge_rules, fare_policy
from services.rides.scheduling.application import ScheduledRides
from services.rides.solidarity import Solidarity
from services.rides.standing import Standing
from services.rides.vehicles import (
    NotYourVehicle,
    UnknownVehicle,
    Vehicle,
    VehicleSpec,
    VehicleUse,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from eventsourcing.persistence import JSONTranscoder

    from kernel.cities import RidesPolicy
    from matching.travel import TravelTimeProvider
    from services.rides.dispatch import Choice
    from services.rides.fares import Fare
    from services.rides.projections import DriverRecord

# A go-on-duty or a drop-off offers the freed driver's neighbourhood this many waiting rides at
# most, oldest first: enough for any real queue, and a bound on the work of one command.
WAITING_BATCH = 50
# Candidates tried per ring, nearest first, when the nearer ones turn out to hold an offer
# already (the table had not yet applied it): a few, never the whole box.
CANDIDATE_TRIES = 5
# The most waiting requests one batch takes (oldest first) and lapsed offers one tick handles:
# a bound on one batch's work; the rest wait one window more.
BATCH_LIMIT = 2000


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
ASSIGNED = "assign"
MAX_REASON = 280
INCIDENT = "incident"
RESOLUTION = "resolution"


def _reason_field(kind: str, ride_id: UUID) -> str:
    """The vault field of a reason (or an incident's account): the kind and 80 bits of the
    ride's (or incident's) id (fields are short)."""
    return f"{kind}_{ride_id.hex[:20]}"


class Rides(ScheduledRides, FederationApplication):
    service = "rides"
    read_models = (
        Drivers,
        RideRecords,
        Dispatching,
        Vehicles,
        Incidents,
        *ScheduledRides.scheduled_read_models,
    )
    # The policy versions decisions adopted (decisions.PolicyChanged), so `policies()` and
    # `policy_version(at)` answer with them (kernel.policies).
    inbound_read_models = (PolicyLog,)
    # A driver's standing decides on what an earlier message of the same poll may have just
    # recorded (lifting a suspension finds none yet, and changes nothing): one transaction per
    # consumed message. Rides consumes only decisions' few events, so this costs nothing.
    consume_in_batches = False
    # A driver gains a few events per ride; a snapshot keeps a cold load short.
    snapshotting_intervals = {Driver: 100}  # noqa: RUF012 (the library declares it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After the store is open (a vault beside its file or schema): what members write.
        self.personal = open_personal_data(self.settings, self.service)
        policy = self.city.rides
        # The file's rules (policy version 1); a drop-off prices by the version then in force.
        self.fares = fare_policy(self.city)
        self.charges = charge_rules(self.city)
        self._fares_by_version: dict[int, FarePolicy] = {1: self.fares}
        self._charges_by_version: dict[int, ChargeRules] = {1: self.charges}
        self.area = (
            ServiceArea(policy.service_area.polygon) if policy.service_area is not None else None
        )
        self.travel: TravelTimeProvider = HaversineProvider(
            detour_factor=float(policy.detour_factor), speed_kmh=float(policy.average_speed_kmh)
        )
        if policy.travel.provider == "osrm":
            assert policy.travel.osrm_url is not None  # noqa: S101 (the config checks this)
            self.travel = OsrmTableProvider(
                policy.travel.osrm_url,
                policy.travel.osrm_profile,
                timeout=policy.travel.timeout_seconds,
            )
        self.reach_km = reach_km(
            max_pickup_minutes=policy.max_pickup_minutes,
            speed_kmh=float(policy.average_speed_kmh),
            detour_factor=float(policy.detour_factor),
        )

    @property
    def batched(self) -> bool:
        """True when immediate rides wait for the next batch (the city's matching policy)."""
        return self.city.rides.matching.policy == "batch"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlaceAsDict())
        transcoder.register(EnumAsValue(DriverStatus, "rides.DriverStatus"))
        transcoder.register(EnumAsValue(RideState, "rides.RideState"))
        for kind, name in (
            (IncidentKind, "IncidentKind"),
            (ReporterRole, "ReporterRole"),
            (IncidentOutcome, "IncidentOutcome"),
            (IncidentState, "IncidentState"),
        ):
            transcoder.register(EnumAsValue(kind, f"rides.{name}"))

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
            standing = self._standing(member_id)
            if standing is not None and standing.decision_id is not None:
                driver.suspend(standing.decision_id)  # suspended before registering
            # The vehicle they registered with is their first (myVehicles).
            first = Vehicle(
                member_id,
                seats,
                1 if wheelchair_accessible else 0,
                vehicle.strip(),
                self.clock.now(),
            )
            self.save(driver, first)
            return driver.id

        return retry_on_conflict(register)

    def go_on_duty(
        self, member_id: str, *, lat: float, lon: float, vehicle_id: str | None = None
    ) -> Driver:
        """On duty at (lat, lon), with one of their vehicles or the co-op's fleet's
        (`vehicle_id`; None: the vehicle as before): matching uses its seats and wheelchair
        access. Refused: `UnknownVehicle`, `NotYourVehicle`, `VehicleInUse` (another driver
        is on duty with it), `SuspendedFromDriving`."""
        at = place(lat, lon, field="position")
        vehicle = None if vehicle_id is None else self.vehicle(vehicle_id)
        if vehicle is not None and not vehicle.usable_by(member_id):
            raise NotYourVehicle(vehicle.id, member_id)

        def go() -> None:
            driver = self.driver(member_id)
            driver.go_on_duty(at, vehicle)
            if vehicle is None:
                self.save(driver)
                return
            use = self._vehicle_use(vehicle.id)
            holder = None if use.driver_id in (None, member_id) else self.driver(use.driver_id)
            use.take(
                member_id,
                holder_on_duty_with_it=holder is not None
                and holder.status is not DriverStatus.OFF_DUTY
                and holder.vehicle_id == vehicle.id,
            )
            self.save(driver, use)

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

    # -- vehicles ---------------------------------------------------------------------------------
    def register_vehicle(
        self, member_id: str, *, seats: int, wheelchair_places: int, description: str
    ) -> Vehicle:
        """A driver registers a vehicle of their own (refused with `InvalidRideRequest` naming
        the field: seats, wheelchairPlaces or description)."""
        self.driver(member_id)  # only a registered driver (DriverNotRegistered otherwise)
        vehicle = Vehicle.register(
            member_id,
            seats=seats,
            wheelchair_places=wheelchair_places,
            description=description,
            now=self.clock.now(),
        )
        self.save(vehicle)  # a new aggregate: nothing to race with
        return vehicle

    def _vehicle_use(self, vehicle_id: str) -> VehicleUse:
        try:
            found: VehicleUse = self.repository.get(VehicleUse.create_id(vehicle_id))
        except AggregateNotFoundError:
            return VehicleUse(vehicle_id)
        return found

    def fleet_vehicles(self) -> list[VehicleSpec]:
        """The co-op's own vehicles (and any the config names for a driver), from the city
        config: every driver may take one owned by the co-op."""
        return [
            VehicleSpec(v.id, v.owner, v.seats, v.wheelchair_places, v.name)
            for v in self.city.rides.scheduled.vehicles
        ]

    def vehicle(self, vehicle_id: str) -> VehicleSpec:
        """A registered vehicle by id, or one of the city config's fleet by its name there."""
        for fleet in self.fleet_vehicles():
            if fleet.id == vehicle_id:
                return fleet
        try:
            found: object = self.repository.get(UUID(vehicle_id))
        except (ValueError, AggregateNotFoundError):
            raise UnknownVehicle(vehicle_id) from None
        if not isinstance(found, Vehicle):
            raise UnknownVehicle(vehicle_id)
        return found.spec()

    def vehicles_of(
        self,
        member_id: str,
        *,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> Listing[VehicleRecord]:
        """The vehicles the member registered, oldest first, one page (as `rides_of`)."""
        request = page_request(first, after, arity=2)
        as_of = read_after(self, Vehicles, seen)
        return Listing(self.read_model(Vehicles).of_owner(member_id, request), as_of)

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
    def in_area(self, at: Place, *, field: str) -> Place:
        """`at` if it is inside the city's service area; refused by name otherwise."""
        if self.area is not None and not self.area.contains(at.lat, at.lon):
            raise OutsideServiceArea(field, at.lat, at.lon)
        return at

    def quote(self, *, pickup: Place, dropoff: Place) -> tuple[Decimal, Fare]:
        """Distance (km) and the fare at the estimated minutes; both ends in the service area.

        Haversine: the straight line times the city's detour factor at its average speed. With
        a routing engine (OSRM), its road distance and time.
        """
        self.in_area(pickup, field="pickup")
        self.in_area(dropoff, field="dropoff")
        if isinstance(self.travel, HaversineProvider):
            straight = great_circle_km(
                Point(pickup.lat, pickup.lon), Point(dropoff.lat, dropoff.lon)
            )
            rules = self.rules_now()
            km = (Decimal(straight) * rules.detour_factor).quantize(Decimal("0.01"))
            minutes = (km / rules.average_speed_kmh * 60).quantize(Decimal("0.1"))
        else:
            road = self.travel.matrix([(pickup.lat, pickup.lon)], [(dropoff.lat, dropoff.lon)])
            metres = road.metres[0, 0] if road.metres is not None else float("inf")
            if not (math.isfinite(metres) and math.isfinite(road.seconds[0, 0])):
                raise InvalidRideRequest("dropoff", "no road route from the pickup")
            km = (Decimal(metres) / 1000).quantize(Decimal("0.01"))
            minutes = (Decimal(float(road.seconds[0, 0])) / 60).quantize(Decimal("0.1"))
        return km, price(self.fares_at(self.clock.now()), distance_km=km, minutes=minutes)

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
        self._check_open_rides(rider_id)
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
        if not self.batched:
            self.dispatch(ride.id)  # nearest-first: offered at once, or waits for a driver
        return ride.id

    def _check_open_rides(self, rider_id: str) -> None:
        """The city's cap on open rides per member, from the rides table caught up to now (two
        requests of one member at the very same instant could both pass: the cap is a guard
        against hoarding drivers, not a ledger)."""
        limit = self.rules_now().max_open_rides_per_member
        self.catch_up(RideRecords)
        count = self.read_model(RideRecords).open_of(rider_id, states=OPEN_STATES, limit=limit)
        if count >= limit:
            raise TooManyOpenRides(rider_id, count, limit)

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
                now = self.clock.now()
                ride.offer(
                    choice.member_id,
                    choice.pickup_minutes,
                    choice.reason,
                    now=now,
                    expires_at=now + self._offer_time,
                )
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
            max_pickup_minutes=self.rules_now().max_pickup_minutes,
            # Inside a smaller ring only those within its circle are surely the nearest.
            within_km=None if whole_reach else radius_km,
        )
        return choices[:CANDIDATE_TRIES]

    @property
    def _offer_time(self) -> timedelta:
        return timedelta(seconds=self.rules_now().matching.offer_seconds)

    def dispatch_waiting(self, *, near: Place | None = None) -> int:
        """Nearest-first only: offer waiting rides, oldest first; only those a driver at `near`
        could reach. Under batch matching the next batch takes them."""
        if self.batched:
            return 0
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
        if not self.batched:
            self.dispatch(ride_id)
        return self.ride(ride_id)

    def assign_ride(self, dispatcher: str, ride_id: UUID, driver_id: str, reason: str) -> Ride:
        """The desk offers a waiting or offered ride to the driver it names, overriding the
        batch, with a reason (kept in the dispatcher's vault; the event names the dispatcher).
        A standing offer is taken back first, with no mark against its driver. The named
        driver must be free and their vehicle suitable; they may still decline, as always."""
        words = reason.strip()
        if not words or len(words) > MAX_REASON:
            raise InvalidRideRequest("reason", f"say why, in 1 to {MAX_REASON} characters")

        def assign() -> Ride:
            ride, chosen = self.ride(ride_id), self.driver(driver_id)
            if ride.state is RideState.OFFERED and ride.driver_id == driver_id:
                raise RideNotInState(ride.id, ride.state, "assign to the driver it is offered to")
            if chosen.seats < ride.seats or (ride.wheelchair and not chosen.wheelchair_accessible):
                needs = f"{ride.seats} seat(s)" + (
                    " and wheelchair access" if ride.wheelchair else ""
                )
                raise InvalidRideRequest(
                    "driverId", f"the ride needs {needs}; this vehicle has not"
                )
            now = self.clock.now()
            changed: list[Any] = [ride, chosen]
            if ride.state is RideState.OFFERED:
                before = self.driver(ride.take_back_offer(by=dispatcher, now=now))
                before.withdraw_offer(ride.id)
                changed.append(before)
            chosen.receive_offer(ride.id)  # DriverBusy unless on duty and free
            assert chosen.position is not None  # noqa: S101 (free means on duty, with a position)
            seconds = float(
                self.travel.matrix(
                    [(chosen.position.lat, chosen.position.lon)],
                    [(ride.pickup.lat, ride.pickup.lon)],
                ).seconds[0, 0]
            )
            minutes = Decimal(seconds / 60 if math.isfinite(seconds) else 0).quantize(
                Decimal("0.1")
            )
            ride.offer(
                driver_id,
                minutes,
                f"a dispatcher chose you for this ride: {minutes} min to pickup",
                now=now,
                expires_at=now + self._offer_time,
            )
            self.save(*changed)
            return ride

        ride = retry_on_conflict(assign)
        self._keep_reason(dispatcher, ASSIGNED, ride_id, words)
        return ride

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

    def mark_arriving(self, member_id: str, ride_id: UUID) -> Ride:
        """The driver is at the pickup: from now the city's no-show wait counts."""

        def arrive() -> Ride:
            ride = self.ride(ride_id)
            ride.arrive(member_id, self.clock.now())
            self.save(ride)
            return ride

        return retry_on_conflict(arrive)

    def mark_picked_up(self, member_id: str, ride_id: UUID) -> Ride:
        def pick_up() -> Ride:
            ride = self.ride(ride_id)
            ride.pick_up(member_id, self.clock.now())
            self.save(ride)
            return ride

        return retry_on_conflict(pick_up)

    def fares_at(self, when: datetime) -> FarePolicy:
        """The fare rules in force at `when`: the city config plus the decisions adopted by
        then (kernel.policies), naming their policy version."""
        policies = self.policies()
        effective = policies.at(when)
        found = self._fares_by_version.get(effective.version)
        if found is None:
            # An adopted version never changes: its rules are kept once made.
            found = fare_policy(effective.config, policy_version=effective.version)
            self._fares_by_version[effective.version] = found
        return found

    def rules_now(self) -> RidesPolicy:
        """The rides rules in force now: the city file as changed by the decisions adopted by
        now (the open-ride cap, offer time, longest wait and pickup, detour and speed). What
        shapes the service itself (batch or nearest, the fleet) stays the file's."""
        return self.policies().at(self.clock.now()).config.rides

    def charges_at(self, when: datetime) -> ChargeRules:
        """The cancellation and no-show rules in force at `when`, naming their policy version
        (as `fares_at`)."""
        effective = self.policies().at(when)
        found = self._charges_by_version.get(effective.version)
        if found is None:
            found = charge_rules(effective.config, policy_version=effective.version)
            self._charges_by_version[effective.version] = found
        return found

    def mark_dropped_off(self, member_id: str, ride_id: UUID) -> Ride:
        def drop_off() -> Ride:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            solidarity = self.has_solidarity_fare(ride.rider_id)
            now = self.clock.now()
            ride.drop_off(member_id, now, self.fares_at(now), solidarity=solidarity)
            driver.finish_ride(ride.id, ride.dropoff)
            self.save(ride, driver)
            return ride

        ride = retry_on_conflict(drop_off)
        self.dispatch_waiting(near=ride.dropoff)
        return ride

    def mark_no_show(self, member_id: str, ride_id: UUID) -> Ride:
        """The rider did not come: after the city's wait at the pickup, with its fee."""

        def no_show() -> Ride:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            now = self.clock.now()
            ride.no_show(member_id, now, self.charges_at(now))
            driver.withdraw_offer(ride.id)
            self.save(ride, driver)
            return ride

        ride = retry_on_conflict(no_show)
        self.dispatch_waiting(near=ride.pickup)
        return ride

    def cancel_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        ride = retry_on_conflict(lambda: self._cancel_ride(member_id, ride_id))
        self._keep_reason(member_id, CANCELLED, ride_id, reason)
        return ride

    def _cancel_ride(self, member_id: str, ride_id: UUID) -> Ride:
        ride = self.ride(ride_id)
        if member_id not in (ride.rider_id, ride.booked_by, ride.driver_id):
            raise NotYourRide(ride.id, member_id)
        holding = (RideState.OFFERED, RideState.ACCEPTED, RideState.ARRIVING)
        was_offered_to = ride.driver_id if ride.state in holding else None
        # The words go to the vault; the charge (maybe nothing) names the rule that decided it.
        now = self.clock.now()
        ride.cancel(member_id, "", now, rules=self.charges_at(now))
        changed: list[Any] = [ride]
        if was_offered_to:
            driver = self.driver(was_offered_to)
            driver.withdraw_offer(ride.id)
            changed.append(driver)
        self.save(*changed)
        return ride

    # -- drivers' standing (decisions.DriverSuspended / SuspensionLifted) -------------------------
    def _standing(self, member_id: str) -> Standing | None:
        try:
            found: Standing = self.repository.get(Standing.create_id(member_id))
        except AggregateNotFoundError:
            return None
        return found

    @singledispatchmethod
    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """Policy versions are kept by the PolicyLog read model; nothing else is acted on."""

    @react.register
    def when_driver_suspended_stand_down(
        self, event: DriverSuspended, processing: ProcessingEvent[UUID]
    ) -> None:
        """Off duty now (an offer held lapses to the next batch), or after the ride in progress
        is finished; no going on duty until the suspension is lifted. Idempotent by the fact:
        the same decision applied twice changes nothing."""
        standing = self._standing(event.driver_id) or Standing(event.driver_id)
        if not standing.suspend(event.decision_id, event.reason, event.suspended_at):
            return
        changed: list[Any] = [standing]
        if Driver.create_id(event.driver_id) in self.repository:
            driver = self.driver(event.driver_id)
            released = driver.suspend(event.decision_id)
            changed.append(driver)
            if released is not None:
                ride = self.ride(released)
                ride.release_offer(event.driver_id, self.clock.now())
                changed.append(ride)
        processing.collect_events(*changed)

    @react.register
    def when_suspension_lifted_reinstate(
        self, event: SuspensionLifted, processing: ProcessingEvent[UUID]
    ) -> None:
        standing = self._standing(event.driver_id)
        if standing is None or not standing.lift(event.decision_id, event.lifted_at):
            return
        changed: list[Any] = [standing]
        if Driver.create_id(event.driver_id) in self.repository:
            driver = self.driver(event.driver_id)
            driver.reinstate(event.decision_id)
            changed.append(driver)
        processing.collect_events(*changed)

    # -- solidarity fares -------------------------------------------------------------------------
    def has_solidarity_fare(self, member_id: str) -> bool:
        try:
            named: Solidarity = self.repository.get(Solidarity.create_id(member_id))
        except AggregateNotFoundError:
            return False
        return named.named

    def name_for_solidarity(self, member_id: str, *, by: str, named: bool) -> bool:
        """The board names (or stops naming) a member for solidarity fares; True if named now."""

        def change() -> bool:
            now = self.clock.now()
            try:
                record: Solidarity = self.repository.get(Solidarity.create_id(member_id))
            except AggregateNotFoundError:
                if not named:
                    return False
                self.save(Solidarity(member_id, by, now))
                return True
            if named:
                record.name_again(by, now)
            else:
                record.withdraw(by, now)
            self.save(record)
            return record.named

        return retry_on_conflict(change)

    # -- batch matching ---------------------------------------------------------------------------
    def run_batch(self) -> Batch | None:
        """One batch window: lapse the offers whose time is up, match the waiting requests to the
        free drivers (batch policy) or offer them nearest-first (nearest policy), and answer the
        requests nobody could serve within the city's bound on a wait. The decision is recorded
        (`Batch.Decided`) before any offer; returns it (None if nothing was waiting).

        Run by one matcher per city (services.rides.matcher); safe beside commands: every offer
        is a save of the ride and the driver under optimistic concurrency, and one that lost a
        race (the rider cancelled, the driver went off duty) is left to the next batch.
        """
        now = self.clock.now()
        self.catch_up(RideRecords, Drivers, Dispatching)
        for offer in self.read_model(Dispatching).lapsed(now, limit=BATCH_LIMIT):
            self._lapse(offer.ride_id, now)
        if not self.batched:
            self.dispatch_waiting()
            self._give_up_on_overdue(now, reasons={})
            return None
        self.catch_up(RideRecords, Drivers, Dispatching)
        waiting = self.read_model(RideRecords).waiting(limit=BATCH_LIMIT)
        if not waiting:
            return None
        policy = self.city.rides
        requests = [
            BatchRequest(
                str(r.id),
                (r.pickup.lat, r.pickup.lon),
                r.seats,
                r.wheelchair,
                max((now - r.requested_at).total_seconds(), 0.0),
            )
            for r in waiting
        ]
        drivers = [
            BatchDriver(
                d.member_id, (d.position.lat, d.position.lon), d.seats, d.wheelchair_accessible
            )
            for d in self._free_drivers_near(waiting)
            if d.position is not None
        ]
        passed = self.read_model(Dispatching).passed([r.id for r in waiting])
        decision = plan_batch(
            requests,
            drivers,
            passed={str(k): v for k, v in passed.items()},
            travel=self.travel,
            max_pickup_s=policy.max_pickup_minutes * 60,
            priority=WaitPriority(overdue_after_s=float(policy.matching.priority_after_seconds)),
        )
        batch = Batch.record(now, decision)
        self.save(batch)
        by_id = {str(r.id): r for r in waiting}
        offer_time = self._offer_time  # read once: the policy in force, for the whole batch
        for made in decision.offers:
            record = by_id[made.ride_id]
            reason = offer_reason(
                now, decision, made, seats=record.seats, wheelchair=record.wheelchair
            )
            self._offer_from_batch(
                record.id,
                made.driver_id,
                Decimal(made.pickup_s / 60),
                reason,
                now,
                batch.id,
                offer_time,
            )
        self._give_up_on_overdue(
            now, reasons={u.ride_id: u.reason for u in decision.unmatched}, batch_id=batch.id
        )
        return batch

    def _free_drivers_near(self, waiting: list[RideRecord]) -> list[DriverRecord]:
        """Available drivers inside one box holding every waiting pickup's reach."""
        lats = [r.pickup.lat for r in waiting]
        lons = [r.pickup.lon for r in waiting]
        corner_boxes = reach_box(min(lats), min(lons), self.reach_km) + reach_box(
            max(lats), max(lons), self.reach_km
        )
        box = Box(
            (min(b.lat[0] for b in corner_boxes), max(b.lat[1] for b in corner_boxes)),
            (min(b.lon[0] for b in corner_boxes), max(b.lon[1] for b in corner_boxes)),
        )
        return self.read_model(Drivers).available_in([box], seats=1, wheelchair=False)

    def _offer_from_batch(
        self,
        ride_id: UUID,
        driver_id: str,
        pickup_minutes: Decimal,
        reason: str,
        now: Any,
        batch_id: UUID,
        offer_time: timedelta,
    ) -> None:
        def offer() -> None:
            ride, driver = self.ride(ride_id), self.driver(driver_id)
            # The driver's time to answer runs from the offer, not from the batch's start: a
            # batch slowed by its catch-up (or a clock moved meanwhile) must not shorten it.
            offered_at = max(now, self.clock.now())
            ride.offer(
                driver_id,
                pickup_minutes.quantize(Decimal("0.1")),
                reason,
                now=offered_at,
                expires_at=offered_at + offer_time,
                batch_id=batch_id,
            )
            driver.receive_offer(ride.id)
            self.save(ride, driver)

        # The rider cancelled, or the driver took another ride or went off duty, since the
        # tables were read: the ride (if still waiting) goes into the next batch.
        with contextlib.suppress(RideNotInState, DriverBusy, NotYourRide):
            retry_on_conflict(offer)

    def _lapse(self, ride_id: UUID, now: Any) -> None:
        def lapse() -> None:
            ride = self.ride(ride_id)
            if not ride.offer_lapsed_by(now):
                return  # answered meanwhile
            driver_id = ride.driver_id
            ride.lapse_offer(now)
            changed: list[Any] = [ride]
            if driver_id is not None:
                driver = self.driver(driver_id)
                if driver.current_ride == ride.id:
                    driver.withdraw_offer(ride.id)  # free again, and no mark against them
                    changed.append(driver)
            self.save(*changed)

        retry_on_conflict(lapse)

    def _give_up_on_overdue(
        self, now: Any, *, reasons: dict[str, str], batch_id: UUID | None = None
    ) -> None:
        """Rides still waiting past the city's bound on a wait: answered `unservable`, with the
        reason the last batch gave (or that nobody took it in time)."""
        bound = timedelta(minutes=self.rules_now().matching.max_wait_minutes)
        self.catch_up(RideRecords)
        for record in self.read_model(RideRecords).waiting(limit=BATCH_LIMIT):
            if now - record.requested_at < bound:
                break  # oldest first: the rest waited less
            reason = reasons.get(str(record.id), "no_driver_took_it_in_time")

            def give_up(ride_id: UUID = record.id, why: str = reason) -> None:
                ride = self.ride(ride_id)
                if ride.state is RideState.WAITING:
                    ride.mark_unservable(why, now, batch_id=batch_id)
                    self.save(ride)

            retry_on_conflict(give_up)

    def batch(self, batch_id: UUID) -> Batch:
        found: Batch = self.repository.get(batch_id)
        return found

    def ride(self, ride_id: UUID) -> Ride:
        try:
            ride: Ride = self.repository.get(ride_id)
        except AggregateNotFoundError:
            raise RideNotFound(ride_id) from None
        if not isinstance(ride, Ride):
            raise RideNotFound(ride_id)
        return ride

    # -- incidents (routed to the safety team) ----------------------------------------------------
    def report_incident(
        self,
        caller: str,
        ride_id: UUID,
        *,
        kind: IncidentKind,
        text: str,
        for_member: str | None = None,
    ) -> Incident:
        """The ride's rider (or booker) or driver reports an incident; with `for_member`, the
        desk (`caller`, a dispatcher, checked by the resolver) records it for that rider or
        driver. What they said goes to the reporter's vault, never to an event. Refused:
        `RideNotFound`, `NotYourRide`, `InvalidRideRequest` (field `text`)."""
        said = clean_text(text, field="text", required=True)
        ride = self.ride(ride_id)
        reporter = caller if for_member is None else for_member
        if reporter in (ride.rider_id, ride.booked_by):
            role = ReporterRole.RIDER
        elif reporter == ride.driver_id:
            role = ReporterRole.DRIVER
        else:
            raise NotYourRide(ride.id, reporter)
        incident = Incident(
            ride.id,
            kind,
            reporter,
            role,
            None if for_member is None else caller,
            self.clock.now(),
        )
        field = _reason_field(INCIDENT, incident.id)
        self.personal.put(reporter, field, said)
        try:
            self.save(incident)  # a new aggregate: nothing to race with
        except Exception:
            self.personal.remove(reporter, field)  # no account kept without its incident
            raise
        return incident

    def incident(self, incident_id: UUID) -> Incident:
        try:
            found: object = self.repository.get(incident_id)
        except AggregateNotFoundError:
            raise IncidentNotFound(incident_id) from None
        if not isinstance(found, Incident):
            raise IncidentNotFound(incident_id)
        return found

    def resolve_incident(
        self, member_id: str, incident_id: UUID, *, outcome: IncidentOutcome, note: str = ""
    ) -> Incident:
        """The safety team resolves an incident with an outcome (and a note, kept in the
        resolver's vault). Refused: `IncidentNotFound`, `IncidentAlreadyResolved`."""
        said = clean_text(note, field="note", required=False)

        def resolve() -> Incident:
            incident = self.incident(incident_id)
            incident.resolve(outcome, by=member_id, now=self.clock.now())
            self.save(incident)
            return incident

        incident = retry_on_conflict(resolve)
        if said:
            self.personal.put(member_id, _reason_field(RESOLUTION, incident_id), said)
        return incident

    def incident_texts(
        self, incident_id: UUID, *, reported_by: str, resolved_by: str | None
    ) -> tuple[str | None, str | None]:
        """What the reporter said and the safety team's note (None: nothing, or erased)."""
        said = self.personal.get(reported_by, _reason_field(INCIDENT, incident_id))
        note = (
            None
            if resolved_by is None
            else self.personal.get(resolved_by, _reason_field(RESOLUTION, incident_id))
        )
        return said, note

    def incidents(
        self,
        *,
        state: IncidentState | None = None,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> Listing[IncidentRecord]:
        """Incidents for the safety team, first reported first (in `state`, or all), one page."""
        request = page_request(first, after, arity=2)
        as_of = read_after(self, Incidents, seen)
        return Listing(self.read_model(Incidents).listed(request, state=state), as_of)

    def incidents_reported_by(
        self, member_id: str, *, first: int | None = None, after: str | None = None
    ) -> Listing[IncidentRecord]:
        request = page_request(first, after, arity=2)
        as_of = read_after(self, Incidents, None)
        return Listing(self.read_model(Incidents).reported_by(member_id, request), as_of)

    def export_member(self, member_id: str) -> dict[str, Any]:
        """Everything rides holds about the member (their part of `myData`)."""
        return export_member(self, member_id)

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
