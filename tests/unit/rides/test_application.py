"""Rides with POPO persistence under the nearest-first policy (the skeleton's dispatch, kept
as the benchmark's baseline): the nearest suitable driver, declines, waiting. Batch matching is
tests/unit/rides/test_batching.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from kernel.config import Settings
from kernel.geo import Point, great_circle_km
from kernel.ids import new_member_id
from kernel.money import Money
from kernel.readside.freshness import written
from services.rides.application import Rides
from services.rides.domain import (
    DriverAlreadyRegistered,
    DriverBusy,
    DriverNotRegistered,
    DriverStatus,
    InvalidRideRequest,
    NotYourRide,
    Place,
    RideNotFound,
    RideState,
)
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from uuid import UUID

    from kernel.time import FixedClock

PICKUP = Place(51.0500, 3.7200)
DROPOFF = Place(51.0300, 3.7500)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def on_duty(
    rides: Rides, lat: float, lon: float, *, seats: int = 4, wheelchair: bool = False
) -> str:
    driver = member()
    rides.register_driver(driver, seats=seats, wheelchair_accessible=wheelchair, vehicle="car")
    rides.go_on_duty(driver, lat=lat, lon=lon)
    return driver


def request(rides: Rides, *, seats: int = 1, wheelchair: bool = False) -> UUID:
    return rides.request_ride(
        member(), pickup=PICKUP, dropoff=DROPOFF, seats=seats, wheelchair=wheelchair
    )


# Offsets north of the pickup, in degrees of latitude (~111 m per 0.001).
NEAR, FAR, FARTHER = 0.005, 0.015, 0.030


def test_the_nearest_available_driver_gets_the_offer(rides: Rides) -> None:
    far = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)

    ride = rides.ride(request(rides))

    assert (ride.state, ride.driver_id) == (RideState.OFFERED, near)
    assert ride.offer_reason is not None
    assert "nearest on-duty driver with 1 seat(s)" in ride.offer_reason
    assert "(of 2 suitable)" in ride.offer_reason
    assert rides.driver(near).status is DriverStatus.OFFERED
    assert rides.driver(far).status is DriverStatus.AVAILABLE


def test_a_car_with_too_few_seats_is_skipped(rides: Rides) -> None:
    on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon, seats=2)
    roomy = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon, seats=6)

    assert rides.ride(request(rides, seats=4)).driver_id == roomy


def test_a_wheelchair_request_skips_a_nearer_car_without_access(rides: Rides) -> None:
    on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon, wheelchair=False)
    accessible = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon, wheelchair=True)

    ride = rides.ride(request(rides, wheelchair=True))

    assert ride.driver_id == accessible
    assert ride.offer_reason is not None
    assert "wheelchair access" in ride.offer_reason
    assert "(of 1 suitable)" in ride.offer_reason


def test_a_decline_moves_the_ride_on_and_never_back_to_the_decliner(rides: Rides) -> None:
    first = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    second = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    ride_id = request(rides)
    assert rides.ride(ride_id).driver_id == first

    after_first = rides.decline_ride(first, ride_id, "break time")
    assert (after_first.state, after_first.driver_id) == (RideState.OFFERED, second)
    assert rides.driver(first).status is DriverStatus.AVAILABLE  # no penalty, free again

    after_second = rides.decline_ride(second, ride_id, "wrong way")
    # The first driver is nearest and available, but declined already: the ride waits.
    assert (after_second.state, after_second.driver_id) == (RideState.WAITING, None)
    assert after_second.declined_by == [first, second]
    rides.go_on_duty(first, lat=PICKUP.lat, lon=PICKUP.lon)
    assert rides.ride(ride_id).state is RideState.WAITING

    third = on_duty(rides, PICKUP.lat + FARTHER, PICKUP.lon)
    assert rides.ride(ride_id).driver_id == third


def test_with_no_driver_the_ride_waits_until_one_goes_on_duty(rides: Rides) -> None:
    ride_id = request(rides)
    assert rides.ride(ride_id).state is RideState.WAITING

    driver = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)

    ride = rides.ride(ride_id)
    assert (ride.state, ride.driver_id) == (RideState.OFFERED, driver)


def test_a_driver_beyond_the_maximum_pickup_time_is_not_offered(rides: Rides) -> None:
    policy = rides.city.rides
    # Straight-line km that take exactly the maximum pickup time on the road, plus 10 %.
    limit_km = float(
        policy.average_speed_kmh * policy.max_pickup_minutes / 60 / policy.detour_factor
    )
    degrees = limit_km * 1.1 / 111.19
    here = Point(PICKUP.lat + degrees, PICKUP.lon)
    assert great_circle_km(here, Point(PICKUP.lat, PICKUP.lon)) > limit_km

    on_duty(rides, here.lat, here.lon)
    ride_id = request(rides)

    assert rides.ride(ride_id).state is RideState.WAITING
    # Just inside the limit, a second driver does get it.
    inside = on_duty(rides, PICKUP.lat + degrees * 0.8, PICKUP.lon)
    assert rides.ride(ride_id).driver_id == inside


def test_a_completed_ride_frees_the_driver_for_the_next_waiting_ride(
    rides: Rides, clock: FixedClock
) -> None:
    driver = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    first, second = request(rides), request(rides)
    assert rides.ride(second).state is RideState.WAITING

    rides.accept_ride(driver, first)
    rides.mark_picked_up(driver, first)
    clock.advance(timedelta(minutes=9))
    done = rides.mark_dropped_off(driver, first)

    assert done.state is RideState.COMPLETED
    assert rides.ride(second).driver_id == driver
    assert [r.id for r in rides.drives_of(driver, seen=written(rides)).page.items] == [first]


def test_the_quote_and_the_ride_use_the_city_formula(rides: Rides) -> None:
    km, fare = rides.quote(pickup=PICKUP, dropoff=DROPOFF)
    policy = rides.city.rides
    straight = Decimal(
        great_circle_km(Point(PICKUP.lat, PICKUP.lon), Point(DROPOFF.lat, DROPOFF.lon))
    )
    assert km == (straight * policy.detour_factor).quantize(Decimal("0.01"))
    minutes = (km / policy.average_speed_kmh * 60).quantize(Decimal("0.1"))
    expected = policy.fare_base + policy.fare_per_km * km + policy.fare_per_minute * minutes
    assert fare.total == Money.of(expected.quantize(Decimal("0.01")), rides.city.currency)
    assert sum(m.amount for m in fare.split.values()) == fare.total.amount

    ride = rides.ride(request(rides))
    assert (ride.distance_km, ride.quote) == (km, fare.total)


# -- refusals -------------------------------------------------------------------------------------
def test_registering_twice_is_refused(rides: Rides) -> None:
    driver = on_duty(rides, PICKUP.lat, PICKUP.lon)
    before = rides.recorder.max_notification_id()
    with pytest.raises(DriverAlreadyRegistered):
        rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    assert rides.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("seats", "vehicle", "field"), [(0, "car", "seats"), (17, "bus", "seats"), (4, " ", "vehicle")]
)
def test_registering_a_bad_vehicle_is_refused(
    rides: Rides, seats: int, vehicle: str, field: str
) -> None:
    with pytest.raises(InvalidRideRequest) as caught:
        rides.register_driver(member(), seats=seats, wheelchair_accessible=False, vehicle=vehicle)
    assert caught.value.field == field
    assert rides.recorder.max_notification_id() is None


def test_coordinates_out_of_range_name_the_field(rides: Rides) -> None:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    with pytest.raises(InvalidRideRequest, match="position: latitude 91") as caught:
        rides.go_on_duty(driver, lat=91, lon=0)
    assert caught.value.field == "position"


def test_unknown_rides_and_drivers_are_not_found(rides: Rides) -> None:
    from uuid import uuid4

    with pytest.raises(RideNotFound):
        rides.ride(uuid4())
    with pytest.raises(DriverNotRegistered):
        rides.go_on_duty(member(), lat=51, lon=3)


def test_only_the_offered_driver_acts_on_a_ride(rides: Rides) -> None:
    driver = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    other = on_duty(rides, PICKUP.lat + FARTHER, PICKUP.lon)
    ride_id = request(rides)
    assert rides.ride(ride_id).driver_id == driver
    before = rides.recorder.max_notification_id()

    with pytest.raises(NotYourRide):
        rides.accept_ride(other, ride_id)
    rides.accept_ride(driver, ride_id)
    rides.mark_picked_up(driver, ride_id)
    after = rides.recorder.max_notification_id()
    with pytest.raises(NotYourRide):
        rides.mark_dropped_off(other, ride_id)

    assert before is not None
    assert after is not None
    assert after > before
    assert rides.recorder.max_notification_id() == after
    assert rides.driver(other).status is DriverStatus.AVAILABLE


def test_a_driver_on_a_ride_cannot_go_off_duty(rides: Rides) -> None:
    driver = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    request(rides)
    with pytest.raises(DriverBusy):
        rides.go_off_duty(driver)


def test_cancelling_an_offered_ride_frees_the_driver_and_strangers_cannot(rides: Rides) -> None:
    driver = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    rider = member()
    ride_id = rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)

    with pytest.raises(NotYourRide):
        rides.cancel_ride(member(), ride_id, "not mine")

    ride = rides.cancel_ride(rider, ride_id, "plans changed")
    assert ride.state is RideState.CANCELLED
    assert rides.driver(driver).status is DriverStatus.AVAILABLE
    assert [r.id for r in rides.rides_of(rider, seen=written(rides)).page.items] == [ride_id]
