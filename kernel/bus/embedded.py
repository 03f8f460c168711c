"""An in-process broker with Kafka's semantics: partitions, offsets, groups, redelivery.

It keeps everything in memory, like Tansu with memory storage: a new `EmbeddedBroker` is an empty
broker. `muni up` uses one per process; the relays republish from the event stores at start,
and consumers skip what they already applied (the same path as a Kafka broker restarted empty).

Groups assign partitions round-robin among their current members, and reassign when a member
joins or leaves (a simple, eager rebalance).
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kernel.bus.port import BusError, Delivery, Message, TopicPartition

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def partition_for(key: bytes, partitions: int) -> int:
    return zlib.crc32(key) % partitions


@dataclass
class _Group:
    members: list[EmbeddedSubscriber] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    generation: int = 0


class EmbeddedBroker:
    """The broker. Thread-safe; every operation holds one lock (it is for one process)."""

    def __init__(self, *, default_partitions: int = 3) -> None:
        self._default_partitions = default_partitions
        self._logs: dict[str, list[list[tuple[bytes, bytes]]]] = {}
        self._groups: dict[str, _Group] = {}
        self._cond = threading.Condition()
        self._closed = False

    # -- Bus ------------------------------------------------------------------------------------
    def publisher(self) -> EmbeddedPublisher:
        return EmbeddedPublisher(self)

    def subscriber(self, group: str) -> EmbeddedSubscriber:
        return EmbeddedSubscriber(self, group)

    def ensure_topics(self, topics: Sequence[str], partitions: int) -> None:
        with self._cond:
            for topic in topics:
                self._logs.setdefault(topic, [[] for _ in range(partitions)])

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- internals used by the clients -----------------------------------------------------------
    def _append(self, topic: str, items: Sequence[tuple[bytes, bytes]]) -> list[Delivery]:
        with self._cond:
            if self._closed:
                raise BusError("embedded broker is closed")
            log = self._logs.setdefault(topic, [[] for _ in range(self._default_partitions)])
            deliveries = []
            for key, value in items:
                p = partition_for(key, len(log))
                log[p].append((key, value))
                deliveries.append(Delivery(topic, p, len(log[p]) - 1))
            self._cond.notify_all()
            return deliveries

    def _end_offsets(self, topic: str) -> dict[int, int]:
        with self._cond:
            log = self._logs.get(topic)
            return {} if log is None else {p: len(entries) for p, entries in enumerate(log)}

    def _join(self, member: EmbeddedSubscriber) -> None:
        with self._cond:
            group = self._groups.setdefault(member.group, _Group())
            if member not in group.members:
                group.members.append(member)
                group.generation += 1

    def _leave(self, member: EmbeddedSubscriber) -> None:
        with self._cond:
            group = self._groups.get(member.group)
            if group and member in group.members:
                group.members.remove(member)
                group.generation += 1
                self._cond.notify_all()

    def _assignment(self, member: EmbeddedSubscriber) -> tuple[int, list[TopicPartition]]:
        """The member's partitions in the group's current generation (round-robin)."""
        group = self._groups[member.group]
        topics = sorted({t for m in group.members for t in m.topics})
        all_tps = [TopicPartition(t, p) for t in topics for p in range(len(self._logs.get(t, [])))]
        index = group.members.index(member)
        mine = [tp for i, tp in enumerate(all_tps) if i % len(group.members) == index]
        return group.generation, [tp for tp in mine if tp.topic in member.topics]

    def _start_offset(self, group: str, tp: TopicPartition) -> int:
        committed = self._groups[group].committed.get(tp, 0)
        end = len(self._logs[tp.topic][tp.partition])
        # Past the end means the broker lost data since the commit: start again from the earliest.
        return 0 if committed > end else committed

    def _fetch(
        self, member: EmbeddedSubscriber, timeout_s: float, max_records: int
    ) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                if self._closed:
                    raise BusError("embedded broker is closed")
                generation, tps = self._assignment(member)
                if generation != member.generation or set(tps) != set(member.positions):
                    member.generation = generation
                    member.positions = {tp: self._start_offset(member.group, tp) for tp in tps}
                out: list[Message] = []
                for tp, pos in list(member.positions.items()):
                    entries = self._logs[tp.topic][tp.partition]
                    if pos > len(entries):  # data lost under us: restart from the earliest
                        pos = 0
                    take = entries[pos : pos + (max_records - len(out))]
                    out.extend(
                        Message(tp.topic, tp.partition, pos + i, key, value)
                        for i, (key, value) in enumerate(take)
                    )
                    member.positions[tp] = pos + len(take)
                    if len(out) >= max_records:
                        break
                if out:
                    return out
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def _commit(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        with self._cond:
            self._groups.setdefault(group, _Group()).committed.update(offsets)


class EmbeddedPublisher:
    def __init__(self, broker: EmbeddedBroker) -> None:
        self._broker = broker

    def publish(self, topic: str, items: Sequence[tuple[bytes, bytes]]) -> list[Delivery]:
        return self._broker._append(topic, items)

    def end_offsets(self, topic: str) -> dict[int, int]:
        return self._broker._end_offsets(topic)

    def reset(self) -> None:
        pass  # no session with the in-process broker

    def close(self) -> None:
        pass


class EmbeddedSubscriber:
    def __init__(self, broker: EmbeddedBroker, group: str) -> None:
        self._broker = broker
        self.group = group
        self.topics: set[str] = set()
        self.generation = -1
        self.positions: dict[TopicPartition, int] = {}

    def subscribe(self, topics: Sequence[str]) -> None:
        self.topics = set(topics)
        self._broker.ensure_topics(topics, self._broker._default_partitions)
        self._broker._join(self)

    def poll(self, timeout_s: float, max_records: int = 500) -> list[Message]:
        if not self.topics:
            raise BusError("poll before subscribe")
        return self._broker._fetch(self, timeout_s, max_records)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._broker._commit(self.group, offsets)

    def close(self) -> None:
        self._broker._leave(self)
        self.topics = set()
