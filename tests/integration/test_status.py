"""Readings and correlation at scale: PostgreSQL stores, Kafka (Tansu) between them.

`muni status` reads the relays from the stores and the consumer group from the broker's
committed offsets; the running process reads the same through `Runtime.readings()`. A
correlation id set around the rides commands reaches the contributions store through Kafka.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from gateway.runtime import Runtime
from gateway.status import render, stored_readings
from kernel import correlation
from kernel.time import FixedClock
from tests.integration.conftest import complete_rides, eventually, fare_entries, start_driver

if TYPE_CHECKING:
    from contributions.application import Contributions
    from kernel.config import Settings
    from services.rides.application import Rides

pytestmark = pytest.mark.integration


def test_status_and_readings_agree_and_the_correlation_id_crosses_kafka(
    scale_settings: Settings,
) -> None:
    clock = FixedClock()
    runtime = Runtime.build(
        scale_settings, workers=("members", "rides", "contributions"), clock=clock
    )
    runtime.start()
    try:
        rides: Rides = runtime.apps["rides"]  # type: ignore[assignment]
        contributions: Contributions = runtime.apps["contributions"]  # type: ignore[assignment]
        start_driver(rides)
        cid = uuid.uuid4()
        with correlation.correlated(cid):
            complete_rides(rides, clock, 2)
        eventually(lambda: fare_entries(contributions) == 2, what="two rides in the ledger")

        def caught_up() -> bool:
            # rides consumes too (policy versions from decisions): read contributions' group
            consumer = next(
                r
                for r in runtime.readings()
                if r.kind == "consumer" and r.name.startswith("consumer contributions")
            )
            # Requested and completed are published for each ride: four messages.
            return consumer.head == 4 and consumer.lag == 0

        eventually(caught_up, what="the consumer group committing both messages")
        live = {r.name: r for r in runtime.readings()}
        stored = {r.name: r for r in stored_readings(scale_settings)}
        events = [
            contributions.mapper.to_domain_event(n)
            for n in contributions.notification_log.select(start=1, limit=100)
        ]
    finally:
        runtime.stop()

    topic = scale_settings.topic("rides")
    consumer_name = f"consumer contributions <- {topic}"
    assert stored[consumer_name].error is None
    assert (stored[consumer_name].position, stored[consumer_name].head) == (4, 4)
    assert live[consumer_name].counts["applied"] == 2
    relay_name = f"relay rides -> {topic}"
    assert stored[relay_name].position == live[relay_name].position == live[relay_name].head
    assert stored[relay_name].lag == 0
    assert consumer_name in render(list(stored.values()))

    # Every event the consumer stored for those rides carries the commands' correlation id.
    assert events
    assert {correlation.of(e)[0] for e in events} == {cid}
