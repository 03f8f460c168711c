"""The rides read models: given events, the rows (on the in-memory store's SQLite tables)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking

from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.money import Money
from kernel.paging import page_request
from kernel.readside import ReadModel, rebuild
from services.rides.application import Rides
from services.rides.dispatch import reach_box
from services.rides.domain import Driver, DriverStatus, Place, Ride, RideState
from services.rides.projections import DriverRecord, Drivers, RideRecords
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.06, 3.71), Place(51.03, 3.75)
ON_DUTY_AT = Place(51.05, 3.72)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def given(rides: Rides, model: type[ReadModel], *aggregates: Any) -> None:
    """Feed the aggregates' pending events to the read model, as a runner would."""
    target = rides.read_model(model)
    for event in [e for a in aggregates for e in a.collect_events()]:
        position = (target.view.max_tracking_id("given") or 0) + 1
        target.process_event(event, Tracking("given", position))


def a_ride(clock: FixedClock, rider: str | None = None, *, at: Place = PICKUP) -> Ride:
    return Ride.request(
        rider_id=rider or member(),
        pickup=at,
        dropoff=DROPOFF,
        seats=2,
        wheelchair=True,
        distance_km=Decimal("4.73"),
        quote=Money.of("9.99", "EUR"),
        now=clock.now(),
    )


def a_driver(at: Place | None = ON_DUTY_AT, **kwargs: Any) -> Driver:
    fields = {"seats": 4, "wheelchair_accessible": False, "vehicle": "blue Berlingo", **kwargs}
    driver = Driver(member(), **fields)
    if at is not None:
        driver.go_on_duty(at)
    return driver


# -- drivers --------------------------------------------------------------------------------------
def driver_row(rides: Rides, driver: Driver) -> DriverRecord:
    (record,) = rides.read_model(Drivers).of_members([driver.member_id]).values()
    return record


def test_a_registered_driver_is_off_duty_with_their_vehicle(rides: Rides) -> None:
    driver = a_driver(at=None, seats=6, wheelchair_accessible=True)

    given(rides, Drivers, driver)

    assert driver_row(rides, driver) == DriverRecord(
        member_id=driver.member_id,
        status=DriverStatus.OFF_DUTY,
        position=None,
        seats=6,
        wheelchair_accessible=True,
        vehicle="blue Berlingo",
        current_ride=None,
        completed_rides=0,
    )


def test_a_driver_row_follows_duty_offers_and_rides(rides: Rides) -> None:
    driver, ride = a_driver(), uuid4()
    given(rides, Drivers, driver)
    assert driver_row(rides, driver).status is DriverStatus.AVAILABLE
    assert driver_row(rides, driver).position == Place(51.05, 3.72)

    driver.receive_offer(ride)
    driver.go_on_duty(Place(51.051, 3.721))  # while offered: a move
    given(rides, Drivers, driver)
    row = driver_row(rides, driver)
    assert (row.status, row.current_ride, row.position) == (
        DriverStatus.OFFERED,
        ride,
        Place(51.051, 3.721),
    )

    driver.start_ride(ride)
    given(rides, Drivers, driver)
    assert driver_row(rides, driver).status is DriverStatus.ON_RIDE

    driver.finish_ride(ride, DROPOFF)
    given(rides, Drivers, driver)
    row = driver_row(rides, driver)
    assert (row.status, row.current_ride, row.position, row.completed_rides) == (
        DriverStatus.AVAILABLE,
        None,
        DROPOFF,
        1,
    )

    driver.go_off_duty()
    given(rides, Drivers, driver)
    assert driver_row(rides, driver).status is DriverStatus.OFF_DUTY


def test_a_withdrawn_offer_frees_the_driver_row(rides: Rides) -> None:
    driver, ride = a_driver(), uuid4()
    driver.receive_offer(ride)
    driver.withdraw_offer(ride)

    given(rides, Drivers, driver)

    row = driver_row(rides, driver)
    assert (row.status, row.current_ride) == (DriverStatus.AVAILABLE, None)


def test_available_drivers_are_found_inside_the_box_only(rides: Rides) -> None:
    near = a_driver(Place(PICKUP.lat + 0.01, PICKUP.lon))
    van = a_driver(Place(PICKUP.lat - 0.01, PICKUP.lon), seats=6, wheelchair_accessible=True)
    far = a_driver(Place(PICKUP.lat + 1.0, PICKUP.lon))
    off = a_driver(Place(PICKUP.lat, PICKUP.lon))
    off.go_off_duty()
    busy = a_driver(Place(PICKUP.lat, PICKUP.lon))
    busy.receive_offer(uuid4())
    given(rides, Drivers, near, van, far, off, busy)
    box = reach_box(PICKUP.lat, PICKUP.lon, 5.0)
    model = rides.read_model(Drivers)

    def found(seats: int, wheelchair: bool) -> set[str]:
        return {d.member_id for d in model.available_in(box, seats=seats, wheelchair=wheelchair)}

    assert found(1, False) == {near.member_id, van.member_id}
    assert found(5, False) == {van.member_id}
    assert found(1, True) == {van.member_id}


# -- rides ----------------------------------------------------------------------------------------
def ride_row(rides: Rides, ride: Ride) -> Any:
    row = rides.read_model(RideRecords).view.get("rides", {"ride_id": str(ride.id)})
    assert row is not None
    return row


def test_a_request_writes_a_waiting_row(rides: Rides, clock: FixedClock) -> None:
    ride = a_ride(clock)

    given(rides, RideRecords, ride)

    row = ride_row(rides, ride)
    assert (row["state"], row["rider_id"], row["driver_id"]) == ("waiting", ride.rider_id, None)
    assert (row["quote"], row["currency"], row["fare"]) == (Decimal("9.99"), "EUR", None)
    assert (row["seats"], row["wheelchair"], row["distance_km"]) == (2, True, Decimal("4.73"))
    assert row["requested_at"] == clock.now()


def test_the_ride_row_changes_state_as_the_ride_moves(rides: Rides, clock: FixedClock) -> None:
    ride, driver = a_ride(clock), member()
    ride.offer(driver, Decimal("3.5"), "nearest")
    given(rides, RideRecords, ride)
    assert (ride_row(rides, ride)["state"], ride_row(rides, ride)["driver_id"]) == (
        "offered",
        driver,
    )

    ride.accept(driver, clock.now())
    clock.advance(timedelta(minutes=4))
    ride.pick_up(driver, clock.now())
    given(rides, RideRecords, ride)
    row = ride_row(rides, ride)
    assert (row["state"], row["picked_up_at"]) == ("picked_up", clock.now())

    clock.advance(timedelta(minutes=12))
    ride.drop_off(driver, clock.now(), rides.fares)
    given(rides, RideRecords, ride)

    (record,) = (
        rides.read_model(RideRecords).driven_by(driver, page_request(None, None, arity=2)).items
    )
    assert record.state is RideState.COMPLETED
    assert (record.fare, record.split, record.completed_at) == (ride.fare, ride.split, clock.now())
    assert record.quote == Money.of("9.99", "EUR")
    assert (record.pickup, record.dropoff) == (PICKUP, DROPOFF)


def test_a_declined_ride_waits_again_and_a_cancelled_one_says_why(
    rides: Rides, clock: FixedClock
) -> None:
    declined, cancelled, driver = a_ride(clock), a_ride(clock), member()
    declined.offer(driver, Decimal(2), "nearest")
    declined.decline(driver, "break")
    cancelled.cancel(cancelled.rider_id, "plans changed", clock.now())

    given(rides, RideRecords, declined, cancelled)

    row = ride_row(rides, declined)
    assert (row["state"], row["driver_id"], row["offer_reason"]) == ("waiting", None, None)
    row = ride_row(rides, cancelled)
    assert (row["state"], row["cancel_reason"], row["cancelled_at"]) == (
        "cancelled",
        "plans changed",
        clock.now(),
    )


def test_waiting_rides_come_oldest_first_and_only_near_when_asked(
    rides: Rides, clock: FixedClock
) -> None:
    old = a_ride(clock)
    clock.advance(timedelta(minutes=1))
    far = a_ride(clock, at=Place(PICKUP.lat + 1.0, PICKUP.lon))
    clock.advance(timedelta(minutes=1))
    new = a_ride(clock)
    offered = a_ride(clock)
    offered.offer(member(), Decimal(1), "nearest")
    given(rides, RideRecords, new, far, old, offered)
    model = rides.read_model(RideRecords)

    assert [r.id for r in model.waiting(limit=10)] == [old.id, far.id, new.id]
    assert [r.id for r in model.waiting(limit=2)] == [old.id, far.id]
    near = reach_box(PICKUP.lat, PICKUP.lon, 5.0)
    assert [r.id for r in model.waiting(within=near, limit=10)] == [old.id, new.id]


def test_a_riders_rides_come_newest_first_and_nobody_elses(rides: Rides, clock: FixedClock) -> None:
    rider = member()
    mine = []
    for _ in range(3):
        mine.append(a_ride(clock, rider))
        clock.advance(timedelta(minutes=5))
    given(rides, RideRecords, *mine, a_ride(clock))

    page = rides.read_model(RideRecords).of_rider(rider, page_request(2, None, arity=2))
    rest = rides.read_model(RideRecords).of_rider(rider, page_request(2, page.end_cursor, arity=2))

    assert [r.id for r in page.items] == [mine[2].id, mine[1].id]
    assert page.has_next
    assert ([r.id for r in rest.items], rest.has_next) == ([mine[0].id], False)


def test_a_rebuilt_rides_table_equals_the_one_kept_as_rides_happened(
    rides: Rides, clock: FixedClock
) -> None:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    for _ in range(3):
        ride_id = rides.request_ride(
            member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False
        )
        rides.accept_ride(driver, ride_id)
        rides.mark_picked_up(driver, ride_id)
        clock.advance(timedelta(minutes=8))
        rides.mark_dropped_off(driver, ride_id)
    # one cancelled late: its row carries the fee and the rule
    rider = member()
    late = rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    rides.accept_ride(driver, late)
    clock.advance(timedelta(minutes=30))
    rides.cancel_ride(rider, late, "")
    rides.request_ride(member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    rides.catch_up()
    [row] = rides.read_model(RideRecords).of_rider(rider, page_request(1, None, arity=2)).items
    assert (row.charge_kind, row.charge) == (
        "cancellation",
        Money.of(rides.charges.cancel_fee, "EUR"),
    )
    assert row.charge_rule is not None
    assert row.charge_rule.startswith("late cancellation")
    for cls, table in ((RideRecords, "rides"), (Drivers, "drivers")):
        model = rides.read_model(cls)
        kept = model.view.rows_of_generation(table, model.view.generation)

        done = rebuild(rides, model, keep_previous=True)

        assert model.view.rows_of_generation(table, done.generation) == kept
        assert len(kept) == (5 if cls is RideRecords else 1)
