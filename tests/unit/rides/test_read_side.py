"""Rides at city scale on the in-memory store: dispatch reads the drivers table and loads only
the candidates near the pickup; no aggregate grows with the city's history; pages never skip or
repeat a ride while rides are added."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Tracking
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.readside import Update
from kernel.readside.freshness import written
from services.rides.application import Rides
from services.rides.domain import Driver, DriverStatus, Place, RideState
from services.rides.projections import Drivers
from tests.support.rides import NEAREST, city_with

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.0500, 3.7200), Place(51.0300, 3.7500)

MANY_OPEN = city_with(matching={"policy": "nearest"}, max_open_rides_per_member=50)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def counting_loads(rides: Rides, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """Every aggregate id the application loads from now on."""
    loaded: list[UUID] = []
    get: Callable[..., Any] = rides.repository.get

    def counted(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        loaded.append(aggregate_id)
        return get(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(rides.repository, "get", counted)
    return loaded


def on_duty_across_the_region(rides: Rides, n: int) -> list[Driver]:
    """`n` drivers on duty, spread at random over about 110 x 70 km (saved as the application
    would save them, in one go: the test is about what dispatch loads, not about setting up)."""
    spread = random.Random(7)
    drivers = []
    for _ in range(n):
        driver = Driver(member(), seats=4, wheelchair_accessible=False, vehicle="car")
        driver.go_on_duty(
            Place(PICKUP.lat + spread.uniform(-0.5, 0.5), PICKUP.lon + spread.uniform(-0.5, 0.5))
        )
        drivers.append(driver)
    rides.save(*drivers)
    return drivers


def request(rides: Rides, rider: str | None = None, *, at: Place = PICKUP) -> UUID:
    return rides.request_ride(
        rider or member(), pickup=at, dropoff=DROPOFF, seats=1, wheelchair=False
    )


def test_dispatch_among_2000_drivers_loads_only_the_ride_and_its_driver(
    rides: Rides, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 2,000 drivers on duty across the region, a few of them within reach of the pickup
    on_duty_across_the_region(rides, 2000)
    rides.catch_up(Drivers)
    loaded = counting_loads(rides, monkeypatch)

    # when a ride is requested
    ride = rides.ride(request(rides))

    # then it went to the nearest of them, and only the ride and that driver were loaded
    assert ride.state is RideState.OFFERED
    offered = Driver.create_id(ride.driver_id or "")
    assert loaded[:-1] == [ride.id, offered]  # the last load is the test's own `ride()`
    assert rides.read_model(Drivers).view.count("drivers") == 2000
    assert ride.offer_reason is not None
    suitable = int(ride.offer_reason.rsplit("(of ", 1)[1].split()[0])
    assert 1 <= suitable < 100  # the box held a handful, not the city


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(
        # about 9 x 9 km around the pickup: the first ring (a quarter of the reach) matters
        st.tuples(st.floats(-0.04, 0.04), st.floats(-0.06, 0.06)),
        min_size=1,
        max_size=30,
    )
)
def test_the_ride_goes_to_the_nearest_driver_of_all_whatever_ring_finds_them(
    offsets: list[tuple[float, float]],
) -> None:
    # given drivers on duty anywhere around the pickup, some beyond reach
    rides = Rides(Settings(persistence="popo"), city=NEAREST)
    drivers = []
    for dlat, dlon in offsets:
        driver = Driver(member(), seats=4, wheelchair_accessible=False, vehicle="car")
        driver.go_on_duty(Place(PICKUP.lat + dlat, PICKUP.lon + dlon))
        drivers.append(driver)
    rides.save(*drivers)

    # when a ride is requested
    ride = rides.ride(request(rides))

    # then it is offered to the nearest driver by travel time, or waits if none is in reach
    seconds = rides.travel.matrix(
        [(d.position.lat, d.position.lon) for d in drivers if d.position],
        [(PICKUP.lat, PICKUP.lon)],
    ).seconds
    reach = rides.city.rides.max_pickup_minutes * 60
    best = min(
        ((float(seconds[i, 0]), d.member_id) for i, d in enumerate(drivers)),
        default=(float("inf"), None),
    )
    assert ride.driver_id == (best[1] if best[0] <= reach else None)


def test_a_driver_in_the_corner_of_the_first_box_is_not_taken_for_the_nearest(
    rides: Rides,
) -> None:
    # given one driver in a corner of the first ring's box (2.4 km away, outside its circle)
    # and another due north, 2.1 km away, just outside that box
    quarter = rides.reach_km / 4
    assert 1.7 < quarter < 2.1
    corner, north = member(), member()
    for who, dlat, dlon in ((corner, 1.7 / 111.19, 1.7 / 69.95), (north, 2.1 / 111.19, 0.0)):
        rides.register_driver(who, seats=4, wheelchair_accessible=False, vehicle="car")
        rides.go_on_duty(who, lat=PICKUP.lat + dlat, lon=PICKUP.lon + dlon)

    # when a ride is requested, the nearer one gets it
    assert rides.ride(request(rides)).driver_id == north


def test_a_stale_row_never_gets_a_driver_a_second_offer(rides: Rides) -> None:
    # given two drivers on duty; the nearer one is offered a first ride
    nearer, farther = member(), member()
    for who, offset in ((nearer, 0.002), (farther, 0.02)):
        rides.register_driver(who, seats=4, wheelchair_accessible=False, vehicle="car")
        rides.go_on_duty(who, lat=PICKUP.lat + offset, lon=PICKUP.lon)
    first = rides.ride(request(rides))
    assert first.driver_id == nearer
    # and the drivers table shows the nearer one available again (as a lagging replica might)
    stale = Update("drivers", {"driver_id": str(Driver.create_id(nearer))}, {"status": "available"})
    rides.read_model(Drivers).view.apply([stale], Tracking("a-lagging-replica", 1))

    # when a second ride is requested there
    second = rides.ride(request(rides))

    # then the nearer driver's aggregate refused it and the farther driver has it
    assert second.driver_id == farther
    assert rides.driver(nearer).current_ride == first.id
    assert rides.driver(nearer).status is DriverStatus.OFFERED


def test_paging_never_skips_or_repeats_a_ride_while_rides_are_added(clock: FixedClock) -> None:
    # given a rider with 23 rides (in a city that lets a member keep that many open)
    rides = Rides(Settings(persistence="popo"), clock=clock, city=MANY_OPEN)
    rider = member()
    before = set()
    for _ in range(23):
        before.add(request(rides, rider))
        clock.advance(timedelta(seconds=30))

    # when they page through 5 at a time while new rides of theirs arrive between pages
    seen: list[UUID] = []
    after: str | None = None
    added = set()
    while True:
        listing = rides.rides_of(rider, first=5, after=after, seen=written(rides))
        seen += [r.id for r in listing.page.items]
        if not listing.page.has_next:
            break
        after = listing.page.end_cursor
        for _ in range(2):
            added.add(request(rides, rider))
            clock.advance(timedelta(seconds=30))

    # then no ride was shown twice and every ride that was there at the start was shown
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert set(seen) <= before | added


def largest_states(rides: Rides) -> dict[str, int]:
    """The largest serialised state of each aggregate class, over every aggregate stored."""
    notes = rides.recorder.select_notifications(start=1, limit=10**9)
    largest: dict[str, int] = {}
    for aggregate_id in {UUID(str(n.originator_id)) for n in notes}:
        aggregate: Any = rides.repository.get(aggregate_id)
        size = len(rides.mapper.to_stored_event(Snapshot.take(aggregate)).state)
        name = type(aggregate).__name__
        largest[name] = max(largest.get(name, 0), size)
    return largest


@pytest.mark.slow
def test_no_aggregate_grows_with_the_citys_history(rides: Rides, clock: FixedClock) -> None:
    # given three drivers on duty and a few regular riders
    drivers, riders = [member() for _ in range(3)], [member() for _ in range(5)]
    for who in drivers:
        rides.register_driver(who, seats=4, wheelchair_accessible=False, vehicle="car")
        rides.go_on_duty(who, lat=PICKUP.lat, lon=PICKUP.lon)

    def ride_many(n: int) -> None:
        for i in range(n):
            ride = rides.ride(request(rides, riders[i % len(riders)]))
            driver = ride.driver_id
            assert driver is not None
            if i % 10 == 0:  # now and then a driver declines first
                ride = rides.decline_ride(driver, ride.id, "break")
                driver = ride.driver_id
                assert driver is not None
            rides.accept_ride(driver, ride.id)
            rides.mark_picked_up(driver, ride.id)
            clock.advance(timedelta(minutes=9))
            rides.mark_dropped_off(driver, ride.id)

    # when the city has had 100 rides, and then 3,000
    ride_many(100)
    early = largest_states(rides)
    ride_many(2900)
    late = largest_states(rides)

    # then no kind of aggregate holds more than it did (a few bytes for longer numbers)
    assert set(late) == set(early) == {"Driver", "Ride", "Vehicle"}
    for kind, size in late.items():
        assert size <= early[kind] + 32, (kind, early[kind], size)
