"""How far a consumer group has come on a topic: its committed offsets and the topic's ends.

For lag readings (`/ready`, `/metrics`, `muni status`), not for consuming: consumers never
rely on offsets (kernel/bus/consumer.py). The port has no such call, because only operations
need it, so this module reads each broker its own way: the embedded broker's group table, or
Kafka's OffsetFetch through an admin client kept for the purpose.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.port import BusError

if TYPE_CHECKING:
    from kernel.bus.port import Bus, Publisher


@dataclass(frozen=True)
class GroupPosition:
    """Per partition: the group's next offset to read, and the topic's end."""

    committed: dict[int, int]
    end: dict[int, int]

    @property
    def position(self) -> int:
        return sum(self.committed.get(p, 0) for p in self.end)

    @property
    def head(self) -> int:
        return sum(self.end.values())

    @property
    def lag(self) -> int:
        """Messages published and not yet committed by the group. A partition whose commit is
        past its end (the broker lost data since) counts as 0: the group starts it again."""
        return sum(max(0, end - self.committed.get(p, 0)) for p, end in self.end.items())


class OffsetReader:
    """Reads group positions from one bus. Thread-safe; `close` it when done."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._publisher: Publisher | None = None
        self._admin: Any = None
        self._lock = threading.Lock()

    def position(self, group: str, topic: str) -> GroupPosition:
        """Raises BusError when the broker cannot be read."""
        with self._lock:
            if self._publisher is None:
                self._publisher = self._bus.publisher()
            end = self._publisher.end_offsets(topic)
            return GroupPosition(self._committed(group, topic), end)

    def _committed(self, group: str, topic: str) -> dict[int, int]:
        if isinstance(self._bus, EmbeddedBroker):
            broker = self._bus
            with broker._cond:  # the broker's one lock (kernel.bus.embedded)
                found = broker._groups.get(group)
                committed = dict(found.committed) if found else {}
            return {tp.partition: o for tp, o in committed.items() if tp.topic == topic}
        return self._kafka_committed(group, topic)

    def _kafka_committed(self, group: str, topic: str) -> dict[int, int]:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        bootstrap: str = self._bus.bootstrap  # type: ignore[attr-defined]
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    bootstrap_servers=bootstrap.split(","),
                    client_id="muni-offsets",
                    request_timeout_ms=5000,
                )
            listed = self._admin.list_group_offsets(group).get(group, {})
        except KafkaError as exc:
            self._close_admin()
            raise BusError(f"Kafka offsets of group {group!r}: {exc}") from exc
        return {
            tp.partition: meta.offset
            for tp, meta in listed.items()
            if tp.topic == topic and meta.offset >= 0
        }

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

    def close(self) -> None:
        with self._lock:
            self._close_admin()
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None
