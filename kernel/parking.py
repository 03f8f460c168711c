"""Parked messages: what a consumer could not apply, kept for a human instead of a crash loop.

A consumer parks a message whose envelope is malformed, whose type it does not know, whose
major version is newer than it reads, or whose payload its model rejects. The parking is an
event in the consumer's own store, recorded atomically with the consumer's position, so the
consumer goes on and the message can be found (`muni parked`) and replayed after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.domain import Aggregate, event


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


class ParkedMessage(Aggregate):
    """One parked message. Invariant: recorded once per (topic, partition, offset) delivery."""

    @event("Parked")
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
    def from_parked(cls, parked: Parked) -> ParkedMessage:
        return cls(
            reason=parked.reason,
            topic=parked.topic,
            partition=parked.partition,
            offset=parked.offset,
            raw=parked.raw,
            source_log=parked.source_log,
            event_type=parked.event_type,
        )
