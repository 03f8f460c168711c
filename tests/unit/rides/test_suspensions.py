"""Rides acts on a driver's standing, as decisions publishes it: a suspended driver is taken off
duty (an offer held lapses to the next batch; a ride in progress is finished, not abandoned) and
cannot go on duty until the suspension is lifted. Applied through the real consumer, once per
fact however often it is delivered."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from kernel.config import Settings
from kernel.ids import new_member_id
from services.rides.application import Rides
from services.rides.domain import DriverStatus, Place, RideState, SuspendedFromDriving
from services.rides.projections import Drivers
from tests.support.rides import DEMO, consume_decisions, decisions_envelope, next_batch

if TYPE_CHECKING:
    from pathlib import Path
    from uuid import UUID

    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.05, 3.72), Place(51.03, 3.75)
SUSPENSION = uuid4()  # the decisions service's Suspension aggregate for the driver


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=DEMO)  # batch matching


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def on_duty(rides: Rides, *, north: float = 0.0) -> str:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat + north, lon=PICKUP.lon)
    return driver


def suspended(driver: str, clock: FixedClock, *, position: int = 1) -> tuple[bytes, bytes]:
    payload = {
        "driver_id": driver,
        "decision_id": f"decision-{driver}",
        "suspended_by": member(),
        "reason": "safety_report",
        "suspended_at": clock.now().isoformat(),
    }
    return decisions_envelope(
        "decisions.DriverSuspended",
        payload,
        aggregate=SUSPENSION,
        position=position,
        at=clock.now(),
    )


def lifted(driver: str, clock: FixedClock, *, position: int = 2) -> tuple[bytes, bytes]:
    payload = {
        "driver_id": driver,
        "decision_id": str(uuid4()),
        "lifted_by": member(),
        "appeal_id": None,
        "lifted_at": clock.now().isoformat(),
    }
    return decisions_envelope(
        "decisions.SuspensionLifted",
        payload,
        aggregate=SUSPENSION,
        position=position,
        at=clock.now(),
    )


def request(rides: Rides) -> UUID:
    return rides.request_ride(member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)


def test_a_suspended_driver_is_taken_off_duty_and_cannot_go_on_duty(
    rides: Rides, clock: FixedClock
) -> None:
    driver = on_duty(rides)

    consume_decisions(rides, suspended(driver, clock))

    assert rides.driver(driver).status is DriverStatus.OFF_DUTY
    rides.catch_up(Drivers)
    assert rides.drivers_of([driver])[driver].status is DriverStatus.OFF_DUTY
    version = rides.driver(driver).version
    with pytest.raises(SuspendedFromDriving) as refused:
        rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    assert refused.value.member_id == driver
    assert rides.driver(driver).version == version  # nothing changed


def test_an_open_offer_lapses_to_the_next_batch_and_another_driver(
    rides: Rides, clock: FixedClock
) -> None:
    driver = on_duty(rides)
    ride_id = request(rides)
    next_batch(rides, clock)
    assert rides.ride(ride_id).driver_id == driver
    other = on_duty(rides, north=0.01)

    consume_decisions(rides, suspended(driver, clock))

    ride = rides.ride(ride_id)
    assert (ride.state, ride.driver_id) == (RideState.WAITING, None)
    assert driver in ride.declined_by  # never offered to them again
    assert (rides.driver(driver).status, rides.driver(driver).current_ride) == (
        DriverStatus.OFF_DUTY,
        None,
    )
    next_batch(rides, clock)
    assert rides.ride(ride_id).driver_id == other


def test_a_ride_in_progress_is_finished_then_the_driver_is_off_duty(
    rides: Rides, clock: FixedClock
) -> None:
    driver = on_duty(rides)
    ride_id = request(rides)
    next_batch(rides, clock)
    rides.accept_ride(driver, ride_id)
    rides.mark_picked_up(driver, ride_id)

    consume_decisions(rides, suspended(driver, clock))

    assert rides.driver(driver).status is DriverStatus.ON_RIDE  # not abandoned
    clock.advance(timedelta(minutes=9))
    done = rides.mark_dropped_off(driver, ride_id)
    assert done.state is RideState.COMPLETED
    assert done.fare is not None
    assert rides.driver(driver).status is DriverStatus.OFF_DUTY
    rides.catch_up(Drivers)
    assert rides.drivers_of([driver])[driver].status is DriverStatus.OFF_DUTY


def test_a_lifted_suspension_lets_the_driver_go_on_duty_again(
    rides: Rides, clock: FixedClock
) -> None:
    driver = on_duty(rides)

    consume_decisions(rides, suspended(driver, clock), lifted(driver, clock))

    assert rides.driver(driver).status is DriverStatus.OFF_DUTY  # lifting does not put on duty
    assert rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon).status is DriverStatus.AVAILABLE


def test_a_suspension_delivered_twice_is_applied_once(rides: Rides, clock: FixedClock) -> None:
    driver = on_duty(rides)
    message = suspended(driver, clock)

    consume_decisions(rides, message, message)
    version = rides.driver(driver).version
    # the same fact again, under a new consumer group (a replay from the start)
    consume_decisions(rides, message)

    assert rides.driver(driver).version == version
    assert rides.driver(driver).suspended


def test_a_member_suspended_before_registering_is_suspended_once_registered(
    rides: Rides, clock: FixedClock
) -> None:
    driver = member()
    consume_decisions(rides, suspended(driver, clock))

    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")

    with pytest.raises(SuspendedFromDriving):
        rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)


def test_on_sqlite_a_poll_of_suspension_and_lifting_is_applied_in_order_once(
    clock: FixedClock, tmp_path: Path
) -> None:
    # the durable store records a poll's messages in one transaction (kernel.batch)
    rides = Rides(Settings(persistence="sqlite", data_dir=tmp_path), clock=clock, city=DEMO)
    try:
        driver = on_duty(rides)
        ride_id = request(rides)
        next_batch(rides, clock)
        assert rides.ride(ride_id).driver_id == driver

        consume_decisions(rides, suspended(driver, clock), lifted(driver, clock))

        assert rides.ride(ride_id).state is RideState.WAITING
        assert not rides.driver(driver).suspended
        assert rides.driver(driver).status is DriverStatus.OFF_DUTY
        rides.catch_up(Drivers)
        assert rides.drivers_of([driver])[driver].status is DriverStatus.OFF_DUTY
    finally:
        rides.close()
