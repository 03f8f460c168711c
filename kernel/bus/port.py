"""The bus port: what a publisher and a subscriber may rely on, whatever the broker.

Topics are split into numbered partitions. A message's partition is a pure function of its key
and the topic's partition count, so messages with the same key (an aggregate id) keep their
order. There is no order across keys or partitions, and consumers must not assume any.

Offsets: every partition is a log; the first message has offset 0; a message's offset never
changes while the broker keeps its data. A broker that loses its data (Tansu with memory
storage, a Kafka cluster rebuilt from scratch) starts again from 0: nothing may use an offset as
a durable identity. Muni's consumers deduplicate by the source store's position carried in the
envelope, never by offset (see `kernel.bus.consumer`).

Delivery is at least once:

- `Publisher.publish` returns only after the broker has acknowledged every message (Kafka:
  acks=all, idempotent producer). If it raises, some messages may still have been stored:
  the caller publishes them again, and duplicates are possible.
- A `Subscriber` belongs to a consumer group. Each partition of a subscribed topic is read by at
  most one member of the group at a time. A member starts a partition at the group's committed
  offset, or at the earliest offset if nothing is committed or the committed offset is past the
  end of the partition (the broker lost data). Messages polled but not committed are delivered
  again to whichever member next owns the partition (after a restart or a rebalance).
- `commit` stores, per partition, the offset of the next message to read. Commit only what the
  application has durably applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@dataclass(frozen=True, order=True)
class TopicPartition:
    topic: str
    partition: int


@dataclass(frozen=True)
class Message:
    """One record as a subscriber sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    @property
    def topic_partition(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


@dataclass(frozen=True)
class Delivery:
    """Where the broker stored a published message."""

    topic: str
    partition: int
    offset: int


class BusError(RuntimeError):
    """The broker could not be reached or refused an operation. Safe to retry."""


class Publisher(Protocol):
    def publish(self, topic: str, items: Sequence[tuple[bytes, bytes]]) -> list[Delivery]:
        """Publish (key, value) pairs in order; return after the broker acknowledged all of them.

        Raises BusError if any message could not be acknowledged; then any subset may be stored.
        """
        ...

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset the next published message would get (the high watermark).

        An empty dict means the topic does not exist. Used by the relay to notice a broker that
        lost its data.
        """
        ...

    def reset(self) -> None:
        """Start afresh with the broker. The relay calls it when the broker lost its data: a
        Kafka broker restarted empty has also forgotten the idempotent producer's id, and the
        old producer would retry against it until its delivery timeout."""
        ...

    def close(self) -> None: ...


class Subscriber(Protocol):
    def subscribe(self, topics: Sequence[str]) -> None:
        """Join the group for these topics. Partitions are assigned at the next poll."""
        ...

    def poll(self, timeout_s: float, max_records: int = 500) -> list[Message]:
        """Messages from assigned partitions, in offset order per partition; [] on timeout."""
        ...

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Store, per partition, the offset of the next message the group should read."""
        ...

    def close(self) -> None:
        """Leave the group. Uncommitted messages will be delivered again to the next owner."""
        ...


class Bus(Protocol):
    """A factory for publishers and subscribers bound to one broker."""

    def publisher(self) -> Publisher: ...

    def subscriber(self, group: str) -> Subscriber: ...

    def ensure_topics(self, topics: Sequence[str], partitions: int) -> None:
        """Create topics that do not exist yet, with `partitions` partitions. Idempotent."""
        ...

    def close(self) -> None: ...
