"""Readings: how far each piece of background work has come, for `/ready`, `/metrics` and
`muni status`.

A reading is `(name, position, head, lag)` in some unit: a relay's position in its store's
notification log against the log's end; a consumer group's committed offsets on a topic
against the topic's end. Anything else that follows a log (the projection runners, when they
land) adds readings by appending a `ReadingSource` to `Runtime.reading_sources`:

    runtime.reading_sources.append(lambda: [Reading("projection", runner.name,
                                                    runner.position, runner.head, "events")])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from eventsourcing.persistence import PersistenceError

from kernel.bus.port import BusError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from kernel.bus.consumer import Consumer
    from kernel.bus.offsets import OffsetReader
    from kernel.eventstore import FederationApplication

Kind = Literal["relay", "consumer", "projection"]


@dataclass(frozen=True)
class Reading:
    kind: Kind
    name: str
    position: int
    head: int
    unit: str
    counts: Mapping[str, int] = field(default_factory=dict)
    # Why the reading could not be taken (the store or the broker did not answer).
    error: str | None = None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "name": self.name,
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "unit": self.unit,
        }
        if self.counts:
            out["counts"] = dict(self.counts)
        if self.error:
            out["error"] = self.error
        return out


class ReadingSource(Protocol):
    def __call__(self) -> Iterable[Reading]: ...


def relay_reading(app: FederationApplication, topic: str, position: int | None = None) -> Reading:
    """A relay's position (given, or as recorded in its store) against the store's last
    notification."""
    name = f"relay {app.service} -> {topic}"
    try:
        head = app.recorder.max_notification_id() or 0
        if position is None:
            position = app.recorder.max_tracking_id(f"relay:{topic}") or 0
    except PersistenceError as exc:
        return Reading("relay", name, 0, 0, "notifications", error=_first_line(exc))
    return Reading("relay", name, position, head, "notifications")


def group_reading(
    offsets: OffsetReader,
    service: str,
    group: str,
    topic: str,
    consumer: Consumer | None = None,
) -> Reading:
    """A consumer group's committed offsets on `topic` against the topic's end; the counts of
    what this process's `consumer` did, when it runs here."""
    name = f"consumer {service} <- {topic}"
    counts = {}
    if consumer is not None:
        outcome = consumer.outcome
        counts = {
            "applied": outcome.applied,
            "skipped": outcome.skipped,
            "ignored": outcome.ignored,
            "parked": outcome.parked,
        }
    try:
        found = offsets.position(group, topic)
    except BusError as exc:
        return Reading("consumer", name, 0, 0, "messages", counts, error=_first_line(exc))
    return Reading("consumer", name, found.position, found.head, "messages", counts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
