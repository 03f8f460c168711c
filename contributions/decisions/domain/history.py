"""`PolicyHistory`: the city's policy version counter."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class PolicyHistory(Aggregate):
    """The city's policy versions, as a counter: version 1 is the config file; each passed
    decision publishes the next. Invariant: versions take effect in order (a version's
    `effective_from` is never before the one before it)."""

    class Started(Aggregate.Created):
        city: str

    class Published(Aggregate.Event):
        version: int
        decision_id: str
        changes: list[dict[str, Any]]
        effective_from: datetime
        decided_at: datetime

    @staticmethod
    def create_id(city: str) -> UUID:
        return stable_uuid("policy-history", city)

    @event(Started)
    def __init__(self, city: str) -> None:
        self.city = city
        self.version = 1
        self.latest_from: datetime | None = None

    def publish(
        self,
        *,
        decision_id: str,
        changes: list[dict[str, Any]],
        effective_from: datetime,
        now: datetime,
    ) -> tuple[int, datetime]:
        """Record the next version; returns it and the date it takes effect from (never
        before the previous version's)."""
        if self.latest_from is not None and effective_from < self.latest_from:
            effective_from = self.latest_from
        self._published(
            version=self.version + 1,
            decision_id=decision_id,
            changes=changes,
            effective_from=effective_from,
            decided_at=now,
        )
        return self.version, effective_from

    @event(Published)
    def _published(
        self,
        version: int,
        decision_id: str,
        changes: list[dict[str, Any]],
        effective_from: datetime,
        decided_at: datetime,
    ) -> None:
        self.version = version
        self.latest_from = effective_from
