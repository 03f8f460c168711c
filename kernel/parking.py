"""Parked messages: what a consumer could not apply, kept for a human instead of a crash loop.

A consumer parks a message whose envelope is malformed, whose type it does not know, whose
major version is newer than it reads, or whose payload its model rejects. The parking is an
event in the consumer's own store, recorded atomically with the consumer's position, so the
consumer goes on and the message can be found (`muni parked`) and replayed after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.readside import Column, Op, ReadModel, Table, Upsert

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


@dataclass(frozen=True)
class Parked:
    """A message the consumer will not apply, and why. Passed to the application's policy."""

    reason: str
    topic: str
    partition: int
    offset: int
    raw: str
    source_log: str | None = None
    event_type: str | None = None


# The aggregate's event class below is also called Parked; its factory takes this one.
ParkedDelivery = Parked


class ParkedMessage(Aggregate):
    """One parked message. Invariant: recorded once per (topic, partition, offset) delivery."""

    class Parked(Aggregate.Created):
        """Declared (not left to @event) so type checkers and read models can name it."""

        reason: str
        topic: str
        partition: int
        offset: int
        raw: str
        source_log: str | None
        event_type: str | None

    @event(Parked)
    def __init__(
        self,
        reason: str,
        topic: str,
        partition: int,
        offset: int,
        raw: str,
        source_log: str | None,
        event_type: str | None,
    ) -> None:
        self.reason = reason
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.raw = raw
        self.source_log = source_log
        self.event_type = event_type

    @classmethod
    def from_parked(cls, parked: ParkedDelivery) -> ParkedMessage:
        return cls(
            reason=parked.reason,
            topic=parked.topic,
            partition=parked.partition,
            offset=parked.offset,
            raw=parked.raw,
            source_log=parked.source_log,
            event_type=parked.event_type,
        )


@dataclass(frozen=True)
class ParkedRow:
    """One row of the parked-messages read model."""

    id: str
    parked_at: datetime
    reason: str
    topic: str
    partition: int
    offset: int
    raw: str
    source_log: str | None
    event_type: str | None


class ParkedMessages(ReadModel):
    """Every parked message of a service, in the order they were parked (the board's list)."""

    name = "parked_messages"
    tables = (
        Table(
            "parked",
            (
                Column("id"),
                Column("parked_at", "timestamp"),
                Column("reason"),
                Column("topic"),
                Column("partition", "int"),
                Column("offset", "int"),
                Column("raw"),
                Column("source_log"),
                Column("event_type"),
            ),
            key=("id",),
            indexes=(("parked_at", "id"),),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: ParkedMessage.Parked) -> list[Op]:
        return [
            Upsert(
                "parked",
                {
                    "id": str(event.originator_id),
                    "parked_at": event.timestamp,
                    "reason": event.reason,
                    "topic": event.topic,
                    "partition": event.partition,
                    "offset": event.offset,
                    # PostgreSQL text cannot hold NUL, and garbage may: shown as the consumer
                    # shows undecodable bytes (the event itself keeps the raw text as it was).
                    "raw": event.raw.replace("\x00", "\ufffd"),
                    "source_log": event.source_log,
                    "event_type": event.event_type,
                },
            )
        ]

    def page(
        self, *, first: int | None = None, after: Sequence[Any] | None = None
    ) -> list[ParkedRow]:
        rows = self.view.select("parked", order_by=ORDER, after=after, limit=first)
        return [ParkedRow(**row) for row in rows]


ORDER = ("parked_at", "id")
