"""Command side of the rides context. Each public method is one use case."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Transcoding

from kernel.eventstore import FederationApplication, retry_on_conflict
from kernel.geo import InvalidPoint, Point, great_circle_km
from matching.travel import HaversineProvider
from services.rides.dispatch import Candidate, nearest_suitable
from services.rides.domain import (
    DRIVERS,
    RIDER_RIDES,
    WAITING,
    Driver,
    DriverAlreadyRegistered,
    DriverNotRegistered,
    FarePolicy,
    InvalidRideRequest,
    NotYourRide,
    Place,
    Ride,
    RideNotFound,
    RideState,
    price,
)

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence import JSONTranscoder

    from services.rides.domain import Fare


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


class Rides(FederationApplication):
    service = "rides"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlaceAsDict())

    # -- drivers --------------------------------------------------------------------------------
    def register_driver(
        self, member_id: str, *, seats: int, wheelchair_accessible: bool, vehicle: str
    ) -> UUID:
        if seats < 1 or seats > 16:
            raise InvalidRideRequest("seats", f"a vehicle has 1 to 16 passenger seats, got {seats}")
        if not vehicle.strip() or len(vehicle) > 80:
            raise InvalidRideRequest("vehicle", "describe the vehicle in 1 to 80 characters")

        def register() -> UUID:
            if Driver.create_id(member_id) in self.repository:
                raise DriverAlreadyRegistered(member_id)
            driver = Driver(member_id, seats, wheelchair_accessible, vehicle.strip())
            index = self.index(DRIVERS, self.city.id)
            index.add(driver.id)
            self.save(driver, index)
            return driver.id

        return retry_on_conflict(register)

    def go_on_duty(self, member_id: str, *, lat: float, lon: float) -> Driver:
        at = place(lat, lon, field="position")
        driver = self.driver(member_id)
        driver.go_on_duty(at)
        self.save(driver)
        self.dispatch_waiting()
        return self.driver(member_id)

    def go_off_duty(self, member_id: str) -> Driver:
        driver = self.driver(member_id)
        driver.go_off_duty()
        self.save(driver)
        return driver

    def driver(self, member_id: str) -> Driver:
        try:
            driver: Driver = self.repository.get(Driver.create_id(member_id))
        except AggregateNotFoundError:
            raise DriverNotRegistered(member_id) from None
        return driver

    def drivers(self) -> list[Driver]:
        return [self.repository.get(d) for d in self.index(DRIVERS, self.city.id).items]

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

        def request() -> UUID:
            ride = Ride.request(
                rider_id=rider_id,
                pickup=pickup,
                dropoff=dropoff,
                seats=seats,
                wheelchair=wheelchair,
                distance_km=km,
                quote=fare.total,
                currency=fare.currency,
                now=self.clock.now(),
                booked_by=booked_by,
            )
            history = self.index(RIDER_RIDES, rider_id)
            history.add(ride.id)
            waiting = self.index(WAITING, self.city.id)
            waiting.add(ride.id)
            self.save(ride, history, waiting)
            return ride.id

        ride_id = retry_on_conflict(request)
        self.dispatch(ride_id)
        return ride_id

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
        drivers = {d.member_id: d for d in self.drivers() if d.available and d.position}
        choice = nearest_suitable(
            pickup=(ride.pickup.lat, ride.pickup.lon),
            seats=ride.seats,
            wheelchair=ride.wheelchair,
            candidates=[
                Candidate(m, d.position.lat, d.position.lon, d.seats, d.wheelchair_accessible)
                for m, d in drivers.items()
                if d.position is not None
            ],
            exclude=ride.declined_by,
            travel=self.travel,
            max_pickup_minutes=self.city.rides.max_pickup_minutes,
        )
        if choice is None:
            return False
        driver = drivers[choice.member_id]
        ride.offer(choice.member_id, choice.pickup_minutes, choice.reason)
        driver.receive_offer(ride.id)
        waiting = self.index(WAITING, self.city.id)
        waiting.remove(ride.id)
        self.save(ride, driver, waiting)
        return True

    def dispatch_waiting(self) -> int:
        return sum(self.dispatch(r) for r in list(self.index(WAITING, self.city.id).items))

    def accept_ride(self, member_id: str, ride_id: UUID) -> Ride:
        ride, driver = self.ride(ride_id), self.driver(member_id)
        ride.accept(member_id, self.clock.now())
        driver.start_ride(ride.id)
        self.save(ride, driver)
        return ride

    def decline_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        """Decline without penalty: the ride goes back to waiting and to the next driver."""

        def decline() -> None:
            ride, driver = self.ride(ride_id), self.driver(member_id)
            ride.decline(member_id, reason[:280])
            driver.withdraw_offer(ride.id)
            waiting = self.index(WAITING, self.city.id)
            waiting.add(ride.id)
            self.save(ride, driver, waiting)

        retry_on_conflict(decline)
        self.dispatch(ride_id)
        return self.ride(ride_id)

    def mark_picked_up(self, member_id: str, ride_id: UUID) -> Ride:
        ride = self.ride(ride_id)
        ride.pick_up(member_id, self.clock.now())
        self.save(ride)
        return ride

    def mark_dropped_off(self, member_id: str, ride_id: UUID) -> Ride:
        ride, driver = self.ride(ride_id), self.driver(member_id)
        ride.drop_off(member_id, self.clock.now(), self.fares)
        driver.finish_ride(ride.id, ride.dropoff.lat, ride.dropoff.lon)
        self.save(ride, driver)
        self.dispatch_waiting()
        return ride

    def cancel_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        return retry_on_conflict(lambda: self._cancel_ride(member_id, ride_id, reason))

    def _cancel_ride(self, member_id: str, ride_id: UUID, reason: str) -> Ride:
        ride = self.ride(ride_id)
        if member_id not in (ride.rider_id, ride.booked_by, ride.driver_id):
            raise NotYourRide(ride.id, member_id)
        was_offered_to = (
            ride.driver_id if ride.state in (RideState.OFFERED, RideState.ACCEPTED) else None
        )
        ride.cancel(member_id, reason[:280], self.clock.now())
        changed: list[Any] = [ride]
        if was_offered_to:
            driver = self.driver(was_offered_to)
            driver.withdraw_offer(ride.id)
            changed.append(driver)
        waiting = self.index(WAITING, self.city.id)
        if ride.id in waiting.items:
            waiting.remove(ride.id)
            changed.append(waiting)
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

    def rides_of(self, member_id: str) -> list[Ride]:
        return [self.ride(r) for r in self.index(RIDER_RIDES, member_id).items]

    def drives_of(self, member_id: str) -> list[Ride]:
        return [self.ride(r) for r in self.driver(member_id).rides]
