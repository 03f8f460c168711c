"""Rides on PostgreSQL: the store is the source of truth across processes, and concurrent
gateway replicas never offer one driver two rides."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from kernel.config import PostgresDsn, Settings
from kernel.readside.freshness import written
from kernel.time import FixedClock
from services.rides.application import Rides
from services.rides.domain import DriverStatus, Place, RideState
from services.rides.projections import Drivers
from tests.integration.conftest import DRIVER, complete_rides, start_driver
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from uuid import UUID

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_settings(postgres_dsn: str, pg_schema_prefix: str) -> Settings:
    return Settings(
        persistence="postgres",
        postgres=PostgresDsn.parse(postgres_dsn),
        schema_prefix=pg_schema_prefix,
    )


def test_a_second_process_sees_what_the_first_stored(pg_settings: Settings) -> None:
    clock = FixedClock()
    first = Rides(pg_settings, clock=clock, city=NEAREST)
    start_driver(first)
    (ride_id,) = complete_rides(first, clock, 1)
    first.close()

    again = Rides(pg_settings, clock=clock, city=NEAREST)  # a new process would do exactly this
    ride = again.ride(ride_id)
    assert ride.state is RideState.COMPLETED
    assert ride.fare is not None
    assert sum(m.amount for m in ride.split.values()) == ride.fare.amount
    assert again.driver(DRIVER).completed_rides == 1
    drives = again.drives_of(DRIVER, seen=written(again)).page.items
    assert [(r.id, r.fare) for r in drives] == [(ride_id, ride.fare)]
    again.catch_up(Drivers)
    assert again.drivers_of([DRIVER])[DRIVER].completed_rides == 1
    again.close()


def test_concurrent_replicas_never_offer_one_driver_two_rides(pg_settings: Settings) -> None:
    # given two drivers on duty, and eight gateway replicas (each its own application)
    setup = Rides(pg_settings, city=NEAREST)
    drivers = [f"demo:0000000{i}-0000-4000-8000-000000000000" for i in (1, 2)]
    for d in drivers:
        start_driver(setup, d)
    replicas = [Rides(pg_settings, city=NEAREST) for _ in range(8)]
    barrier = threading.Barrier(len(replicas))
    made: list[UUID] = []
    errors: list[BaseException] = []

    def request(app: Rides, i: int) -> None:
        barrier.wait()
        try:
            made.append(
                app.request_ride(
                    f"demo:1000000{i}-0000-4000-8000-000000000000",
                    pickup=Place(51.05, 3.72 + i * 0.001),
                    dropoff=Place(51.03, 3.75),
                    seats=1,
                    wheelchair=False,
                )
            )
        except BaseException as exc:  # any failure is a test failure, reported below
            errors.append(exc)

    # when they all request a ride at the same moment
    threads = [threading.Thread(target=request, args=(a, i)) for i, a in enumerate(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then every request was stored, exactly two were offered, each to a different driver
    assert errors == []
    assert len(made) == 8
    rides = [setup.ride(r) for r in made]
    offered = Counter(r.driver_id for r in rides if r.state is RideState.OFFERED)
    assert sorted(str(d) for d in offered) == sorted(str(d) for d in drivers)
    assert set(offered.values()) == {1}
    assert sum(r.state is RideState.WAITING for r in rides) == 6
    for d in drivers:
        driver = setup.driver(d)
        assert driver.status is DriverStatus.OFFERED
        assert driver.current_ride is not None
        assert setup.ride(driver.current_ride).driver_id == d
    for app in (*replicas, setup):
        app.close()


def test_vehicles_incidents_and_fare_rows_are_kept_on_postgresql(pg_settings: Settings) -> None:
    from services.rides.incidents import IncidentKind, IncidentState

    clock = FixedClock()
    rides = Rides(pg_settings, clock=clock, city=NEAREST)
    start_driver(rides)
    van = rides.register_vehicle(DRIVER, seats=5, wheelchair_places=1, description="van, ramp")
    (ride_id,) = complete_rides(rides, clock, 1)
    ride = rides.ride(ride_id)
    incident = rides.report_incident(
        ride.rider_id, ride_id, kind=IncidentKind.LOST_PROPERTY, text="a blue scarf"
    )
    seen = written(rides)
    rides.close()

    again = Rides(pg_settings, clock=clock, city=NEAREST)
    [drive] = again.drives_of(DRIVER, seen=seen).page.items
    assert (drive.fare_breakdown, drive.fare_rule, drive.policy_version) == (
        ride.fare_breakdown,
        ride.fare_rule,
        1,
    )
    assert str(van.id) in [v.spec.id for v in again.vehicles_of(DRIVER, seen=seen).page.items]
    [listed] = again.incidents(state=IncidentState.OPEN, seen=seen).page.items
    assert (listed.id, listed.kind) == (incident.id, IncidentKind.LOST_PROPERTY)
    said, _ = again.incident_texts(incident.id, reported_by=ride.rider_id, resolved_by=None)
    assert said == "a blue scarf"
    again.close()
