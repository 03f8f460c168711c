"""Vehicles for on-demand drivers: a driver registers their own, or takes one of the co-op's
fleet (the city config's van); going on duty with one makes matching use its seats and
wheelchair places. Another driver's vehicle, an unknown one or a bad one is refused by name,
changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from kernel.config import Settings
from kernel.ids import new_member_id
from services.rides.application import Rides
from services.rides.domain import (
    DriverBusy,
    DriverNotRegistered,
    InvalidRideRequest,
    Place,
    RideState,
)
from services.rides.projections import Vehicles
from services.rides.vehicles import COOP, NotYourVehicle, UnknownVehicle, VehicleInUse
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.05, 3.72), Place(51.03, 3.75)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def a_driver(rides: Rides) -> str:
    driver = member()
    rides.register_driver(driver, seats=3, wheelchair_accessible=False, vehicle="small car")
    return driver


def test_the_vehicle_registered_with_is_the_drivers_first(rides: Rides) -> None:
    driver = a_driver(rides)
    rides.catch_up(Vehicles)

    [first] = rides.vehicles_of(driver).page.items

    assert (first.spec.owner, first.spec.seats, first.spec.wheelchair_places) == (driver, 3, 0)
    assert first.spec.description == "small car"


def test_on_duty_with_a_wheelchair_vehicle_the_driver_is_matched_to_a_wheelchair_rider(
    rides: Rides,
) -> None:
    driver = a_driver(rides)
    van = rides.register_vehicle(driver, seats=5, wheelchair_places=2, description="white van")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)  # in the small car
    waiting = rides.request_ride(member(), pickup=PICKUP, dropoff=DROPOFF, seats=4, wheelchair=True)
    assert rides.ride(waiting).state is RideState.WAITING  # the car cannot take it

    rides.go_off_duty(driver)
    on_duty = rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=str(van.id))

    assert (on_duty.vehicle_id, on_duty.seats, on_duty.wheelchair_accessible) == (
        str(van.id),
        5,
        True,
    )
    ride = rides.ride(waiting)
    assert (ride.state, ride.driver_id) == (RideState.OFFERED, driver)
    assert rides.drivers_of([driver])[driver].vehicle == "white van"


def test_any_driver_may_take_the_coops_van(rides: Rides) -> None:
    driver = a_driver(rides)
    [van] = [v for v in rides.fleet_vehicles() if v.owner == COOP]

    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=van.id)
    ride_id = rides.request_ride(member(), pickup=PICKUP, dropoff=DROPOFF, seats=6, wheelchair=True)

    assert rides.ride(ride_id).driver_id == driver
    assert rides.driver(driver).seats == van.seats == 7


def test_another_drivers_vehicle_is_refused_and_nothing_changes(rides: Rides) -> None:
    owner, other = a_driver(rides), a_driver(rides)
    theirs = rides.register_vehicle(owner, seats=4, wheelchair_places=0, description="red car")
    version = rides.driver(other).version

    with pytest.raises(NotYourVehicle) as refused:
        rides.go_on_duty(other, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=str(theirs.id))

    assert (refused.value.vehicle_id, refused.value.member_id) == (str(theirs.id), other)
    assert rides.driver(other).version == version


@pytest.mark.parametrize("vehicle_id", ["no-such-van", "7d3c5b8e-0000-4000-8000-000000000000"])
def test_an_unknown_vehicle_is_refused(rides: Rides, vehicle_id: str) -> None:
    driver = a_driver(rides)

    with pytest.raises(UnknownVehicle) as refused:
        rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=vehicle_id)

    assert refused.value.vehicle_id == vehicle_id


def test_a_ride_id_is_not_a_vehicle(rides: Rides) -> None:
    driver = a_driver(rides)
    ride_id = rides.request_ride(
        member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False
    )

    with pytest.raises(UnknownVehicle):
        rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=str(ride_id))


def test_the_vehicle_cannot_change_while_holding_a_ride(rides: Rides) -> None:
    driver = a_driver(rides)
    other = rides.register_vehicle(driver, seats=4, wheelchair_places=0, description="estate")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    rides.request_ride(member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)

    with pytest.raises(DriverBusy):
        rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=str(other.id))


@pytest.mark.parametrize(
    ("seats", "places", "description", "field"),
    [
        (0, 0, "car", "seats"),
        (17, 0, "car", "seats"),
        (4, -1, "car", "wheelchairPlaces"),
        (4, 7, "car", "wheelchairPlaces"),
        (4, 0, "  ", "description"),
        (4, 0, "x" * 81, "description"),
        (4, 0, "car\nwith a second line", "description"),
    ],
)
def test_a_bad_vehicle_is_refused_by_field_and_nothing_is_saved(
    rides: Rides, seats: int, places: int, description: str, field: str
) -> None:
    driver = a_driver(rides)
    head = rides.head()

    with pytest.raises(InvalidRideRequest) as refused:
        rides.register_vehicle(
            driver, seats=seats, wheelchair_places=places, description=description
        )

    assert refused.value.field == field
    assert rides.head() == head


def test_only_a_driver_registers_a_vehicle(rides: Rides) -> None:
    with pytest.raises(DriverNotRegistered):
        rides.register_vehicle(member(), seats=4, wheelchair_places=0, description="car")


def test_my_vehicles_come_in_pages_oldest_first(rides: Rides, clock: FixedClock) -> None:
    driver = a_driver(rides)
    made = []
    for i in range(3):
        clock.advance(timedelta(minutes=1))
        made.append(
            rides.register_vehicle(driver, seats=4, wheelchair_places=0, description=f"car {i}")
        )
    rides.catch_up(Vehicles)
    first = rides.vehicles_of(driver, first=2)
    rest = rides.vehicles_of(driver, first=2, after=first.page.end_cursor)

    shown = [v.spec.description for v in (*first.page.items, *rest.page.items)]
    assert shown == ["small car", *(v.description for v in made)]
    assert first.page.has_next
    assert not rest.page.has_next


def test_the_vans_one_driver_at_a_time_until_they_go_off_duty(rides: Rides) -> None:
    first, second = a_driver(rides), a_driver(rides)
    rides.go_on_duty(first, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id="van")
    version = rides.driver(second).version

    with pytest.raises(VehicleInUse) as refused:
        rides.go_on_duty(second, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id="van")

    assert refused.value.vehicle_id == "van"
    assert rides.driver(second).version == version
    rides.go_off_duty(first)
    assert rides.go_on_duty(second, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id="van").seats == 7


def test_going_on_duty_in_another_vehicle_frees_the_van(rides: Rides) -> None:
    first, second = a_driver(rides), a_driver(rides)
    own = rides.register_vehicle(first, seats=4, wheelchair_places=0, description="own car")
    rides.go_on_duty(first, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id="van")
    rides.go_on_duty(first, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id=str(own.id))  # on duty

    taken = rides.go_on_duty(second, lat=PICKUP.lat, lon=PICKUP.lon, vehicle_id="van")

    assert taken.vehicle_id == "van"
