"""Batch matching through the real application (POPO stores), driven by the FixedClock: the
service area and the cap on open rides, batches, offers that lapse, unservable requests, and
the decision recorded with its inputs."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.time import FixedClock
from services.rides.application import Rides
from services.rides.batching import Batch
from services.rides.domain import (
    DriverStatus,
    NotYourRide,
    OfferExpired,
    OutsideServiceArea,
    Place,
    RidesError,
    RideState,
    TooManyOpenRides,
)
from tests.support.rides import city_with, next_batch

if TYPE_CHECKING:
    from uuid import UUID

PICKUP = Place(51.0500, 3.7200)
DROPOFF = Place(51.0300, 3.7500)
NEAR, FAR = 0.005, 0.015


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def on_duty(
    rides: Rides, lat: float, lon: float, *, seats: int = 4, wheelchair: bool = False
) -> str:
    driver = member()
    rides.register_driver(driver, seats=seats, wheelchair_accessible=wheelchair, vehicle="car")
    rides.go_on_duty(driver, lat=lat, lon=lon)
    return driver


def request(
    rides: Rides, rider: str | None = None, *, at: Place = PICKUP, wheelchair: bool = False
) -> UUID:
    return rides.request_ride(
        rider or member(), pickup=at, dropoff=DROPOFF, seats=1, wheelchair=wheelchair
    )


def changes(rides: Rides) -> int | None:
    return rides.recorder.max_notification_id()


# -- the service area and the cap on open rides ----------------------------------------------------
def test_a_pickup_or_drop_off_outside_the_area_is_refused_by_name_and_nothing_is_stored(
    rides: Rides,
) -> None:
    for pickup, dropoff, field in (
        (Place(0.0, 0.0), DROPOFF, "pickup"),
        (PICKUP, Place(50.85, 4.35), "dropoff"),  # Brussels
    ):
        with pytest.raises(OutsideServiceArea) as caught:
            rides.request_ride(member(), pickup=pickup, dropoff=dropoff, seats=1, wheelchair=False)
        assert caught.value.field == field
        with pytest.raises(OutsideServiceArea):
            rides.quote(pickup=pickup, dropoff=dropoff)
    assert changes(rides) is None


def test_a_city_without_an_area_quotes_anywhere(clock: FixedClock) -> None:
    anywhere = Rides(Settings(persistence="popo"), clock=clock, city=city_with(service_area=None))
    km, _ = anywhere.quote(pickup=Place(0.0, 0.0), dropoff=Place(0.01, 0.01))
    assert km > 0


def test_a_member_may_keep_only_the_citys_number_of_rides_open(rides: Rides) -> None:
    rider = member()
    first, _ = request(rides, rider), request(rides, rider)
    before = changes(rides)

    with pytest.raises(TooManyOpenRides) as caught:
        request(rides, rider)

    assert (caught.value.open_rides, caught.value.limit) == (2, 2)
    assert changes(rides) == before
    # a ride that ends frees a place
    rides.cancel_ride(rider, first, "")
    assert request(rides, rider)


# -- batches ---------------------------------------------------------------------------------------
def test_a_request_waits_for_the_batch_then_goes_to_the_nearest_driver(
    rides: Rides, clock: FixedClock
) -> None:
    far = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    ride_id = request(rides)
    assert rides.ride(ride_id).state is RideState.WAITING

    batch = next_batch(rides, clock)
    assert batch is not None

    ride = rides.ride(ride_id)
    assert (ride.state, ride.driver_id, ride.batch_id) == (RideState.OFFERED, near, batch.id)
    assert ride.offer_expires_at == clock.now() + timedelta(seconds=30)
    assert ride.offer_reason is not None
    assert "nearest on-duty driver with 1 seat(s)" in ride.offer_reason
    assert rides.driver(far).status is DriverStatus.AVAILABLE


def test_the_batch_minimises_total_pickup_where_nearest_first_would_not(
    rides: Rides, clock: FixedClock
) -> None:
    # X is nearest to both A and B; Y is a little farther from A and far from B. Nearest-first
    # gives X to A (the older request) and leaves B a long pickup; the batch gives Y to A.
    a_at, b_at = Place(51.0500, 3.7200), Place(51.0500, 3.7500)
    x = on_duty(rides, 51.0500, 3.7320)  # between A and B, nearer A
    y = on_duty(rides, 51.0500, 3.7000)  # west of A, far from B
    a = request(rides, at=a_at)
    clock.advance(timedelta(seconds=1))
    b = request(rides, at=b_at)

    batch = next_batch(rides, clock)

    assert (rides.ride(a).driver_id, rides.ride(b).driver_id) == (y, x)
    assert batch is not None
    assert batch.objective["served"] == batch.objective["nearest_first_served"] == 2
    assert batch.objective["total_pickup_s"] < batch.objective["nearest_first_total_pickup_s"]
    reason = rides.ride(a).offer_reason
    assert reason is not None
    assert "a nearer driver was needed for another rider" in reason


def test_the_decision_records_what_was_considered(rides: Rides, clock: FixedClock) -> None:
    d1 = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    d2 = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    ride_id = request(rides)

    batch = next_batch(rides, clock)
    assert batch is not None
    stored = rides.batch(batch.id)  # read back from the store: a replay, no solver

    assert sorted(stored.drivers) == sorted([d1, d2])
    assert [r["ride_id"] for r in stored.requests] == [str(ride_id)]
    offer = stored.offer_for(ride_id)
    assert offer is not None
    assert offer["driver_id"] == d1
    assert [c[0] for c in offer["candidates"]] == [d1, d2]
    assert offer["candidates"][0][1] == offer["pickup_s"]
    assert stored.objective["served"] == 1
    assert isinstance(stored, Batch)


def test_a_wheelchair_request_waits_for_an_accessible_vehicle(
    rides: Rides, clock: FixedClock
) -> None:
    on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon, wheelchair=False)
    van = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon, wheelchair=True)
    ride_id = request(rides, wheelchair=True)
    next_batch(rides, clock)
    assert rides.ride(ride_id).driver_id == van


# -- offers that lapse, declines, and who may accept -----------------------------------------------
def test_an_offer_lapses_after_the_city_limit_and_the_next_batch_tries_another_driver(
    rides: Rides, clock: FixedClock
) -> None:
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    far = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    ride_id = request(rides)
    next_batch(rides, clock)
    assert rides.ride(ride_id).driver_id == near

    clock.advance(timedelta(seconds=29))
    rides.run_batch()
    assert rides.ride(ride_id).driver_id == near  # not yet

    clock.advance(timedelta(seconds=1))
    before = changes(rides)
    with pytest.raises(OfferExpired):
        rides.accept_ride(near, ride_id)
    assert changes(rides) == before  # the refusal changed nothing

    rides.run_batch()
    ride = rides.ride(ride_id)
    assert (ride.state, ride.driver_id) == (RideState.OFFERED, far)
    # the driver who let it lapse is free, with no mark against them
    assert rides.driver(near).status is DriverStatus.AVAILABLE
    assert not hasattr(rides.driver(near), "score")


def test_a_driver_cannot_accept_a_ride_offered_to_someone_else(
    rides: Rides, clock: FixedClock
) -> None:
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    other = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    ride_id = request(rides)
    next_batch(rides, clock)
    offered_to = rides.ride(ride_id).driver_id
    stranger = other if offered_to == near else near
    before = changes(rides)

    with pytest.raises(NotYourRide):
        rides.accept_ride(stranger, ride_id)

    assert changes(rides) == before
    assert rides.ride(ride_id).driver_id == offered_to


def test_a_declined_ride_goes_into_the_next_batch_never_back_to_the_decliner(
    rides: Rides, clock: FixedClock
) -> None:
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    ride_id = request(rides)
    next_batch(rides, clock)
    rides.decline_ride(near, ride_id, "")
    assert rides.ride(ride_id).state is RideState.WAITING

    next_batch(rides, clock)
    assert rides.ride(ride_id).state is RideState.WAITING  # only the decliner is free
    far = on_duty(rides, PICKUP.lat + FAR, PICKUP.lon)
    next_batch(rides, clock)
    assert rides.ride(ride_id).driver_id == far


# -- a request nobody can serve in time gets an answer ---------------------------------------------
def test_a_request_nobody_can_serve_is_answered_with_the_reason_after_the_wait_bound(
    rides: Rides, clock: FixedClock
) -> None:
    on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon, wheelchair=False)
    ride_id = request(rides, wheelchair=True)
    for _ in range(3):
        next_batch(rides, clock)
    assert rides.ride(ride_id).state is RideState.WAITING  # still within the bound

    clock.advance(timedelta(minutes=10))
    batch = rides.run_batch()

    ride = rides.ride(ride_id)
    assert ride.state is RideState.UNSERVABLE
    assert ride.unservable_reason == "no_wheelchair_vehicle"
    assert batch is not None
    assert ride.batch_id == batch.id


def test_a_request_only_decliners_could_serve_says_so(rides: Rides, clock: FixedClock) -> None:
    near = on_duty(rides, PICKUP.lat + NEAR, PICKUP.lon)
    ride_id = request(rides)
    next_batch(rides, clock)
    rides.decline_ride(near, ride_id, "")
    clock.advance(timedelta(minutes=11))
    rides.run_batch()
    ride = rides.ride(ride_id)
    assert (ride.state, ride.unservable_reason) == (
        RideState.UNSERVABLE,
        "every_driver_in_reach_passed",
    )


# -- the invariants, under any sequence ------------------------------------------------------------
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["request", "batch", "accept", "decline", "wait", "cancel", "finish"]),
        st.integers(min_value=0, max_value=5),
    ),
    min_size=5,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_no_driver_ever_holds_two_offers_or_two_rides(actions: list[tuple[str, int]]) -> None:
    clock = FixedClock()
    rides = Rides(Settings(persistence="popo"), clock=clock)
    drivers = [on_duty(rides, PICKUP.lat + 0.002 * i, PICKUP.lon) for i in range(3)]
    riders = [member() for _ in range(4)]
    made: list[UUID] = []
    for action, n in actions:
        try:
            if action == "request":
                made.append(
                    request(rides, riders[n % 4], at=Place(PICKUP.lat, PICKUP.lon + 0.001 * n))
                )
            elif action == "batch":
                next_batch(rides, clock)
            elif action == "wait":
                clock.advance(timedelta(seconds=10 * n))
            elif made:
                ride = rides.ride(made[n % len(made)])
                who = ride.driver_id or drivers[n % 3]
                if action == "accept":
                    rides.accept_ride(who, ride.id)
                elif action == "decline":
                    rides.decline_ride(who, ride.id, "")
                elif action == "cancel":
                    rides.cancel_ride(ride.rider_id, ride.id, "")
                else:
                    rides.mark_picked_up(who, ride.id)
                    rides.mark_dropped_off(who, ride.id)
        except RidesError:
            pass  # refusals are expected, typed ones only (anything else fails the test)
        # then: every driver holds at most one ride, and it names them
        held: dict[str, list[UUID]] = {}
        for ride_id in made:
            ride = rides.ride(ride_id)
            if ride.state in (RideState.OFFERED, RideState.ACCEPTED, RideState.PICKED_UP):
                assert ride.driver_id is not None
                held.setdefault(ride.driver_id, []).append(ride_id)
        for driver_id in drivers:
            mine = held.get(driver_id, [])
            assert len(mine) <= 1, (driver_id, mine)
            assert rides.driver(driver_id).current_ride == (mine[0] if mine else None)
