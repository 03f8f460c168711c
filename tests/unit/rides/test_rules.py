"""The rides' rules through the application: cancellation and no-show charges (each names its
rule), fares in both modes with their breakdown and solidarity, travel times from the provider
the city names (OSRM against a small local fake server: no OSRM runs here), and one matcher per
city (the SQLite lock)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.money import Money
from services.rides.application import Rides
from services.rides.domain import NoShowTooEarly, Place, RideState
from services.rides.fares import FarePolicy, price
from services.rides.matcher import BatchRunner, FileLock
from tests.support.rides import DEMO, city_with, next_batch

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from uuid import UUID

    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.05, 3.72), Place(51.03, 3.75)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def accepted_ride(rides: Rides, clock: FixedClock, rider: str | None = None) -> tuple[str, UUID]:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat + 0.005, lon=PICKUP.lon)
    ride_id = rides.request_ride(
        rider or member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False
    )
    next_batch(rides, clock)
    rides.accept_ride(driver, ride_id)
    return driver, ride_id


# -- cancellations and no-shows --------------------------------------------------------------------
def test_a_cancellation_within_the_free_minutes_costs_nothing_and_says_why(
    rides: Rides, clock: FixedClock
) -> None:
    _, ride_id = accepted_ride(rides, clock)
    clock.advance(timedelta(minutes=4))
    ride = rides.cancel_ride(rides.ride(ride_id).rider_id, ride_id, "")
    assert ride.charge == Money.of(0, "EUR")
    assert ride.charge_rule == (
        "free: cancelled 4.0 min after the driver accepted (free within 5 min) "
        "(rules demo-2026-12, policy version 1)"
    )


def test_a_cancellation_after_the_free_minutes_costs_the_fee(
    rides: Rides, clock: FixedClock
) -> None:
    driver, ride_id = accepted_ride(rides, clock)
    clock.advance(timedelta(minutes=6))
    ride = rides.cancel_ride(rides.ride(ride_id).rider_id, ride_id, "")
    assert (ride.state, ride.charge, ride.charge_kind) == (
        RideState.CANCELLED,
        Money.of("3.00", "EUR"),
        "cancellation",
    )
    assert ride.charge_rule is not None
    assert ride.charge_rule.startswith("late cancellation: 6.0 min after the driver accepted")
    assert rides.driver(driver).current_ride is None


def test_a_driver_cancelling_never_charges_the_rider(rides: Rides, clock: FixedClock) -> None:
    driver, ride_id = accepted_ride(rides, clock)
    clock.advance(timedelta(minutes=30))
    ride = rides.cancel_ride(driver, ride_id, "")
    assert ride.charge == Money.of(0, "EUR")
    assert ride.charge_rule is not None
    assert ride.charge_rule.startswith("free: cancelled by the driver")


def test_a_no_show_needs_the_citys_wait_at_the_pickup_then_costs_the_fee(
    rides: Rides, clock: FixedClock
) -> None:
    driver, ride_id = accepted_ride(rides, clock)
    rides.mark_arriving(driver, ride_id)
    clock.advance(timedelta(minutes=4))
    before = rides.recorder.max_notification_id()
    with pytest.raises(NoShowTooEarly) as caught:
        rides.mark_no_show(driver, ride_id)
    assert (caught.value.waited_minutes, caught.value.required_minutes) == (Decimal("4.0"), 5)
    assert rides.recorder.max_notification_id() == before

    clock.advance(timedelta(minutes=1))
    ride = rides.mark_no_show(driver, ride_id)
    assert (ride.state, ride.charge, ride.charge_kind) == (
        RideState.NO_SHOW,
        Money.of("5.00", "EUR"),
        "no_show",
    )
    assert ride.charge_rule is not None
    assert "the driver waited 5.0 min at the pickup" in ride.charge_rule
    assert rides.driver(driver).current_ride is None


def test_arriving_then_picked_up_then_dropped_off_completes(
    rides: Rides, clock: FixedClock
) -> None:
    driver, ride_id = accepted_ride(rides, clock)
    assert rides.mark_arriving(driver, ride_id).state is RideState.ARRIVING
    assert rides.mark_picked_up(driver, ride_id).state is RideState.PICKED_UP
    clock.advance(timedelta(minutes=10))
    done = rides.mark_dropped_off(driver, ride_id)
    assert done.state is RideState.COMPLETED
    assert done.dropped_off_at == done.completed_at == clock.now()


# -- fares -----------------------------------------------------------------------------------------
COST = city_with(
    fare_mode="cost_recovery",
    cost_recovery={"cost_per_km": "0.60", "cost_per_hour": "24.00", "expected_riders": "4"},
)


def test_cost_recovery_shares_the_vehicles_running_cost_over_its_expected_riders(
    clock: FixedClock,
) -> None:
    rides = Rides(Settings(persistence="popo"), clock=clock, city=COST)
    driver, ride_id = accepted_ride(rides, clock)
    rides.mark_picked_up(driver, ride_id)
    clock.advance(timedelta(minutes=20))
    done = rides.mark_dropped_off(driver, ride_id)
    # (0.60 x km + 24.00 x 20/60) / 4
    expected = (Decimal("0.60") * done.distance_km + Decimal(8)) / 4
    assert done.fare == Money.of(expected, "EUR")
    assert set(done.fare_breakdown) == {"vehicle_km", "vehicle_time"}
    assert done.fare_rule is not None
    assert done.fare_rule.startswith("cost recovery: (0.60/km")


def test_a_named_member_pays_a_solidarity_fare_and_the_common_fund_the_rest(
    rides: Rides, clock: FixedClock
) -> None:
    rider = member()
    rides.name_for_solidarity(rider, by=member(), named=True)
    driver, ride_id = accepted_ride(rides, clock, rider)
    rides.mark_picked_up(driver, ride_id)
    clock.advance(timedelta(minutes=12))
    done = rides.mark_dropped_off(driver, ride_id)
    assert done.fare is not None
    assert done.common_fund_pays == Money.of(done.fare.amount / 2, "EUR")
    assert sum(m.amount for m in done.split.values()) == done.fare.amount  # the whole fare
    assert rides.name_for_solidarity(rider, by=member(), named=False) is False


POLICY = FarePolicy(
    base=DEMO.rides.fare_base,
    per_km=DEMO.rides.fare_per_km,
    per_minute=DEMO.rides.fare_per_minute,
    currency="EUR",
    split=DEMO.rides.split,
)
AMOUNTS = st.decimals(min_value=0, max_value=500, places=2)


@given(
    km=AMOUNTS, minutes=st.decimals(min_value=0, max_value=300, places=1), solidarity=st.booleans()
)
def test_every_split_and_breakdown_sums_to_the_fare(
    km: Decimal, minutes: Decimal, solidarity: bool
) -> None:
    for policy in (
        POLICY,
        FarePolicy(
            **{
                **POLICY.__dict__,
                "mode": "cost_recovery",
                "cost_per_km": Decimal("0.7"),
                "cost_per_hour": Decimal("31"),
                "expected_riders": Decimal(3),
            }
        ),
    ):
        fare = price(policy, distance_km=km, minutes=minutes, solidarity=solidarity)
        assert sum(m.amount for m in fare.split.values()) == fare.total.amount
        if fare.breakdown:
            assert sum(m.amount for m in fare.breakdown.values()) == fare.total.amount
        assert fare.rider_pays + fare.fund_pays == fare.total
        assert Money.zero("EUR") <= fare.fund_pays <= fare.total


# -- travel times from the city's provider ---------------------------------------------------------
class _Osrm(BaseHTTPRequestHandler):
    """A fake OSRM table service: every pair 600 s and 7,000 m (a river between them)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        coords = self.path.split("/")[-1].split("?")[0].split(";")
        query = self.path.split("?", 1)[1]
        params = dict(p.split("=", 1) for p in query.split("&"))
        n = len(params["sources"].split("%3B"))
        m = len(coords) - n
        body = {"code": "Ok", "durations": [[600.0] * m] * n, "distances": [[7000.0] * m] * n}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def osrm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_city_naming_osrm_quotes_and_matches_on_its_road_times(
    clock: FixedClock, osrm_url: str
) -> None:
    city = city_with(travel={"provider": "osrm", "osrm_url": osrm_url})
    rides = Rides(Settings(persistence="popo"), clock=clock, city=city)

    km, fare = rides.quote(pickup=PICKUP, dropoff=DROPOFF)
    assert km == Decimal("7.00")  # the road, not the straight line
    assert fare.total == Money.of(
        Decimal("2.50") + Decimal("1.10") * 7 + Decimal("0.30") * 10, "EUR"
    )

    driver, ride_id = accepted_ride(rides, clock)
    assert rides.ride(ride_id).driver_id == driver
    batch = rides.batch(rides.ride(ride_id).batch_id)  # type: ignore[arg-type]
    assert batch.offers[0]["pickup_s"] == 600.0


# -- one matcher per city --------------------------------------------------------------------------
def test_only_one_matcher_holds_a_citys_sqlite_lock(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "m.lock"), FileLock(tmp_path / "m.lock")
    assert first.try_acquire()
    assert not second.try_acquire()  # a standby
    first.release()
    assert second.try_acquire()  # takes over
    second.release()


def test_the_runner_batches_on_the_apps_clock_not_the_wall_clock(
    rides: Rides, clock: FixedClock
) -> None:
    runner = BatchRunner(rides)
    assert runner.tick()  # the first window
    assert not runner.tick()  # the clock stands still: no batch however often it ticks
    clock.advance(timedelta(seconds=2))
    assert runner.tick()
    assert runner.batches == 2
