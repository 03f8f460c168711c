"""The bus contract (kernel.bus.port), one suite run against every implementation.

arroyo's StreamsTestMixin idea as a parametrised fixture: `embedded` (the in-process broker)
and `kafka` (kafka-python against a Tansu broker; marked `integration`). A case that one
implementation deliberately cannot pass is marked xfail(strict=True) for that implementation
only, never deleted.

Every test makes its own topic and group names, so tests share a broker without cleaning up.
Waits are bounded polls.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Protocol

import pytest

from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.kafka import KafkaBus
from kernel.bus.port import BusError, Delivery, Message, TopicPartition

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from kernel.bus.port import Bus, Publisher, Subscriber
    from tests.support.servers import TansuBroker

PARTITIONS = 3
WAIT_S = 20.0  # upper bound for anything to arrive (a Kafka group join takes ~3 s on Tansu)
QUIET_S = 0.5  # how long "nothing more arrives" is watched for


# -- the implementations under test -------------------------------------------------------------
class BusUnderTest(Protocol):
    name: str
    bus: Bus
    # False: a restart replaces the broker object, so clients must be made again from `bus`.
    clients_survive_restart: bool

    def restart_empty(self) -> None: ...

    def close(self) -> None: ...


class EmbeddedUnderTest:
    name = "embedded"
    clients_survive_restart = False

    def __init__(self) -> None:
        self.bus: Bus = EmbeddedBroker(default_partitions=PARTITIONS)

    def restart_empty(self) -> None:
        """An embedded broker lives in its process: restarting it means a new, empty one."""
        self.bus.close()
        self.bus = EmbeddedBroker(default_partitions=PARTITIONS)

    def close(self) -> None:
        self.bus.close()


class KafkaUnderTest:
    name = "kafka"
    clients_survive_restart = True

    def __init__(self, broker: TansuBroker) -> None:
        self.broker = broker
        self.bus: Bus = KafkaBus(broker.bootstrap, client_id="muni-contract")

    def restart_empty(self) -> None:
        """Same port, memory storage: every topic, message and group offset is gone."""
        self.broker.restart_empty()

    def close(self) -> None:
        self.bus.close()


IMPLEMENTATIONS = ["embedded", pytest.param("kafka", marks=pytest.mark.integration)]


def _under_test(request: pytest.FixtureRequest, broker_fixture: str) -> BusUnderTest:
    if request.param == "embedded":
        return EmbeddedUnderTest()
    return KafkaUnderTest(request.getfixturevalue(broker_fixture))


@pytest.fixture(params=IMPLEMENTATIONS)
def under_test(request: pytest.FixtureRequest) -> Iterator[BusUnderTest]:
    """A bus on a broker shared with other tests (Kafka: the session's Tansu)."""
    impl = _under_test(request, "kafka_broker")
    yield impl
    impl.close()


@pytest.fixture(params=IMPLEMENTATIONS)
def restartable(request: pytest.FixtureRequest) -> Iterator[BusUnderTest]:
    """A bus on a private broker that the test may restart."""
    impl = _under_test(request, "restartable_kafka_broker")
    yield impl
    impl.close()


# -- helpers -------------------------------------------------------------------------------------
def unique(kind: str) -> str:
    return f"contract-{kind}-{uuid.uuid4().hex[:10]}"


def keyed(prefix: str, count: int, *, keys: int = 12) -> list[tuple[bytes, bytes]]:
    """`count` messages spread over `keys` keys; values are unique: b'<prefix>-<i>'."""
    return [(f"key-{i % keys}".encode(), f"{prefix}-{i}".encode()) for i in range(count)]


def poll_until(
    subscriber: Subscriber,
    done: Callable[[list[Message]], bool],
    *,
    timeout_s: float = WAIT_S,
    what: str = "messages",
    poll_s: float = 0.2,
) -> list[Message]:
    """Poll (`poll_s` at a time) until `done(everything so far)`; fail after `timeout_s`
    with what did arrive."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while not done(seen):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}; got {seen}")
        seen.extend(subscriber.poll(poll_s))
    return seen


def poll_count(subscriber: Subscriber, count: int, **kwargs: float) -> list[Message]:
    """Exactly `count` messages: poll until that many arrived, then check nothing more comes."""
    seen = poll_until(subscriber, lambda s: len(s) >= count, what=f"{count} messages", **kwargs)
    seen.extend(poll_quiet(subscriber))
    assert len(seen) == count, f"expected {count} messages, got {len(seen)}: {seen}"
    return seen


def poll_quiet(subscriber: Subscriber, quiet_s: float = QUIET_S) -> list[Message]:
    """Whatever arrives within `quiet_s`."""
    seen: list[Message] = []
    deadline = time.monotonic() + quiet_s
    while time.monotonic() < deadline:
        seen.extend(subscriber.poll(0.1))
    return seen


def poll_each(
    subscribers: Sequence[Subscriber], count: int, *, commit: Sequence[bool]
) -> list[list[Message]]:
    """`poll_count(subscriber, count)` for each subscriber at once, one thread each; a
    subscriber whose `commit` flag is set commits what it received as it goes."""
    results: list[list[Message]] = [[] for _ in subscribers]
    failures: list[BaseException] = []

    def run(index: int) -> None:
        subscriber = subscribers[index]
        try:
            results[index] = poll_count(subscriber, count)
            if commit[index]:
                subscriber.commit(next_offsets(results[index]))
        except BaseException as exc:  # pytest.fail raises a BaseException
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(subscribers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_S + 10)
    if failures:
        raise failures[0]
    return results


def next_offsets(messages: Sequence[Message]) -> dict[TopicPartition, int]:
    """What to commit after applying `messages`: per partition, the last offset + 1."""
    out: dict[TopicPartition, int] = {}
    for m in messages:
        out[m.topic_partition] = max(out.get(m.topic_partition, 0), m.offset + 1)
    return out


def values(messages: Sequence[Message]) -> list[bytes]:
    return [m.value for m in messages]


def per_partition(deliveries: Sequence[Delivery]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for d in deliveries:
        out[d.partition].append(d.offset)
    return dict(out)


def subscribed(bus: Bus, group: str, topic: str) -> Subscriber:
    subscriber = bus.subscriber(group)
    subscriber.subscribe([topic])
    return subscriber


@pytest.fixture
def topic(under_test: BusUnderTest) -> str:
    name = unique("topic")
    under_test.bus.ensure_topics([name], PARTITIONS)
    return name


@pytest.fixture
def publisher(under_test: BusUnderTest) -> Iterator[Publisher]:
    publisher = under_test.bus.publisher()
    yield publisher
    publisher.close()


# -- publishing ----------------------------------------------------------------------------------
def test_publish_returns_deliveries_with_increasing_offsets_per_partition(
    publisher: Publisher, topic: str
) -> None:
    first = publisher.publish(topic, keyed("a", 30))
    second = publisher.publish(topic, keyed("b", 30))

    assert len(first) == 30
    assert len(second) == 30
    assert {d.topic for d in first + second} == {topic}
    assert all(0 <= d.partition < PARTITIONS for d in first + second)
    for partition, offsets in per_partition(first + second).items():
        assert offsets == list(range(len(offsets))), f"partition {partition}: {offsets}"


def test_same_key_goes_to_the_same_partition_and_keeps_its_order(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    items = [(b"alpha" if i % 3 else b"beta", f"v-{i}".encode()) for i in range(30)]

    deliveries = publisher.publish(topic, items)

    by_key: dict[bytes, set[int]] = defaultdict(set)
    for (key, _), delivery in zip(items, deliveries, strict=True):
        by_key[key].add(delivery.partition)
    assert all(len(partitions) == 1 for partitions in by_key.values()), by_key
    subscriber = subscribed(under_test.bus, unique("group"), topic)
    try:
        received = poll_count(subscriber, len(items))
    finally:
        subscriber.close()
    for key in (b"alpha", b"beta"):
        sent = [v for k, v in items if k == key]
        assert [m.value for m in received if m.key == key] == sent


def test_publishing_nothing_returns_nothing(publisher: Publisher, topic: str) -> None:
    assert publisher.publish(topic, []) == []


# -- end offsets ---------------------------------------------------------------------------------
def test_end_offsets_of_a_missing_topic_are_empty_and_do_not_create_it(
    publisher: Publisher,
) -> None:
    missing = unique("missing")

    assert publisher.end_offsets(missing) == {}
    assert publisher.end_offsets(missing) == {}, "asking for end offsets created the topic"


def test_end_offsets_are_the_high_watermarks(publisher: Publisher, topic: str) -> None:
    assert publisher.end_offsets(topic) == dict.fromkeys(range(PARTITIONS), 0)

    # One publish of many messages: several records share a batch on Kafka.
    deliveries = publisher.publish(topic, keyed("a", 40))
    deliveries += publisher.publish(topic, keyed("b", 5))

    expected = dict.fromkeys(range(PARTITIONS), 0)
    for partition, offsets in per_partition(deliveries).items():
        expected[partition] = max(offsets) + 1
    assert publisher.end_offsets(topic) == expected
    assert sum(expected.values()) == 45


# -- consumer groups -----------------------------------------------------------------------------
def test_a_group_resumes_from_its_committed_offsets(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    group = unique("group")
    deliveries = publisher.publish(topic, keyed("m", 12))
    first = subscribed(under_test.bus, group, topic)
    received = poll_count(first, 12)
    # Apply (and commit) only the first message of every partition.
    applied = dict.fromkeys(next_offsets(received), 1)
    first.commit(applied)
    first.close()

    second = subscribed(under_test.bus, group, topic)
    try:
        rest = poll_count(second, 12 - len(applied))
    finally:
        second.close()
    assert all(m.offset >= 1 for m in rest)
    expected = {d for d in deliveries if d.offset >= 1}
    assert {Delivery(m.topic, m.partition, m.offset) for m in rest} == expected


def test_polled_but_uncommitted_messages_go_to_the_next_member(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    group = unique("group")
    publisher.publish(topic, keyed("m", 9))
    first = subscribed(under_test.bus, group, topic)
    before = poll_count(first, 9)
    first.close()  # nothing committed: as if it crashed before applying anything

    second = subscribed(under_test.bus, group, topic)
    try:
        again = poll_count(second, 9)
    finally:
        second.close()
    assert sorted(values(again)) == sorted(values(before))


def test_two_groups_read_independently(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    publisher.publish(topic, keyed("m", 10))
    one = subscribed(under_test.bus, unique("group"), topic)
    two = subscribed(under_test.bus, unique("group"), topic)
    try:
        # Both join at once, each polled from its own thread (kafka-python 3.0.12 drops a join
        # that completes while its consumer is not inside poll(), so polling two consumers in
        # turn from one thread makes each rejoin again and again).
        got_one, got_two = poll_each([one, two], 10, commit=[True, False])
    finally:
        one.close()
        two.close()
    assert sorted(values(got_one)) == sorted(values(got_two))


def test_a_committed_offset_past_the_end_starts_again_from_the_earliest(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    """What a member sees when the broker lost data since its group committed."""
    group = unique("group")
    publisher.publish(topic, keyed("m", 6))
    first = subscribed(under_test.bus, group, topic)
    received = poll_count(first, 6)
    first.commit({TopicPartition(topic, p): 1000 for p in range(PARTITIONS)})
    first.close()

    second = subscribed(under_test.bus, group, topic)
    try:
        again = poll_count(second, 6)
    finally:
        second.close()
    assert sorted(values(again)) == sorted(values(received))


def test_two_members_split_the_partitions_and_see_every_message_once(
    under_test: BusUnderTest, publisher: Publisher, topic: str
) -> None:
    group = unique("group")
    members = [subscribed(under_test.bus, group, topic) for _ in range(2)]
    seen: list[list[Message]] = [[], []]
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run(index: int) -> None:
        member = members[index]
        try:
            while not stop.is_set():
                batch = member.poll(0.1)
                if not batch:
                    continue
                with lock:
                    seen[index].extend(batch)
                # A rebalance in between fails the commit: the next owner gets these again.
                with contextlib.suppress(BusError):
                    member.commit(next_offsets(batch))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        # Warm up until both members own partitions (the group is stable): keep publishing,
        # because one member may read everything before the other has joined.
        deadline = time.monotonic() + WAIT_S
        while not (seen[0] and seen[1]):
            assert time.monotonic() < deadline, f"one member never got a partition: {seen}"
            assert not errors, errors
            publisher.publish(topic, keyed("warm", 12))
            stop.wait(0.3)
        with lock:
            warm = [len(s) for s in seen]

        final = publisher.publish(topic, keyed("final", 60, keys=30))

        deadline = time.monotonic() + WAIT_S
        while True:
            with lock:
                finals = [[m for m in s[n:] if m.value.startswith(b"final-")]
                          for s, n in zip(seen, warm, strict=True)]  # fmt: skip
            if sum(len(f) for f in finals) >= len(final):
                break
            assert time.monotonic() < deadline, f"missing final messages: {finals}"
            assert not errors, errors
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        for member in members:
            member.close()
    assert not errors, errors
    counts = Counter(m.value for f in finals for m in f)
    assert all(n == 1 for n in counts.values()), [v for v, n in counts.items() if n > 1]
    assert len(counts) == 60
    assert finals[0]
    assert finals[1]
    partitions = [{m.partition for m in f} for f in finals]
    assert not partitions[0] & partitions[1], "a partition was read by both members"


# -- a broker restarted empty ----------------------------------------------------------------------
def test_after_a_broker_restarted_empty_publishing_works_and_members_start_from_the_earliest(
    restartable: BusUnderTest,
) -> None:
    topic, group = unique("topic"), unique("group")
    restartable.bus.ensure_topics([topic], PARTITIONS)
    publisher = restartable.bus.publisher()
    publisher.publish(topic, keyed("before", 15))
    subscriber = subscribed(restartable.bus, group, topic)
    subscriber.commit(next_offsets(poll_count(subscriber, 15)))

    restartable.restart_empty()

    if not restartable.clients_survive_restart:
        publisher = restartable.bus.publisher()
    # Empty: the topic is gone, or (Tansu creates a topic a metadata request names, which
    # kafka-python's may do) there again with nothing in it.
    left = publisher.end_offsets(topic)
    assert all(end == 0 for end in left.values()), f"the restarted broker holds {left}"
    if not restartable.clients_survive_restart:
        subscriber = subscribed(restartable.bus, group, topic)
    try:
        restartable.bus.ensure_topics([topic], PARTITIONS)
        deliveries = publisher.publish(topic, keyed("after", 3, keys=3))
        for offsets in per_partition(deliveries).values():
            assert offsets == list(range(len(offsets))), "offsets start again from 0"
        # The group's committed offsets (5 per partition) are gone or past the end: the member
        # starts again from the earliest and sees exactly the new messages.
        after = poll_count(subscriber, 3)
        assert sorted(values(after)) == [b"after-0", b"after-1", b"after-2"]
    finally:
        subscriber.close()
        publisher.close()


def test_a_member_that_polls_only_after_the_broker_refilled_still_reads_everything(
    restartable: BusUnderTest,
) -> None:
    """The broker restarts empty, the topic comes back with another partition count (as a
    broker that auto-creates topics makes it) and fills past where the member had read, all
    before the member polls again: its old positions mean nothing in the new log."""
    read_everything_after_a_refill(restartable, poll_s=0.2)


def test_a_member_polling_in_short_slices_through_a_partition_count_change_reads_everything(
    restartable: BusUnderTest,
) -> None:
    """The same, polled a few milliseconds at a time: a poll may time out at any moment of the
    rebalance that the new partition count starts, and slices this short meet them all (one
    of them, between the leader's assignment and the coordinator's answer, once lost the
    assignment for good on Kafka)."""
    read_everything_after_a_refill(restartable, poll_s=0.005)


def read_everything_after_a_refill(restartable: BusUnderTest, *, poll_s: float) -> None:
    topic, group = unique("topic"), unique("group")
    restartable.bus.ensure_topics([topic], PARTITIONS)
    publisher = restartable.bus.publisher()
    publisher.publish(topic, keyed("before", 15))
    subscriber = subscribed(restartable.bus, group, topic)
    read = next_offsets(poll_count(subscriber, 15))
    subscriber.commit(read)

    restartable.restart_empty()
    if not restartable.clients_survive_restart:
        publisher = restartable.bus.publisher()
        subscriber = subscribed(restartable.bus, group, topic)
    try:
        restartable.bus.ensure_topics([topic], PARTITIONS + 1)
        publisher.reset()
        publisher.publish(topic, keyed("after", 80, keys=40))
        ends = publisher.end_offsets(topic)
        assert all(ends[tp.partition] >= offset for tp, offset in read.items()), (ends, read)

        # Every message arrives (some maybe twice: a Kafka member can read from its old
        # positions until it learns the group is gone; consumers skip what they applied).
        expected = {f"after-{i}".encode() for i in range(80)}
        after = poll_until(
            subscriber,
            lambda seen: set(values(seen)) >= expected,
            timeout_s=60,
            what="all 80",
            poll_s=poll_s,
        )
        assert set(values(after)) == expected
    finally:
        subscriber.close()
        publisher.close()


def test_a_reset_publisher_publishes_on(publisher: Publisher, topic: str) -> None:
    first = publisher.publish(topic, keyed("a", 6))
    publisher.reset()
    second = publisher.publish(topic, keyed("a", 6))
    assert sum(publisher.end_offsets(topic).values()) == 12
    assert {d.partition for d in first} == {d.partition for d in second}
