"""Read models of consumed events: a service keeps a table of another service's events, applied
by its consumer once per event, however often the event is delivered, and caught up after the
service's own effect committed without it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import singledispatchmethod
from typing import Any, ClassVar

import pytest

from kernel.bus.consumer import Consumer, Inbound
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.config import Settings
from kernel.events import TolerantModel
from kernel.eventstore import FederationApplication
from kernel.readside import Add, Column, Op, ReadModel, Table

TOPIC = "demo.couriers.events.v1"


class Delivered(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("couriers.Delivered", 1)
    courier: str


class Deliveries(ReadModel):
    name = "deliveries_per_courier"
    tables = (
        Table("couriers", (Column("courier"), Column("deliveries", "int")), key=("courier",)),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Delivered) -> list[Op]:
        return [Add("couriers", {"courier": event.courier}, {"deliveries": 1})]


class Tally(FederationApplication):
    service = "tally"
    inbound_read_models = (Deliveries,)


INBOUND = Inbound.of([Delivered])


def envelope(courier: str, aggregate: uuid.UUID, position: int) -> tuple[bytes, bytes]:
    sent = Envelope(
        id=uuid.uuid4(),
        type="couriers.Delivered",
        version=1,
        source="couriers",
        city="demo",
        position=position,
        occurred_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        aggregate_id=aggregate,
        payload={"courier": courier},
    )
    return sent.key, sent.to_bytes()


@pytest.fixture
def broker() -> EmbeddedBroker:
    broker = EmbeddedBroker(default_partitions=2)
    broker.ensure_topics([TOPIC], 2)
    return broker


def counts(app: Tally) -> dict[str, int]:
    rows = app.read_model(Deliveries).view.select("couriers", order_by=("courier",))
    return {str(r["courier"]): int(str(r["deliveries"])) for r in rows}


def drain(consumer: Consumer) -> None:
    for _ in range(50):
        if consumer.run_once(timeout_s=0.01) == 0:
            return
    raise AssertionError("consumer still busy")


def test_a_consumed_event_is_projected_once_however_often_it_is_delivered(
    broker: EmbeddedBroker,
) -> None:
    app = Tally(Settings(persistence="popo"))
    a, b = uuid.uuid4(), uuid.uuid4()
    messages = [envelope("ada", a, 1), envelope("ada", a, 2), envelope("bram", b, 3)]
    broker.publisher().publish(TOPIC, messages + messages)  # everything delivered twice
    consumer = Consumer(app, broker.subscriber("tally"), topics=[TOPIC], inbound=INBOUND)

    drain(consumer)

    assert counts(app) == {"ada": 2, "bram": 1}
    # A second group member reading the same topic from the start changes nothing either.
    drain(Consumer(app, broker.subscriber("tally-replay"), topics=[TOPIC], inbound=INBOUND))
    assert counts(app) == {"ada": 2, "bram": 1}


def test_a_read_model_that_missed_an_applied_event_catches_up_on_redelivery(
    broker: EmbeddedBroker,
) -> None:
    app = Tally(Settings(persistence="popo"))
    a = uuid.uuid4()
    broker.publisher().publish(TOPIC, [envelope("ada", a, 1)])
    consumer = Consumer(app, broker.subscriber("tally"), topics=[TOPIC], inbound=INBOUND)
    # The service's own effect commits, then the process dies before the read model commits.
    # (Its rows are written with the message, in one batch or on their own: both are skipped.)
    projected, views = consumer._project, consumer._views
    consumer._project = lambda model, tracking: None  # type: ignore[method-assign]
    consumer._views = lambda step: []  # type: ignore[method-assign]
    drain(consumer)
    assert counts(app) == {}
    consumer._project, consumer._views = projected, views  # type: ignore[method-assign]

    broker.publisher().publish(TOPIC, [envelope("ada", a, 1)])  # redelivered
    drain(consumer)

    assert counts(app) == {"ada": 1}
    assert consumer.outcome.applied == 1
