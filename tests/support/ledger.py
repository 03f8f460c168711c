"""Helpers for the contributions tests: an application on the in-memory store, completed rides
as the consumer hands them over, and the ledger's tables as plain rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Tracking

from contributions.application import Contributions
from contributions.inbound import RideCompleted
from contributions.projections import Ledger
from kernel.cities import load_city
from kernel.config import Settings
from kernel.money import Money

if TYPE_CHECKING:
    from kernel.time import Clock

CITY = load_city("demo")
AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def new_app(clock: Clock | None = None) -> Contributions:
    return Contributions(Settings(persistence="popo"), city=CITY, clock=clock)


def completed(
    driver: str, fare_cents: int, driver_minutes: Decimal, *, at: datetime = AT
) -> RideCompleted:
    """A rides.RideCompleted as the consumer validates it, with the city's exact fare split."""
    fare = Money.from_minor(fare_cents, CITY.currency)
    split = {k: v.amount for k, v in fare.allocate(CITY.rides.split).items()}
    ride_id = uuid.uuid4()
    return RideCompleted(
        event_id=uuid.uuid4(),
        city=CITY.id,
        occurred_at=at,
        aggregate_id=ride_id,
        ride_id=ride_id,
        driver_id=driver,
        distance_km=Decimal("3.40"),
        driver_minutes=driver_minutes,
        fare=fare.amount,
        currency=fare.currency,
        split=split,
    )


def tracking(event: RideCompleted, position: int) -> Tracking:
    return Tracking(f"{event.city}/rides/{event.aggregate_id}", position)


def consume(app: Contributions, event: RideCompleted, position: int) -> None:
    """What the consumer does with a delivery: the policy's entries and the tracking, at once."""
    app.process_event(event, tracking(event, position))  # type: ignore[arg-type]


def tables(app: Contributions) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the ledger read model, caught up, in key order."""
    ledger, _ = app.ledger()
    view = ledger.view
    return {t.name: view.rows_of_generation(t.name, view.generation) for t in Ledger.tables}
