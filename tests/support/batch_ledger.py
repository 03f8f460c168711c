"""A contributions consumer in its own process, for the batch crash tests.

`python -m tests.support.batch_ledger <persistence> <data dir or dsn> <schema prefix> <rides>`
publishes the same messages every time (a season of `rides` completed rides, each after its
ignored request, and one ride's completion delivered twice) to a fresh embedded broker, so each
run is a full redelivery of everything, and drains a real consumer into the real store. With
`MUNI_FAULT_EXIT_MID_BATCH=N` it dies inside the first batch's transaction. It prints the
consumer's outcome as JSON.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from contributions.application import Contributions
from contributions.inbound import INBOUND
from kernel.bus.consumer import Consumer
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.cities import load_city
from kernel.config import Settings
from kernel.money import Money

CITY = load_city("demo")
TOPIC = Settings(persistence="popo").topic("rides")
DRIVERS = [f"demo:{uuid.UUID(int=i + 1)}" for i in range(3)]
START = datetime(2026, 11, 28, 9, tzinfo=UTC)
NS = uuid.UUID("6f1d1c52-0a55-4c5e-9a57-1d0b2b9bc0de")


def fare_cents(i: int) -> int:
    return 700 + 37 * i


def driver_of(i: int) -> str:
    return DRIVERS[i % len(DRIVERS)]


def expected_earnings(rides: int) -> dict[str, Decimal]:
    """What each driver earns from the season: their part of each fare, once."""
    out = dict.fromkeys(DRIVERS, Decimal(0))
    for i in range(rides):
        parts = Money.from_minor(fare_cents(i), CITY.currency).allocate(CITY.rides.split)
        out[driver_of(i)] += parts["driver"].amount
    return out


def messages(rides: int) -> list[tuple[bytes, bytes]]:
    """Every ride's request (a type contributions ignores) then its completion, keyed by ride;
    the first ride's completion is sent twice."""
    out = []
    for i in range(rides):
        ride_id = uuid.uuid5(NS, f"ride-{i}")
        at = START + timedelta(minutes=i)
        fare = Money.from_minor(fare_cents(i), CITY.currency)
        split = {k: str(v.amount) for k, v in fare.allocate(CITY.rides.split).items()}
        common = {
            "version": 1,
            "source": "rides",
            "city": CITY.id,
            "occurred_at": at,
            "aggregate_id": ride_id,
        }
        requested = Envelope(
            id=uuid.uuid5(NS, f"req-{i}"),
            type="rides.RideRequested",
            position=2 * i + 1,
            payload={"ride_id": str(ride_id)},
            **common,
        )
        completed = Envelope(
            id=uuid.uuid5(NS, f"done-{i}"),
            type="rides.RideCompleted",
            position=2 * i + 2,
            payload={
                "ride_id": str(ride_id),
                "driver_id": driver_of(i),
                "distance_km": "3.40",
                "driver_minutes": "15.0",
                "fare": str(fare.amount),
                "currency": fare.currency,
                "split": split,
            },
            **common,
        )
        out += [(requested.key, requested.to_bytes()), (completed.key, completed.to_bytes())]
    return [*out, out[1]]


def settings_for(persistence: str, where: str, prefix: str) -> Settings:
    if persistence == "sqlite":
        return Settings(persistence="sqlite", data_dir=Path(where))
    return Settings.from_env(
        {"MUNI_PERSISTENCE": "postgres", "MUNI_POSTGRES_DSN": where, "MUNI_SCHEMA_PREFIX": prefix}
    )


def main(argv: list[str]) -> None:
    persistence, where, prefix, rides = argv
    app = Contributions(settings_for(persistence, where, prefix))
    broker = EmbeddedBroker(default_partitions=2)
    broker.ensure_topics([TOPIC], 2)
    broker.publisher().publish(TOPIC, messages(int(rides)))
    consumer = Consumer(app, broker.subscriber("contributions"), topics=[TOPIC], inbound=INBOUND)
    while consumer.run_once(timeout_s=0.01):
        pass
    print(json.dumps(consumer.outcome.__dict__))
    app.close()


if __name__ == "__main__":
    # Through the module's own name (see tests/support/readside_toy.py).
    from tests.support.batch_ledger import main as run

    run(sys.argv[1:])
