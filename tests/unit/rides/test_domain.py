"""The rides domain, given-when-then on events, with the replay check (STYLE.md B7)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from kernel.cities import load_city
from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.money import Money
from services.rides.application import Rides
from services.rides.domain import (
    Driver,
    DriverBusy,
    DriverStatus,
    InvalidRideRequest,
    NotYourRide,
    Place,
    Ride,
    RideNotInState,
    RideState,
)
from services.rides.fares import FarePolicy, price
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from kernel.time import FixedClock

CITY = load_city("demo")
POLICY = FarePolicy(
    base=CITY.rides.fare_base,
    per_km=CITY.rides.fare_per_km,
    per_minute=CITY.rides.fare_per_minute,
    currency=CITY.currency,
    split=CITY.rides.split,
)
RIDER = new_member_id("demo")  # type: ignore[arg-type]
DRIVER = new_member_id("demo")  # type: ignore[arg-type]
OTHER = new_member_id("demo")  # type: ignore[arg-type]
PICKUP, DROPOFF = Place(51.06, 3.71), Place(51.03, 3.75)
KM = Decimal("4.73")


def expected_total(km: Decimal, minutes: Decimal) -> Decimal:
    """The co-op's formula, from the city config: base + per km + per minute, to the cent."""
    rides = CITY.rides
    raw = rides.fare_base + rides.fare_per_km * km + rides.fare_per_minute * minutes
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def assert_exact_split(total: Money, split: dict[str, Money]) -> None:
    assert set(split) == set(CITY.rides.split)
    assert {m.currency for m in split.values()} == {total.currency}
    assert sum(m.amount for m in split.values()) == total.amount
    for part, share in CITY.rides.split.items():
        exact = Fraction(total.amount) * share / 100
        assert abs(Fraction(split[part].amount) - exact) < Fraction(1, 100)


def requested(clock: FixedClock, **changes: object) -> Ride:
    fields: dict[str, object] = {
        "rider_id": RIDER,
        "pickup": PICKUP,
        "dropoff": DROPOFF,
        "seats": 1,
        "wheelchair": False,
        "distance_km": KM,
        "quote": Money.of("9.99", "EUR"),
        "now": clock.now(),
    }
    return Ride.request(**{**fields, **changes})  # type: ignore[arg-type]


def given_ride(clock: FixedClock, state: RideState) -> Ride:
    """A ride walked to `state` through its public commands."""
    ride = requested(clock)
    steps = [RideState.OFFERED, RideState.ACCEPTED, RideState.PICKED_UP, RideState.COMPLETED]
    for step in steps[: steps.index(state) + 1] if state in steps else []:
        if step is RideState.OFFERED:
            ride.offer(DRIVER, Decimal("3.5"), "nearest")
        elif step is RideState.ACCEPTED:
            ride.accept(DRIVER, clock.now())
        elif step is RideState.PICKED_UP:
            clock.advance(timedelta(minutes=5))
            ride.pick_up(DRIVER, clock.now())
        else:
            clock.advance(timedelta(minutes=12))
            ride.drop_off(DRIVER, clock.now(), POLICY)
    if state is RideState.CANCELLED:
        ride.cancel(RIDER, "changed my mind", clock.now())
    return ride


# -- requesting -----------------------------------------------------------------------------------
def test_a_request_records_requested_and_replays(clock: FixedClock) -> None:
    ride = requested(clock, seats=2, wheelchair=True)
    events = ride.collect_events()

    [(name, attrs)] = names_and_attrs(events)
    assert name == "Requested"
    assert attrs["seats"] == 2
    assert attrs["wheelchair"] is True
    assert attrs["requested_at"] == clock.now()
    assert ride.state is RideState.WAITING
    assert state_of(replay(events)) == state_of(ride)


@pytest.mark.parametrize("seats", [0, -1, 9, 100])
def test_seats_out_of_range_are_invalid(clock: FixedClock, seats: int) -> None:
    with pytest.raises(InvalidRideRequest, match=f"seats: .*{seats}") as caught:
        requested(clock, seats=seats)
    assert caught.value.field == "seats"


def test_the_dropoff_must_differ_from_the_pickup(clock: FixedClock) -> None:
    with pytest.raises(InvalidRideRequest, match="must differ from the pickup") as caught:
        requested(clock, dropoff=PICKUP)
    assert caught.value.field == "dropoff"


# -- offer, accept, decline ----------------------------------------------------------------------
def test_offering_a_waiting_ride(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.WAITING)
    history = ride.collect_events()

    ride.offer(DRIVER, Decimal("3.5"), "nearest on-duty driver")
    new = ride.collect_events()

    assert names_and_attrs(new) == [
        (
            "Offered",
            {
                "driver_id": DRIVER,
                "pickup_minutes": Decimal("3.5"),
                "reason": "nearest on-duty driver",
                "at": None,
                "expires_at": None,
                "batch_id": None,
            },
        )
    ]
    assert (ride.state, ride.driver_id) == (RideState.OFFERED, DRIVER)
    assert state_of(replay([*history, *new])) == state_of(ride)


@pytest.mark.parametrize(
    "state", [RideState.OFFERED, RideState.ACCEPTED, RideState.COMPLETED, RideState.CANCELLED]
)
def test_only_a_waiting_ride_can_be_offered(clock: FixedClock, state: RideState) -> None:
    ride = given_ride(clock, state)
    ride.collect_events()
    with pytest.raises(RideNotInState, match=f"cannot offer ride .*: it is {state.value}"):
        ride.offer(OTHER, Decimal(1), "again")
    assert ride.collect_events() == []


def test_the_offered_driver_accepts(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.OFFERED)
    history = ride.collect_events()
    clock.advance(timedelta(seconds=30))

    ride.accept(DRIVER, clock.now())
    new = ride.collect_events()

    assert names_and_attrs(new) == [("Accepted", {"at": clock.now()})]
    assert ride.state is RideState.ACCEPTED
    assert state_of(replay([*history, *new])) == state_of(ride)


def test_another_driver_cannot_accept(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.OFFERED)
    ride.collect_events()
    with pytest.raises(NotYourRide, match=OTHER):
        ride.accept(OTHER, clock.now())
    assert ride.state is RideState.OFFERED


@pytest.mark.parametrize("state", [RideState.WAITING, RideState.ACCEPTED, RideState.CANCELLED])
def test_only_an_offered_ride_can_be_accepted_or_declined(
    clock: FixedClock, state: RideState
) -> None:
    ride = given_ride(clock, state)
    with pytest.raises(RideNotInState, match="cannot accept"):
        ride.accept(DRIVER, clock.now())
    with pytest.raises(RideNotInState, match="cannot decline"):
        ride.decline(DRIVER, "no")


def test_declining_puts_the_ride_back_to_waiting_and_remembers_who(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.OFFERED)
    history = ride.collect_events()

    ride.decline(DRIVER, "too far")
    new = ride.collect_events()

    assert names_and_attrs(new) == [("Declined", {"driver_id": DRIVER, "reason": "too far"})]
    assert (ride.state, ride.driver_id, ride.declined_by) == (RideState.WAITING, None, [DRIVER])
    assert state_of(replay([*history, *new])) == state_of(ride)


def test_another_driver_cannot_decline(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.OFFERED)
    with pytest.raises(NotYourRide):
        ride.decline(OTHER, "not mine anyway")


# -- pick up, drop off, fare ---------------------------------------------------------------------
def test_picking_up_needs_acceptance_and_the_right_driver(clock: FixedClock) -> None:
    offered = given_ride(clock, RideState.OFFERED)
    with pytest.raises(RideNotInState, match=r"cannot mark picked up .*: it is offered"):
        offered.pick_up(DRIVER, clock.now())

    accepted = given_ride(clock, RideState.ACCEPTED)
    with pytest.raises(NotYourRide):
        accepted.pick_up(OTHER, clock.now())

    history = accepted.collect_events()
    accepted.pick_up(DRIVER, clock.now())
    new = accepted.collect_events()
    assert names_and_attrs(new) == [("PickedUp", {"at": clock.now()})]
    assert state_of(replay([*history, *new])) == state_of(accepted)


def test_dropping_off_needs_a_pickup_and_the_right_driver(clock: FixedClock) -> None:
    accepted = given_ride(clock, RideState.ACCEPTED)
    with pytest.raises(RideNotInState, match=r"cannot mark dropped off .*: it is accepted"):
        accepted.drop_off(DRIVER, clock.now(), POLICY)

    riding = given_ride(clock, RideState.PICKED_UP)
    with pytest.raises(NotYourRide):
        riding.drop_off(OTHER, clock.now(), POLICY)
    assert riding.state is RideState.PICKED_UP


def test_drop_off_completes_with_base_plus_per_km_plus_per_minute(clock: FixedClock) -> None:
    ride = given_ride(clock, RideState.OFFERED)
    ride.accept(DRIVER, clock.now())
    clock.advance(timedelta(minutes=6))  # driving to the pickup
    ride.pick_up(DRIVER, clock.now())
    history = ride.collect_events()
    clock.advance(timedelta(minutes=13, seconds=30))

    ride.drop_off(DRIVER, clock.now(), POLICY)
    new = ride.collect_events()

    fare = Money.of(expected_total(KM, Decimal("13.5")), CITY.currency)
    [(dropped, at), (name, attrs)] = names_and_attrs(new)
    assert (dropped, at) == ("DroppedOff", {"at": clock.now()})
    assert name == "Completed"
    assert attrs["fare"] == fare == ride.fare
    assert attrs["rules_version"] == POLICY.rules_version
    assert attrs["rule"].startswith("formula: 2.50 + 1.10/km x 4.73 km + 0.30/min x 13.5 min")
    assert sum(m.amount for m in attrs["breakdown"].values()) == fare.amount
    assert attrs["common_fund_pays"] == Money.zero(CITY.currency)
    assert attrs["riding_minutes"] == Decimal("13.5")
    assert attrs["driver_minutes"] == Decimal("19.5")  # from acceptance, not pickup
    assert attrs["distance_km"] == KM
    assert (attrs["driver_id"], attrs["rider_id"], attrs["at"]) == (DRIVER, RIDER, clock.now())
    assert_exact_split(fare, attrs["split"])
    assert ride.state is RideState.COMPLETED
    assert state_of(replay([*history, *new])) == state_of(ride)


def test_a_whole_fare_splits_by_the_city_shares_exactly() -> None:
    # 2.50 + 1.10 * 5 + 0.30 * 6.7 = 10.01; 85/10/4/1 % of it, cents by largest remainder.
    fare = price(POLICY, distance_km=Decimal(5), minutes=Decimal("6.7"))
    assert fare.total.amount == expected_total(Decimal(5), Decimal("6.7")) == Decimal("10.01")
    assert {part: m.amount for part, m in fare.split.items()} == {
        "driver": Decimal("8.51"),  # 8.5085
        "coop": Decimal("1.00"),  # 1.001
        "common_fund": Decimal("0.40"),  # 0.4004
        "protocol": Decimal("0.10"),  # 0.1001
    }


@given(
    km=st.decimals(min_value=0, max_value=500, places=2),
    minutes=st.decimals(min_value=0, max_value=600, places=1),
)
def test_every_fare_follows_the_formula_and_splits_exactly(km: Decimal, minutes: Decimal) -> None:
    fare = price(POLICY, distance_km=km, minutes=minutes)
    assert fare.total == Money.of(expected_total(km, minutes), CITY.currency)
    assert fare.currency == CITY.currency
    assert_exact_split(fare.total, fare.split)


# -- cancelling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [RideState.WAITING, RideState.OFFERED, RideState.ACCEPTED])
def test_a_ride_not_yet_picked_up_can_be_cancelled(clock: FixedClock, state: RideState) -> None:
    ride = given_ride(clock, state)
    history = ride.collect_events()

    ride.cancel(RIDER, "plans changed", clock.now())
    new = ride.collect_events()

    assert names_and_attrs(new) == [
        (
            "Cancelled",
            {"rider_id": RIDER, "by": RIDER, "reason": "plans changed", "at": clock.now()},
        )
    ]
    assert ride.state is RideState.CANCELLED
    assert state_of(replay([*history, *new])) == state_of(ride)


@pytest.mark.parametrize("state", [RideState.PICKED_UP, RideState.COMPLETED, RideState.CANCELLED])
def test_a_ride_under_way_or_over_cannot_be_cancelled(clock: FixedClock, state: RideState) -> None:
    ride = given_ride(clock, state)
    ride.collect_events()
    with pytest.raises(RideNotInState, match=f"cannot cancel .*: it is {state.value}"):
        ride.cancel(RIDER, "too late", clock.now())
    assert ride.collect_events() == []


# -- drivers --------------------------------------------------------------------------------------
def given_driver() -> Driver:
    return Driver(DRIVER, seats=4, wheelchair_accessible=True, vehicle="van")


def test_registering_and_going_on_duty(clock: FixedClock) -> None:
    driver = given_driver()
    history = driver.collect_events()
    assert driver.status is DriverStatus.OFF_DUTY
    assert Driver.create_id(DRIVER) == driver.id

    driver.go_on_duty(Place(51.05, 3.72))
    new = driver.collect_events()

    no_vehicle_named = {"vehicle_id": None, "seats": None, "wheelchair_accessible": None}
    assert names_and_attrs(new) == [
        ("WentOnDuty", {"lat": 51.05, "lon": 3.72, **no_vehicle_named, "vehicle": None})
    ]
    assert driver.available
    assert state_of(replay([*history, *new])) == state_of(driver)


def test_going_on_duty_while_offered_only_moves_the_driver() -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    driver.receive_offer(uuid4())
    history = driver.collect_events()

    driver.go_on_duty(Place(51.0, 3.7))
    new = driver.collect_events()

    assert names_and_attrs(new) == [("Moved", {"lat": 51.0, "lon": 3.7})]
    assert driver.status is DriverStatus.OFFERED
    assert state_of(replay([*history, *new])) == state_of(driver)


@pytest.mark.parametrize("busy", ["offered", "on_ride"])
def test_a_driver_cannot_go_off_duty_during_a_ride(busy: str) -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    ride = uuid4()
    driver.receive_offer(ride)
    if busy == "on_ride":
        driver.start_ride(ride)
    driver.collect_events()

    with pytest.raises(DriverBusy, match=f"cannot go off duty: {busy.replace('_', ' ')}"):
        driver.go_off_duty()
    assert driver.collect_events() == []
    assert driver.status.value == busy


def test_going_off_duty_records_once() -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    history = driver.collect_events()

    driver.go_off_duty()
    driver.go_off_duty()  # already off: nothing more to record
    new = driver.collect_events()

    assert names_and_attrs(new) == [("WentOffDuty", {})]
    assert state_of(replay([*history, *new])) == state_of(driver)


def test_finishing_a_ride_frees_the_driver_where_they_dropped_off() -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    ride = uuid4()
    driver.receive_offer(ride)
    driver.start_ride(ride)
    history = driver.collect_events()

    driver.finish_ride(ride, DROPOFF)
    new = driver.collect_events()

    assert names_and_attrs(new) == [
        ("RideFinished", {"ride_id": ride, "lat": DROPOFF.lat, "lon": DROPOFF.lon})
    ]
    assert (driver.status, driver.position, driver.current_ride, driver.completed_rides) == (
        DriverStatus.AVAILABLE,
        DROPOFF,
        None,
        1,
    )
    assert state_of(replay([*history, *new])) == state_of(driver)


@pytest.mark.parametrize("status", ["offered", "on_ride", "off_duty"])
def test_a_driver_not_available_refuses_an_offer(status: str) -> None:
    driver = given_driver()
    held = uuid4()
    if status != "off_duty":
        driver.go_on_duty(Place(51.05, 3.72))
        driver.receive_offer(held)
    if status == "on_ride":
        driver.start_ride(held)
    driver.collect_events()

    with pytest.raises(DriverBusy, match="cannot receive an offer") as caught:
        driver.receive_offer(uuid4())

    assert (caught.value.member_id, caught.value.status.value) == (DRIVER, status)
    assert driver.collect_events() == []
    assert driver.current_ride == (None if status == "off_duty" else held)


def test_receiving_an_offer_holds_the_ride_and_replays() -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    history = driver.collect_events()
    ride = uuid4()

    driver.receive_offer(ride)
    new = driver.collect_events()

    assert names_and_attrs(new) == [("OfferReceived", {"ride_id": ride})]
    assert (driver.status, driver.current_ride) == (DriverStatus.OFFERED, ride)
    assert state_of(replay([*history, *new])) == state_of(driver)


def test_a_driver_acts_only_on_the_ride_they_hold() -> None:
    driver = given_driver()
    driver.go_on_duty(Place(51.05, 3.72))
    held, other = uuid4(), uuid4()
    driver.receive_offer(held)
    driver.collect_events()

    with pytest.raises(NotYourRide):
        driver.withdraw_offer(other)
    with pytest.raises(NotYourRide):
        driver.start_ride(other)
    with pytest.raises(NotYourRide):
        driver.finish_ride(other, DROPOFF)
    with pytest.raises(DriverBusy, match="cannot finish a ride: offered"):
        driver.finish_ride(held, DROPOFF)
    assert driver.collect_events() == []
    assert (driver.status, driver.current_ride) == (DriverStatus.OFFERED, held)


# -- stored events of version 1 (before fares were Money) ---------------------------------------
def test_a_version_1_request_is_read_with_its_quote_as_money(clock: FixedClock) -> None:
    rides = Rides(Settings(persistence="popo"), clock=clock)
    ride_id = uuid4()
    state = {
        "timestamp": clock.now().isoformat(),
        "originator_topic": "services.rides.domain:Ride",
        "rider_id": RIDER,
        "pickup": {"_type_": "rides.Place", "_data_": {"lat": 51.06, "lon": 3.71}},
        "dropoff": {"_type_": "rides.Place", "_data_": {"lat": 51.03, "lon": 3.75}},
        "seats": 1,
        "wheelchair": False,
        "distance_km": {"_type_": "decimal_str", "_data_": "4.73"},
        "quote": {"_type_": "decimal_str", "_data_": "9.99"},
        "currency": "EUR",
        "requested_at": {"_type_": "datetime_iso", "_data_": clock.now().isoformat()},
        "booked_by": None,
    }
    stored = StoredEvent(
        originator_id=ride_id,
        originator_version=1,
        topic="services.rides.domain:Ride.Requested",
        state=json.dumps(state).encode(),
    )

    event = rides.mapper.to_domain_event(stored)

    assert isinstance(event, Ride.Requested)
    assert event.quote == Money.of("9.99", "EUR")
    assert "currency" not in vars(event)


def test_a_version_1_completion_is_read_with_its_fare_and_split_as_money() -> None:
    state: dict[str, object] = {
        "fare": Decimal("10.01"),
        "currency": "EUR",
        "split": {"driver": Decimal("9.01"), "coop": Decimal("1.00")},
    }

    Ride.Completed.upcast_v1_v2(state)

    assert state == {
        "fare": Money.of("10.01", "EUR"),
        "split": {"driver": Money.of("9.01", "EUR"), "coop": Money.of("1.00", "EUR")},
    }
