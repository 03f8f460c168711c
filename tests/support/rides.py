"""Helpers for rides tests: the demo city with some rides rules changed, and a batch run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from kernel.bus.consumer import Consumer
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.cities import load_city
from services.rides.inbound import INBOUND

if TYPE_CHECKING:
    from kernel.cities import CityConfig
    from kernel.time import FixedClock
    from services.rides.application import Rides
    from services.rides.batching import Batch

DEMO = load_city("demo")


def city_with(*, matching: dict[str, Any] | None = None, **rides: Any) -> CityConfig:
    """The demo city with `[rides]` keys (and `[rides.matching]` keys) replaced, validated."""
    policy = DEMO.rides.model_dump()
    policy.update(rides)
    if matching:
        policy["matching"] = {**policy["matching"], **matching}
    return type(DEMO).model_validate({**DEMO.model_dump(), "rides": policy})


NEAREST = city_with(matching={"policy": "nearest"})


def next_batch(rides: Rides, clock: FixedClock) -> Batch | None:
    """Advance the clock through one batch window and run the batch, as the matcher would."""
    clock.advance(timedelta(seconds=rides.city.rides.matching.batch_window_seconds))
    return rides.run_batch()


def decisions_envelope(
    event_type: str, payload: dict[str, Any], *, aggregate: UUID, position: int, at: datetime
) -> tuple[bytes, bytes]:
    """A `decisions.*` v1 event as the decisions service's relay would publish it."""
    sent = Envelope(
        id=uuid4(),
        type=event_type,
        version=1,
        source="decisions",
        city="demo",
        position=position,
        occurred_at=at,
        aggregate_id=aggregate,
        payload=payload,
    )
    return sent.key, sent.to_bytes()


def consume_decisions(rides: Rides, *messages: tuple[bytes, bytes]) -> Consumer:
    """Publish `messages` on an in-process broker and apply them to `rides` with its real
    consumer (the `Inbound` its spec names) until nothing is left; returns the consumer."""
    broker = EmbeddedBroker(default_partitions=2)
    topic = rides.settings.topic("decisions")
    broker.ensure_topics([topic], 2)
    broker.publisher().publish(topic, list(messages))
    consumer = Consumer(rides, broker.subscriber("rides"), topics=[topic], inbound=INBOUND)
    for _ in range(50):
        if consumer.run_once(timeout_s=0.01) == 0:
            return consumer
    raise AssertionError("the consumer is still busy")
