"""Shared pieces of the integration tests: settings on the real servers, ride factories, waits."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from kernel.config import PostgresDsn, Settings
from kernel.keys import generate_key
from services.rides.domain import Place

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from contributions.application import Contributions
    from kernel.time import FixedClock
    from services.rides.application import Rides
    from tests.support.servers import TansuBroker
from tests.support.rides import next_batch

DRIVER = "demo:11111111-1111-4111-8111-111111111111"
RIDER = "demo:22222222-2222-4222-8222-222222222222"


@pytest.fixture
def scale_settings(postgres_dsn: str, pg_schema_prefix: str, kafka_broker: TansuBroker) -> Settings:
    """PostgreSQL stores in the test's own schemas, Kafka topics under the test's own prefix."""
    return Settings(
        persistence="postgres",
        postgres=PostgresDsn.parse(postgres_dsn),
        schema_prefix=pg_schema_prefix,
        bus="kafka",
        kafka_bootstrap=kafka_broker.bootstrap,
        topic_prefix=f"{pg_schema_prefix}.",
        topic_partitions=3,
        # Scale-out never invents keys (kernel/keys.py): every process gets these two.
        jwt_secret=SecretStr(generate_key()),
        identifier_key=SecretStr(generate_key()),
    )


def scale_env(settings: Settings, postgres_dsn: str) -> dict[str, str]:
    """The same settings as environment variables, for `muni` child processes."""
    assert settings.kafka_bootstrap is not None
    return {
        "MUNI_PERSISTENCE": "postgres",
        "MUNI_POSTGRES_DSN": postgres_dsn,
        "MUNI_SCHEMA_PREFIX": settings.schema_prefix,
        "MUNI_BUS": "kafka",
        "MUNI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MUNI_TOPIC_PREFIX": settings.topic_prefix,
        "MUNI_JWT_SECRET": settings.signing_key.get_secret_value(),
        "MUNI_IDENTIFIER_KEY": settings.hashing_key.get_secret_value(),
    }


def unique_prefix() -> str:
    return f"t_{secrets.token_hex(4)}"


def eventually(check: Callable[[], bool], *, timeout_s: float = 30.0, what: str = "") -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what or check}")


def start_driver(rides: Rides, driver: str = DRIVER) -> None:
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="test car")
    rides.go_on_duty(driver, lat=51.05, lon=3.72)


def complete_rides(
    rides: Rides, clock: FixedClock, n: int, *, driver: str = DRIVER, rider: str = RIDER
) -> list[UUID]:
    """Request, accept, pick up and drop off `n` rides; 5 min to pickup, 10 min riding."""
    done = []
    for i in range(n):
        ride_id = rides.request_ride(
            rider,
            pickup=Place(51.05 + 0.0001 * i, 3.72),
            dropoff=Place(51.04, 3.74),
            seats=1,
            wheelchair=False,
        )
        if rides.batched:
            next_batch(rides, clock)  # the matcher's next window, run here on the test's clock
        rides.accept_ride(driver, ride_id)
        clock.advance(timedelta(minutes=5))
        rides.mark_picked_up(driver, ride_id)
        clock.advance(timedelta(minutes=10))
        rides.mark_dropped_off(driver, ride_id)
        done.append(ride_id)
    return done


def fare_entries(contributions: Contributions) -> int:
    ledger, _ = contributions.ledger()
    return ledger.entries() // 2  # fare split + driving hours


def driver_earnings(contributions: Contributions, driver: str = DRIVER) -> Decimal:
    ledger, _ = contributions.ledger()
    return ledger.member_totals(driver, "EUR").earnings


def driver_earnings_expected(rides: Rides, ride_ids: list[UUID]) -> Decimal:
    return sum((rides.ride(r).split["driver"].amount for r in ride_ids), Decimal(0))
