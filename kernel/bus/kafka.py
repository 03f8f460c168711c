"""The bus on Apache Kafka (or any Kafka-protocol broker), through kafka-python 3.x.

The semantics are the port's (`kernel.bus.port`); the choices that give them:

- Producer: `acks="all"` and idempotence on (no duplicates from the client's own retries),
  at most 5 requests in flight per connection (idempotence keeps order per partition with up
  to 5), retries bounded by `publish_timeout_s`. Topics are not meant to be auto-created:
  `ensure_topics` creates them, and on a broker with auto-creation off publishing to a topic
  that does not exist fails with `BusError` (kafka-python 3.0.12 ignores its
  `allow_auto_create_topics=False` and asks for auto-creation in every metadata request, so the
  broker's `auto.create.topics.enable=false` is what keeps it off). After any
  failure the producer is dropped and the next `publish` starts a fresh one (a new producer id),
  which is how the publisher survives a broker that restarted empty.
- Consumer: a member of a consumer group, auto-commit off (the caller commits what it applied),
  `auto_offset_reset="earliest"`: no committed offset, or one past the end of the partition (the
  broker lost data), means start from the earliest message. A short session timeout and
  heartbeat make a group join take seconds rather than tens of seconds. After every
  (re)assignment the positions are set from the group's committed offsets (the earliest where
  there are none), and what that poll returned is dropped: kafka-python 3 keeps its in-memory
  position for a partition it owned before and after a rebalance, and after a broker restarted
  empty (or a topic re-created with another partition count) that position points into a
  different log, so reading on from it would skip messages. A rebalance stays requested from
  the moment it begins until its join completes: kafka-python 3.0.12 otherwise loses the
  leader's assignment when a poll times out mid-join after a partition-count change, and the
  member reads nothing again (see `_Rebalances`).
- `end_offsets` reads fresh metadata (a missing topic is `{}` and is not created), then takes the
  high watermark from a fetch response. On Apache Kafka that equals ListOffsets(latest); some
  Kafka-protocol brokers (Tansu 0.6) answer ListOffsets with the base offset of the last record
  batch plus one, which is too low when a batch holds several records, while their fetch
  responses carry the right value.

kafka-python is untyped; nothing of it leaks out of this module.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka import __version__ as kafka_version
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from kernel.bus.port import BusError, Delivery, Message, TopicPartition

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

T = TypeVar("T")

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


class KafkaBus:
    """A factory for Kafka publishers and subscribers bound to one cluster.

    Creating it does not contact the broker; clients connect on first use and reconnect by
    themselves, so a `KafkaBus` outlives broker restarts.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "muni",
        session_timeout_ms: int = 6000,
        heartbeat_interval_ms: int = 1000,
        request_timeout_ms: int = 10_000,
        publish_timeout_s: float = 30.0,
        metadata_max_age_ms: int = 5000,
        replication_factor: int = -1,
        fetch_max_wait_ms: int = 50,
    ) -> None:
        """`replication_factor=-1` means the broker's default (`default.replication.factor`)."""
        if not bootstrap:
            raise BusError("Kafka bootstrap servers are empty (set MUNI_KAFKA_BOOTSTRAP)")
        self.bootstrap = bootstrap
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._common: dict[str, Any] = {
            "bootstrap_servers": bootstrap.split(","),
            "client_id": client_id,
            "metadata_max_age_ms": metadata_max_age_ms,
            "reconnect_backoff_max_ms": 1000,
            # Clients bootstrap in their constructors: fail within this bound, not 30 s.
            "bootstrap_timeout_ms": request_timeout_ms,
        }
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._request_timeout_ms = request_timeout_ms
        self._publish_timeout_s = publish_timeout_s
        self._replication_factor = replication_factor
        self._admin = _Lazy(self._new_admin)
        self._clients: list[KafkaPublisher | KafkaSubscriber] = []
        self._lock = threading.Lock()

    def publisher(self) -> KafkaPublisher:
        publisher = KafkaPublisher(self)
        with self._lock:
            self._clients.append(publisher)
        return publisher

    def subscriber(self, group: str) -> KafkaSubscriber:
        subscriber = KafkaSubscriber(self, group)
        with self._lock:
            self._clients.append(subscriber)
        return subscriber

    def ensure_topics(self, topics: Sequence[str], partitions: int) -> None:
        """Create the topics that do not exist yet and wait until they have leaders."""
        if not topics:
            return
        wanted = {
            topic: {"num_partitions": partitions, "replication_factor": self._replication_factor}
            for topic in topics
        }

        def create(admin: Any) -> None:
            result = admin.create_topics(
                wanted, timeout_ms=self._request_timeout_ms, raise_errors=False
            )
            for topic in result["topics"]:
                code = topic["error_code"]
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    message = topic.get("error_message") or f"error code {code}"
                    raise BusError(f"Kafka could not create topic {topic['name']!r}: {message}")
            admin.wait_for_topics(list(topics), timeout_ms=self._request_timeout_ms)

        what = f"create topics {list(topics)}"
        try:
            self._admin.call(create, what, reset_on_error=True)
        except BusError:
            # After a broker restart the old admin connection fails once (stale node); the call
            # reset it. Creating is idempotent (an existing topic is fine): try once more.
            self._admin.call(create, what, reset_on_error=True)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._admin.close()

    # -- used by the clients ---------------------------------------------------------------------
    def _new_admin(self) -> Any:
        return KafkaAdminClient(**self._common, request_timeout_ms=self._request_timeout_ms)

    def _new_producer(self) -> Any:
        request_timeout_ms = min(self._request_timeout_ms, int(self._publish_timeout_s * 1000))
        return KafkaProducer(
            **self._common,
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=5,
            delivery_timeout_ms=int(self._publish_timeout_s * 1000),
            request_timeout_ms=request_timeout_ms,
            max_block_ms=request_timeout_ms,
            linger_ms=0,
            allow_auto_create_topics=False,
        )

    def _new_consumer(self, group: str | None) -> Any:
        return KafkaConsumer(
            **self._common,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_interval_ms,
            allow_auto_create_topics=False,
            # How long the broker may hold an empty fetch. Apache Kafka answers as soon as data
            # arrives; brokers that do not (Tansu 0.6) make this the delivery latency, so keep
            # it short: an idle consumer then sends ~20 small fetches a second.
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )

    def _describe_partitions(self, topic: str) -> list[int]:
        """The topic's partitions from fresh metadata; [] if the topic does not exist."""

        def describe(admin: Any) -> list[int]:
            (info,) = admin.describe_topics([topic])
            if info["error_code"] != 0:
                return []
            return sorted(p["partition_index"] for p in info["partitions"])

        what = f"describe topic {topic!r}"
        try:
            return self._admin.call(describe, what, reset_on_error=True)
        except BusError:
            # A read: after a broker restart the old admin connection fails once (stale node);
            # the call reset it, so one more try on a fresh client settles it.
            return self._admin.call(describe, what, reset_on_error=True)

    def _forget(self, client: KafkaPublisher | KafkaSubscriber) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)


class KafkaPublisher:
    """Publishes in order and returns after the broker acknowledged every message."""

    def __init__(self, bus: KafkaBus) -> None:
        self._bus = bus
        self._producer = _Lazy(bus._new_producer, close=_close_producer)
        self._delivered = False  # whether the current producer has delivered anything
        self._watermarks = _Lazy(lambda: bus._new_consumer(None), close=_close_consumer)
        self._watermarks_lock = threading.Lock()

    def publish(self, topic: str, items: Sequence[tuple[bytes, bytes]]) -> list[Delivery]:
        if not items:
            return []
        timeout_s = self._bus._publish_timeout_s

        def send_all(producer: Any) -> list[Delivery]:
            try:
                futures = [producer.send(topic, key=key, value=value) for key, value in items]
            except KafkaTimeoutError:
                raise BusError(
                    f"Kafka publish to {topic!r}: no metadata for the topic in time; it may not"
                    " exist (topics are not auto-created: call ensure_topics) or the broker at"
                    f" {self._bus.bootstrap} is unreachable"
                ) from None
            producer.flush(timeout=timeout_s)
            metadata = [future.get(timeout=timeout_s) for future in futures]
            return [Delivery(m.topic, m.partition, m.offset) for m in metadata]

        # On any failure the producer is replaced: a fresh one gets a new producer id and no
        # half-sent batch lingers in its buffer. A producer that has delivered before may only
        # be stale (the broker restarted and forgot its producer id, and refused to bump its
        # epoch: Tansu 0.6 does), so its failure is retried once with a fresh producer. Some
        # messages may then be stored twice, which the port allows.
        what = f"publish to {topic!r}"
        try:
            deliveries = self._producer.call(send_all, what, reset_on_error=True)
        except BusError as exc:
            if not self._delivered:
                raise
            self._delivered = False
            log.warning("Kafka %s failed (%s); retrying once with a new producer", what, exc)
            deliveries = self._producer.call(send_all, what, reset_on_error=True)
        self._delivered = True
        return deliveries

    def end_offsets(self, topic: str) -> dict[int, int]:
        partitions = self._bus._describe_partitions(topic)
        if not partitions:
            return {}
        tps = [KafkaTopicPartition(topic, p) for p in partitions]
        deadline = time.monotonic() + self._bus._request_timeout_ms / 1000

        def read(consumer: Any) -> dict[int, int]:
            consumer.unsubscribe()  # a fresh assignment has no stale high watermarks
            consumer.assign(tps)
            listed = consumer.end_offsets(tps, timeout_ms=self._bus._request_timeout_ms)
            for tp in tps:
                consumer.seek(tp, listed[tp])
            while True:
                consumer.poll(timeout_ms=50, max_records=1)
                highs = {tp: consumer.highwater(tp) for tp in tps}
                if all(h is not None for h in highs.values()):
                    ends = {tp.partition: max(listed[tp], highs[tp]) for tp in tps}
                    log.debug(
                        "Kafka end offsets of %r: listed %s, high watermarks %s",
                        topic,
                        {tp.partition: listed[tp] for tp in tps},
                        {tp.partition: highs[tp] for tp in tps},
                    )
                    return ends
                if time.monotonic() > deadline:
                    raise BusError(f"Kafka end offsets of {topic!r}: no fetch response in time")

        with self._watermarks_lock:
            return self._watermarks.call(read, f"end offsets of {topic!r}", reset_on_error=True)

    def reset(self) -> None:
        # The next publish makes a fresh producer, which gets a new producer id.
        self._producer.close()
        self._delivered = False

    def close(self) -> None:
        self._producer.close()
        with self._watermarks_lock:
            self._watermarks.close()
        self._bus._forget(self)


class KafkaSubscriber:
    """One member of a consumer group. Not thread-safe: use it from one thread."""

    def __init__(self, bus: KafkaBus, group: str) -> None:
        self._bus = bus
        self.group = group
        self._consumer = _Lazy(self._new_consumer, close=_close_consumer)
        self._topics: list[str] = []
        self._rebalances = _Rebalances()

    def _new_consumer(self) -> Any:
        consumer = self._bus._new_consumer(self.group)
        self._rebalances.attach(consumer)
        if self._topics:  # a consumer made again (or late, after a failed subscribe) rejoins
            consumer.subscribe(topics=self._topics, listener=self._rebalances)
        return consumer

    def subscribe(self, topics: Sequence[str]) -> None:
        self._topics = list(topics)
        self._consumer.call(
            lambda c: c.subscribe(topics=self._topics, listener=self._rebalances),
            f"subscribe to {topics}",
        )

    def poll(self, timeout_s: float, max_records: int = 500) -> list[Message]:
        if not self._topics:
            raise BusError("poll before subscribe")

        def poll(consumer: Any) -> list[Message]:
            batches = consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
            # Checked after the poll: records fetched under a new assignment can only be in
            # this batch if the listener has already raised the flag.
            if self._rebalances.assigned.is_set():
                # Cleared first: an assignment that lands while the positions are being set
                # raises it again, and the next poll sets them again.
                self._rebalances.assigned.clear()
                _position_from_committed(consumer, self.group, self._bus._request_timeout_ms)
                return []  # maybe read from stale positions: read again from the new ones
            if not batches:
                _rewind_past_the_end(consumer, self.group)
            return [
                Message(r.topic, r.partition, r.offset, r.key, r.value)
                for records in batches.values()
                for r in records
            ]

        return self._consumer.call(poll, f"poll group {self.group!r}")

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not offsets:
            return
        kafka_offsets = {
            KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
            for tp, offset in offsets.items()
        }
        self._consumer.call(
            lambda c: c.commit(offsets=kafka_offsets), f"commit offsets of group {self.group!r}"
        )

    def close(self) -> None:
        self._consumer.close()
        self._topics = []
        self._bus._forget(self)


class _Lazy:
    """A kafka-python client made on first use, with its errors turned into BusError."""

    def __init__(
        self, factory: Callable[[], Any], *, close: Callable[[Any], None] | None = None
    ) -> None:
        self._factory = factory
        self._close = close or (lambda client: client.close())
        self._client: Any = None
        self._lock = threading.Lock()

    def call(self, fn: Callable[[Any], T], what: str, *, reset_on_error: bool = False) -> T:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._factory()
                except KafkaError as exc:
                    raise BusError(f"Kafka {what}: cannot connect: {_describe(exc)}") from exc
            client = self._client
        try:
            return fn(client)
        except BusError:
            if reset_on_error:
                self.close()
            raise
        except KafkaError as exc:
            if reset_on_error:
                self.close()
            raise BusError(f"Kafka {what} failed: {_describe(exc)}") from exc

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            # Closing a client of an unreachable broker may fail; there is nothing to save.
            with contextlib.suppress(KafkaError):
                self._close(client)


class _Rebalances(ConsumerRebalanceListener):  # type: ignore[misc]
    """Raises a flag when the group assigns partitions, and keeps a rebalance that has begun
    wanted until it completes.

    kafka-python calls it on its I/O thread, where a blocking call to the broker would
    deadlock, so it only records facts; the polling thread acts on them.
    """

    def __init__(self) -> None:
        self.assigned = threading.Event()
        self._coordinator: Any = None

    def attach(self, consumer: Any) -> None:
        """Bind to the group coordinator of `consumer` (a fresh consumer gets it again)."""
        # A private attribute: kafka-python has no public way to request a rejoin. The pinned
        # release has it; a release without it is reported rather than failing the bus.
        coordinator = getattr(consumer, "_coordinator", None)
        if not callable(getattr(coordinator, "request_rejoin", None)):
            log.warning(
                "kafka-python %s has no ConsumerCoordinator.request_rejoin: a rebalance that a"
                " partition-count change starts may stall (see kernel/bus/kafka.py)",
                kafka_version,
            )
            coordinator = None
        self._coordinator = coordinator

    def on_partitions_revoked(self, revoked: Any) -> None:
        # The revocation opens every rebalance (the consumer uses the eager range and
        # round-robin assignors), before the JoinGroup is sent. kafka-python 3.0.12 keeps
        # joining only while `need_rejoin()` holds, and a rebalance that the group's leader
        # starts because a subscribed topic's partition count changed (a topic re-created or
        # grown) holds only while its assignment snapshot differs from the metadata: the
        # leader's own assignment, computed mid-join, makes them equal. If a poll's timer runs
        # out between that assignment and the SyncGroup answer, no later poll looks at the
        # join again, its assignment is never applied, the partitions stay revoked and the
        # heartbeats off: the member reads nothing, for ever. Requesting the rejoin here keeps
        # it wanted until the join completes (the coordinator clears the flag only then), as
        # the Java client does since KAFKA-9815. A join that completes between two polls is
        # then sent again: one more round of the rebalance, not a lost member.
        if self._coordinator is not None:
            self._coordinator.request_rejoin()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.assigned.set()


def _position_from_committed(consumer: Any, group: str, timeout_ms: int) -> None:
    """Set every assigned partition's position to the group's committed offset, or to the
    earliest offset where the group has none (a new group, or a broker that lost its data)."""
    assignment = sorted(consumer.assignment())
    committed: dict[str, int | None] = {}
    for tp in assignment:
        offset = consumer.committed(tp, timeout_ms=timeout_ms)
        committed[f"{tp.topic}-{tp.partition}"] = offset
        if offset is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, offset)
    log.info(
        "Kafka group %r: assigned %d partitions; positions set from committed offsets %s"
        " (None: from the earliest)",
        group,
        len(assignment),
        committed,
    )


def _rewind_past_the_end(consumer: Any, group: str) -> None:
    """Read every partition again from the earliest offset when any position is past the end.

    A position past the end means the broker lost data since the group committed it (or the
    offset was committed by mistake). Apache Kafka answers such a fetch with
    OFFSET_OUT_OF_RANGE and the consumer resets by `auto_offset_reset`; some Kafka-protocol
    brokers (Tansu 0.6) answer with no records and no error, so the consumer would wait there
    forever. The position can never legitimately pass the high watermark of the last fetch.
    """
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue  # not fetched yet: the position may not be known
        position = consumer.position(tp)
        if position is not None and position > high:
            log.warning(
                "Kafka group %r: position %d of %s-%d is past the end (%d); the broker lost"
                " data: starting again from the earliest offset",
                group,
                position,
                tp.topic,
                tp.partition,
                high,
            )
            # A broker that lost one partition's data lost the others' too, and may have
            # re-created the topic with other partitions: read every partition again.
            consumer.seek_to_beginning(*consumer.assignment())
            return


def _close_producer(producer: Any) -> None:
    producer.close(timeout=1)


def _close_consumer(consumer: Any) -> None:
    consumer.close(autocommit=False, timeout_ms=2000)


def _describe(exc: BaseException) -> str:
    name, text = type(exc).__name__, str(exc)
    if not text:
        return name
    return text if text.startswith(name) else f"{name}: {text}"
