"""Index aggregates: a named, ordered set of ids (a city's drivers, a rider's rides, ...).

Saved in the same transaction as the aggregates they point to, they let an application answer
"which ones?" from its own store without a separate read model, on any persistence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class Index(Aggregate):
    """An ordered set of ids under (kind, key). Invariant: no id appears twice."""

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return stable_uuid("index", kind, key)

    @event("Started")
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        self.items: list[UUID] = []

    def add(self, item: UUID) -> None:
        if item not in self.items:
            self._added(item=item)

    def remove(self, item: UUID) -> None:
        if item in self.items:
            self._removed(item=item)

    @event("Added")
    def _added(self, item: UUID) -> None:
        self.items.append(item)

    @event("Removed")
    def _removed(self, item: UUID) -> None:
        self.items.remove(item)
