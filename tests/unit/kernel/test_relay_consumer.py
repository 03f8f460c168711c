"""Relay and consumer over the embedded broker with POPO stores: at-least-once delivery,
exactly-once effects, parking instead of crash loops.

Rides publishes through a Relay; Contributions consumes through a Consumer. Tests step both by
hand (`run_once`), so nothing here waits on threads.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import OperationalError

from contributions.application import Contributions
from contributions.inbound import INBOUND
from kernel.bus.consumer import Consumer, Inbound
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.bus.relay import Relay
from kernel.config import Settings
from kernel.events import TolerantModel
from kernel.eventstore import FederationApplication
from kernel.ids import new_member_id, stable_uuid
from services.rides.application import Rides
from services.rides.domain import Place
from services.rides.published import to_integration
from tests.support.ledger import tables
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.application import ProcessingEvent

    from kernel.time import FixedClock

SETTINGS = Settings(persistence="popo")
TOPIC = SETTINGS.topic("rides")


@pytest.fixture(autouse=True)
def _no_fault_injection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUNI_FAULT_EXIT_AFTER_APPLY", raising=False)


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(SETTINGS, clock=clock, city=NEAREST)


@pytest.fixture
def contributions(clock: FixedClock) -> Contributions:
    return Contributions(SETTINGS, clock=clock)


@pytest.fixture
def broker() -> EmbeddedBroker:
    broker = EmbeddedBroker(default_partitions=3)
    broker.ensure_topics([TOPIC], 3)
    return broker


def complete_a_ride(rides: Rides, clock: FixedClock) -> UUID:
    """Register a driver, put them on duty, and take one rider from pickup to drop-off."""
    driver, rider = new_member_id("demo"), new_member_id("demo")  # type: ignore[arg-type]
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=51.05, lon=3.72)
    ride_id = rides.request_ride(
        rider, pickup=Place(51.06, 3.71), dropoff=Place(51.03, 3.75), seats=1, wheelchair=False
    )
    rides.accept_ride(driver, ride_id)
    clock.advance(timedelta(minutes=4))
    rides.mark_picked_up(driver, ride_id)
    clock.advance(timedelta(minutes=11))
    rides.mark_dropped_off(driver, ride_id)
    return ride_id


def relay_for(app: Rides, broker: EmbeddedBroker) -> Relay:
    return Relay(
        app, broker.publisher(), topic=TOPIC, to_integration=to_integration, check_broker_every_s=0
    )


def consumer_for(
    app: FederationApplication,
    broker: EmbeddedBroker,
    *,
    group: str = "contributions",
    inbound: Inbound = INBOUND,
) -> Consumer:
    return Consumer(app, broker.subscriber(group), topics=[TOPIC], inbound=inbound)


def drain(consumer: Consumer, *, max_polls: int = 50) -> None:
    """Poll until a poll brings nothing (bounded)."""
    for _ in range(max_polls):
        if consumer.run_once(timeout_s=0.01) == 0:
            return
    raise AssertionError(f"consumer still busy after {max_polls} polls")


def held(broker: EmbeddedBroker) -> int:
    return sum(broker.publisher().end_offsets(TOPIC).values())


def entries(app: Contributions) -> int:
    ledger, _ = app.ledger()
    return ledger.entries()


def published_count(rides: Rides) -> int:
    """How many stored rides events map to a published integration event."""
    notes = rides.notification_log.select(start=1, limit=500)
    return sum(to_integration(rides.mapper.to_domain_event(n)) is not None for n in notes)


# -- at least once in, exactly once out -----------------------------------------------------------
def test_two_relays_publish_everything_twice_and_the_consumer_applies_it_once(
    rides: Rides, contributions: Contributions, broker: EmbeddedBroker, clock: FixedClock
) -> None:
    complete_a_ride(rides, clock)
    first, second = relay_for(rides, broker), relay_for(rides, broker)  # two replicas
    first.run_once()
    second.run_once()
    assert held(broker) == 2 * published_count(rides) == 4  # requested + completed, twice

    consumer = consumer_for(contributions, broker)
    drain(consumer)

    assert entries(contributions) == 2  # the fare split and the driving hours, once
    assert consumer.outcome.applied == 1
    assert consumer.outcome.ignored == 1  # RideRequested: known, deliberately not applied
    assert consumer.outcome.skipped == 2
    assert contributions.parked_messages() == []


def test_the_same_bytes_published_again_later_are_skipped(
    rides: Rides, contributions: Contributions, broker: EmbeddedBroker, clock: FixedClock
) -> None:
    complete_a_ride(rides, clock)
    relay_for(rides, broker).run_once()
    consumer = consumer_for(contributions, broker)
    drain(consumer)
    before = contributions.recorder.max_notification_id()
    rows = tables(contributions)

    copies = broker.subscriber("spy")
    copies.subscribe([TOPIC])
    messages = copies.poll(0.1)
    broker.publisher().publish(TOPIC, [(m.key or b"", m.value) for m in messages])
    drain(consumer)

    assert contributions.recorder.max_notification_id() == before
    assert consumer.outcome.skipped == len(messages) == 2
    assert tables(contributions) == rows  # the ledger's lines and balances are untouched
    assert entries(contributions) == 2


def test_a_restarted_relay_publishes_nothing_new(
    rides: Rides, broker: EmbeddedBroker, clock: FixedClock
) -> None:
    complete_a_ride(rides, clock)
    assert relay_for(rides, broker).run_once() > 0
    count = held(broker)

    restarted = relay_for(rides, broker)  # a new process: position read from the store

    assert restarted.run_once() == 0
    assert held(broker) == count
    assert restarted.position == rides.recorder.max_notification_id()


def test_an_empty_new_broker_gets_everything_again_and_nothing_is_applied_twice(
    rides: Rides, contributions: Contributions, broker: EmbeddedBroker, clock: FixedClock
) -> None:
    complete_a_ride(rides, clock)
    relay_for(rides, broker).run_once()
    drain(consumer_for(contributions, broker))
    assert entries(contributions) == 2
    before = contributions.recorder.max_notification_id()

    # the broker restarts empty; relay and consumer come back with it
    broker.close()
    empty = EmbeddedBroker(default_partitions=3)
    empty.ensure_topics([TOPIC], 3)
    relay = relay_for(rides, empty)
    relay.run_once()  # checks the broker, sees it lost everything, republishes
    consumer = consumer_for(contributions, empty)
    drain(consumer)

    assert held(empty) == published_count(rides) == 2
    assert consumer.outcome.applied == 0
    assert consumer.outcome.skipped == 2
    assert contributions.recorder.max_notification_id() == before

    # a ride completed afterwards goes through exactly once
    complete_a_ride(rides, clock)
    relay.run_once()
    drain(consumer)
    assert held(empty) == published_count(rides) == 4
    assert consumer.outcome.applied == 1
    assert entries(contributions) == 4


def test_a_relay_that_finds_the_broker_intact_does_not_republish(
    rides: Rides, broker: EmbeddedBroker, clock: FixedClock
) -> None:
    complete_a_ride(rides, clock)
    relay = relay_for(rides, broker)
    relay.run_once()
    count = held(broker)
    for _ in range(3):
        relay.run_once()
    assert held(broker) == count


# -- parking ------------------------------------------------------------------------------------
def _raw_envelope(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": "rides.RideCompleted",
        "version": 1,
        "source": "rides",
        "city": "demo",
        "position": 1,
        "occurred_at": "2026-11-28T09:30:00+00:00",
        "aggregate_id": str(uuid.uuid4()),
        "payload": {},
    }
    return {**fields, **changes}


def _bytes(raw: dict[str, Any]) -> bytes:
    return Envelope.model_validate(raw).to_bytes()


def _good_payload() -> dict[str, Any]:
    return {
        "ride_id": str(uuid.uuid4()),
        "rider_id": new_member_id("demo"),  # type: ignore[arg-type]
        "driver_id": new_member_id("demo"),  # type: ignore[arg-type]
        "distance_km": "4.20",
        "riding_minutes": "11.0",
        "driver_minutes": "15.0",
        "fare": "10.42",
        "currency": "EUR",
        "split": {"driver": "8.86", "coop": "1.04", "common_fund": "0.42", "protocol": "0.10"},
        "completed_at": "2026-11-28T09:30:00+00:00",
    }


@pytest.fixture
def one_partition() -> EmbeddedBroker:
    """One partition, so a bad message and the good one after it are read in that order."""
    broker = EmbeddedBroker(default_partitions=1)
    broker.ensure_topics([TOPIC], 1)
    return broker


def _park_then_apply(
    bad: bytes,
    contributions: Contributions,
    broker: EmbeddedBroker,
    rides: Rides,
    clock: FixedClock,
) -> Consumer:
    broker.publisher().publish(TOPIC, [(b"bad", bad)])
    complete_a_ride(rides, clock)
    relay_for(rides, broker).run_once()
    consumer = consumer_for(contributions, broker)
    drain(consumer)
    assert consumer.outcome.parked == 1
    assert consumer.outcome.applied == 1  # and then it went on
    assert entries(contributions) == 2
    return consumer


def test_an_unknown_event_type_is_parked_and_the_next_message_applied(
    rides: Rides, contributions: Contributions, one_partition: EmbeddedBroker, clock: FixedClock
) -> None:
    bad = _bytes(_raw_envelope(type="rides.RideTeleported", payload={"to": "mars"}))
    _park_then_apply(bad, contributions, one_partition, rides, clock)

    [parked] = contributions.parked_messages()
    assert parked.reason == "unknown event type rides.RideTeleported v1"
    assert parked.event_type == "rides.RideTeleported"
    assert parked.source_log == "demo/rides"
    assert (parked.topic, parked.partition, parked.offset) == (TOPIC, 0, 0)


def test_a_newer_major_version_is_parked_with_a_reason_naming_the_version(
    rides: Rides, contributions: Contributions, one_partition: EmbeddedBroker, clock: FixedClock
) -> None:
    bad = _bytes(_raw_envelope(version=2, payload=_good_payload()))
    _park_then_apply(bad, contributions, one_partition, rides, clock)

    [parked] = contributions.parked_messages()
    assert "rides.RideCompleted v2 is newer than the versions read here [1]" in parked.reason


@pytest.mark.parametrize(
    "bad", [b"not an envelope", b"\xff\xfe", b'{"type": "rides.RideCompleted", "version": 1}']
)
def test_malformed_bytes_are_parked(
    bad: bytes,
    rides: Rides,
    contributions: Contributions,
    one_partition: EmbeddedBroker,
    clock: FixedClock,
) -> None:
    _park_then_apply(bad, contributions, one_partition, rides, clock)

    [parked] = contributions.parked_messages()
    assert parked.reason.startswith("malformed envelope: ")
    assert parked.event_type is None
    assert parked.raw == bad.decode("utf-8", errors="replace")


def test_a_payload_missing_a_required_field_is_parked(
    rides: Rides, contributions: Contributions, one_partition: EmbeddedBroker, clock: FixedClock
) -> None:
    payload = _good_payload()
    del payload["driver_minutes"]
    _park_then_apply(
        _bytes(_raw_envelope(payload=payload)), contributions, one_partition, rides, clock
    )

    [parked] = contributions.parked_messages()
    assert parked.reason.startswith("payload rejected by RideCompleted")
    assert "driver_minutes" in parked.reason


def test_a_parked_message_delivered_again_is_parked_once(
    contributions: Contributions, one_partition: EmbeddedBroker
) -> None:
    raw = _bytes(_raw_envelope(type="rides.RideTeleported"))
    one_partition.publisher().publish(TOPIC, [(b"k", raw), (b"k", raw)])
    consumer = consumer_for(contributions, one_partition)
    drain(consumer)
    assert len(contributions.parked_messages()) == 1
    assert (consumer.outcome.parked, consumer.outcome.skipped) == (1, 1)


def test_unknown_fields_in_a_payload_are_ignored(
    contributions: Contributions, one_partition: EmbeddedBroker
) -> None:
    payload = {**_good_payload(), "surge_multiplier": "3.0"}
    one_partition.publisher().publish(TOPIC, [(b"k", _bytes(_raw_envelope(payload=payload)))])
    consumer = consumer_for(contributions, one_partition)
    drain(consumer)
    assert consumer.outcome.applied == 1
    assert contributions.parked_messages() == []


# -- optimistic concurrency inside a policy -------------------------------------------------------
class Counter(Aggregate):
    @staticmethod
    def create_id(name: str) -> UUID:
        return stable_uuid("test-counter", name)

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class Bumped(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("tests.Bumped", 1)
    counter: str


class Tally(FederationApplication):
    """A tiny consumer whose policy can be made to lose a race for its aggregate."""

    service = "tally"
    rivals = 0  # how many times a concurrent writer gets in first

    @singledispatchmethod
    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        pass

    @react.register(Bumped)
    def when_bumped_increment(self, event: Bumped, processing: ProcessingEvent[UUID]) -> None:
        counter: Counter = self.repository.get(Counter.create_id(event.counter))
        counter.increment()
        if self.rivals:
            self.rivals -= 1
            rival: Counter = self.repository.get(counter.id)
            rival.increment()
            self.save(rival)  # wins the race: our version is now taken
        processing.collect_events(counter)


@pytest.fixture
def tally(clock: FixedClock) -> Tally:
    app = Tally(SETTINGS, clock=clock)
    app.save(Counter("c"))
    return app


def _bump(broker: EmbeddedBroker, position: int) -> bytes:
    raw = _raw_envelope(
        type="tests.Bumped",
        source="tests",
        position=position,
        aggregate_id=str(stable_uuid("bumps")),
        payload={"counter": "c"},
    )
    value = _bytes(raw)
    broker.publisher().publish(TOPIC, [(b"bumps", value)])
    return value


def test_a_concurrency_conflict_in_a_policy_is_retried_not_taken_for_a_duplicate(
    tally: Tally, one_partition: EmbeddedBroker
) -> None:
    tally.rivals = 2
    _bump(one_partition, position=1)
    consumer = consumer_for(tally, one_partition, group="tally", inbound=Inbound.of([Bumped]))
    drain(consumer)

    counter: Counter = tally.repository.get(Counter.create_id("c"))
    assert counter.count == 3  # two rival increments, and ours applied once after retrying
    assert (consumer.outcome.applied, consumer.outcome.skipped) == (1, 0)


def test_a_policy_that_always_loses_the_race_gives_up_loudly(
    tally: Tally, one_partition: EmbeddedBroker
) -> None:
    tally.rivals = 1000
    _bump(one_partition, position=1)
    consumer = consumer_for(tally, one_partition, group="tally", inbound=Inbound.of([Bumped]))
    with pytest.raises(OperationalError, match="gave up applying"):
        consumer.run_once(timeout_s=0.01)
    assert consumer.outcome.applied == 0


def test_bumps_delivered_twice_count_once(tally: Tally, one_partition: EmbeddedBroker) -> None:
    value = _bump(one_partition, position=1)
    one_partition.publisher().publish(TOPIC, [(b"bumps", value)])
    _bump(one_partition, position=2)
    consumer = consumer_for(tally, one_partition, group="tally", inbound=Inbound.of([Bumped]))
    drain(consumer)

    counter: Counter = tally.repository.get(Counter.create_id("c"))
    assert counter.count == 2
    assert (consumer.outcome.applied, consumer.outcome.skipped) == (2, 1)
