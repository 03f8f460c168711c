"""The bus guarantees, shown on the Kafka path against a real broker and PostgreSQL stores.

- a message delivered twice is applied once;
- a worker killed after applying a batch but before committing its offsets, or inside the
  batch's transaction, applies each message exactly once after restart;
- a broker restarted empty loses nothing: the relay republishes from the store and consumers
  skip what they already applied;
- an unknown event type, a newer major version or a malformed message is parked, and the
  consumer goes on (no crash loop).
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from contributions.application import Contributions
from contributions.inbound import INBOUND
from kernel.bus.consumer import Consumer
from kernel.bus.envelope import Envelope
from kernel.bus.kafka import KafkaBus
from kernel.bus.relay import Relay
from kernel.paging import page_request
from kernel.time import FixedClock
from services.rides import published
from services.rides.application import Rides
from tests.integration.conftest import (
    DRIVER,
    complete_rides,
    driver_earnings,
    driver_earnings_expected,
    eventually,
    fare_entries,
    scale_env,
    start_driver,
)
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kernel.config import Settings
    from tests.support.servers import TansuBroker

pytestmark = pytest.mark.integration


class Slice:
    """Rides and contributions on PostgreSQL, joined by a relay and a consumer on Kafka."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = FixedClock()
        self.bus = KafkaBus(settings.kafka_bootstrap or "", client_id="test")
        self.topic = settings.topic("rides")
        self.bus.ensure_topics([self.topic], settings.topic_partitions)
        self.rides = Rides(settings, clock=self.clock, city=NEAREST)
        self.contributions = Contributions(settings, clock=self.clock)
        self.relay = Relay(
            self.rides,
            self.bus.publisher(),
            topic=self.topic,
            to_integration=published.to_integration,
            check_broker_every_s=0.5,
            ensure_topic=lambda: self.bus.ensure_topics([self.topic], settings.topic_partitions),
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def consumer(self, app: Contributions | None = None, group: str | None = None) -> Consumer:
        return Consumer(
            app or self.contributions,
            self.bus.subscriber(group or self.settings.group("contributions")),
            topics=[self.topic],
            inbound=INBOUND,
        )

    def publish_all(self) -> None:
        while self.relay.run_once():
            pass

    def run_in_background(self, *workers: Relay | Consumer) -> list[threading.Thread]:
        threads = []
        for worker in workers:
            thread = threading.Thread(target=worker.run, args=(self._stop,), daemon=True)
            thread.start()
            threads.append(thread)
        self._threads += threads
        return threads

    def close(self) -> None:
        self._stop.set()
        self.rides.new_events.set()
        for thread in self._threads:
            thread.join(timeout=15)
        self.bus.close()
        self.rides.close()
        self.contributions.close()


@pytest.fixture
def slice_(scale_settings: Settings) -> Iterator[Slice]:
    s = Slice(scale_settings)
    start_driver(s.rides)
    yield s
    s.close()


def drain(consumer: Consumer, until: Callable[[], bool], timeout_s: float = 30.0) -> None:
    eventually(lambda: consumer.run_once(1.0) >= 0 and until(), timeout_s=timeout_s)


def test_a_message_delivered_twice_is_applied_once(slice_: Slice) -> None:
    # given three completed rides, published once by the relay
    rides = complete_rides(slice_.rides, slice_.clock, 3)
    slice_.publish_all()
    # and published again by a relay that lost its position (it crashed before recording it)
    again = Relay(
        slice_.rides,
        slice_.bus.publisher(),
        topic=slice_.topic,
        to_integration=published.to_integration,
    )
    again.position = again.published = 0
    while again.run_once():
        pass
    assert sum(slice_.bus.publisher().end_offsets(slice_.topic).values()) == 12  # 6 events x 2

    # when the consumer reads all twelve messages
    consumer = slice_.consumer()
    eventually(lambda: consumer.run_once(1.0) >= 0 and consumer.outcome.skipped >= 3, what="dups")

    # then each ride was applied once
    assert consumer.outcome.applied == 3
    assert fare_entries(slice_.contributions) == 3
    assert driver_earnings(slice_.contributions) == driver_earnings_expected(slice_.rides, rides)


def test_a_worker_killed_before_committing_applies_exactly_once_after_restart(
    slice_: Slice, postgres_dsn: str, muni_processes
) -> None:
    # given three completed rides on the topic
    rides = complete_rides(slice_.rides, slice_.clock, 3)
    slice_.publish_all()
    env = scale_env(slice_.settings, postgres_dsn)

    # when a contributions worker dies right after its first batch (at least one ride) is
    # applied, before committing the batch's offsets
    doomed = muni_processes(
        ["worker", "contributions"], env={**env, "MUNI_FAULT_EXIT_AFTER_APPLY": "1"}, name="doomed"
    )
    assert doomed.wait(timeout_s=60) == 137, doomed.log_tail()
    assert 1 <= fare_entries(slice_.contributions) <= 3

    # and a new worker starts from the last committed offset (nothing was committed)
    muni_processes(["worker", "contributions"], env=env, name="restarted")
    eventually(lambda: fare_entries(slice_.contributions) == 3, what="3 rides applied")

    # then no ride of the first batch was applied a second time
    assert driver_earnings(slice_.contributions) == driver_earnings_expected(slice_.rides, rides)
    ledger, _ = slice_.contributions.ledger()
    lines = ledger.member_lines(DRIVER, page_request(100, None, arity=3)).items
    assert len([line for line in lines if line.unit == "EUR"]) == 3


def test_a_worker_killed_inside_a_batch_leaves_none_of_it_and_applies_each_once_after(
    slice_: Slice, postgres_dsn: str, muni_processes
) -> None:
    # given three completed rides on the topic
    rides = complete_rides(slice_.rides, slice_.clock, 3)
    slice_.publish_all()
    env = scale_env(slice_.settings, postgres_dsn)

    # when a contributions worker dies inside its first batch's transaction, after writing the
    # first message's effects
    doomed = muni_processes(
        ["worker", "contributions"], env={**env, "MUNI_FAULT_EXIT_MID_BATCH": "1"}, name="doomed"
    )
    assert doomed.wait(timeout_s=60) == 137, doomed.log_tail()
    assert fare_entries(slice_.contributions) == 0  # the batch's transaction never committed

    # then a new worker applies every ride once
    muni_processes(["worker", "contributions"], env=env, name="restarted")
    eventually(lambda: fare_entries(slice_.contributions) == 3, what="3 rides applied")
    assert driver_earnings(slice_.contributions) == driver_earnings_expected(slice_.rides, rides)


def test_a_broker_restarted_empty_loses_nothing(
    scale_settings: Settings, restartable_kafka_broker: TansuBroker
) -> None:
    settings = scale_settings.with_(kafka_bootstrap=restartable_kafka_broker.bootstrap)
    s = Slice(settings)
    try:
        start_driver(s.rides)
        consumer = s.consumer()
        s.run_in_background(s.relay, consumer)
        first = complete_rides(s.rides, s.clock, 3)
        eventually(lambda: fare_entries(s.contributions) == 3, what="3 rides before the restart")

        # when the broker restarts with nothing in it
        restartable_kafka_broker.restart_empty()
        later = complete_rides(s.rides, s.clock, 2)

        # then the rides after the restart arrive, and nothing is applied twice
        # generous: a consumer group rejoining a restarted broker can take tens of seconds
        eventually(lambda: fare_entries(s.contributions) == 5, timeout_s=150, what="5 rides")
        expected = driver_earnings_expected(s.rides, first + later)
        assert driver_earnings(s.contributions) == expected
        # and the broker holds the whole history again, republished from the store
        eventually(
            lambda: sum(s.bus.publisher().end_offsets(s.topic).values()) >= 10,
            what="history republished",
        )
    finally:
        s.close()


def _raw(type_: str, version: int, payload: dict[str, object]) -> tuple[bytes, bytes]:
    envelope = Envelope(
        id=uuid.uuid4(),
        type=type_,
        version=version,
        source="rides",
        city="demo",
        position=10_000 + version,
        occurred_at=datetime.now(UTC),
        aggregate_id=uuid.uuid4(),
        payload=payload,
    )
    return envelope.key, envelope.to_bytes()


def test_unknown_types_newer_versions_and_garbage_are_parked_and_the_consumer_goes_on(
    slice_: Slice,
) -> None:
    # given a topic holding an unknown type, a newer major version and bytes that are no envelope
    slice_.bus.publisher().publish(
        slice_.topic,
        [
            _raw("rides.RideTeleported", 1, {"to": "the moon"}),
            _raw("rides.RideCompleted", 2, {"ride_id": str(uuid.uuid4())}),
            (b"junk", b"\x00not json at all"),
        ],
    )
    # followed by a good ride
    complete_rides(slice_.rides, slice_.clock, 1)
    slice_.publish_all()

    # when the consumer runs
    consumer = slice_.consumer()
    (thread,) = slice_.run_in_background(consumer)

    # then it parks the three, applies the ride, and is still running
    eventually(lambda: fare_entries(slice_.contributions) == 1, what="the good ride applied")
    # (the four messages have different keys, so they sit on different partitions and the good
    # ride may be applied before the last bad one is parked: wait for all three)
    eventually(lambda: len(slice_.contributions.parked_messages()) >= 3, what="three parked")
    parked = slice_.contributions.parked_messages()
    reasons = sorted(p.reason for p in parked)
    assert len(parked) == 3, reasons
    assert any("unknown event type rides.RideTeleported" in r for r in reasons)
    assert any("rides.RideCompleted v2 is newer" in r for r in reasons)
    assert any(r.startswith("malformed envelope") for r in reasons)
    assert fare_entries(slice_.contributions) == 1  # the newer version was parked, not applied
    assert thread.is_alive()
