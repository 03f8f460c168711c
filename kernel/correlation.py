"""Correlation: which request a piece of work belongs to, from the GraphQL request to every
consumer that reacts to it.

The gateway sets `CORRELATION` for a request (the client's `X-Correlation-Id`, else a new id);
every event the request's commands store records it (`CorrelatingMapper`), the relay copies it
into the envelope, and a consumer sets it again, with the envelope's id as the causation, while
it applies the message, so the events its policy stores carry it on. Log records read the same
context variables (`kernel.logs`).

Context variables follow the work into threads: anyio's `run_in_threadpool` copies them, and so
does the gateway's executor (gateway/execution.py).
"""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

if TYPE_CHECKING:
    from collections.abc import Iterator

    from eventsourcing.domain import DomainEventProtocol

CORRELATION: ContextVar[uuid.UUID | None] = ContextVar("muni_correlation_id", default=None)
CAUSATION: ContextVar[uuid.UUID | None] = ContextVar("muni_causation_id", default=None)

# Keys of the stored event state. They never reach an aggregate: the library passes a decorated
# event method only the arguments it declares.
CORRELATION_KEY = "_correlation_id"
CAUSATION_KEY = "_causation_id"

MAPPER_TOPIC = "kernel.correlation:CorrelatingMapper"


def parse(value: str | None) -> uuid.UUID | None:
    """A client's correlation id if it is a UUID, else None (the caller makes a new one)."""
    if not value:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


@contextlib.contextmanager
def correlated(correlation: uuid.UUID | None, causation: uuid.UUID | None = None) -> Iterator[None]:
    """Run the body as part of `correlation` (caused by `causation`)."""
    tokens = (CORRELATION.set(correlation), CAUSATION.set(causation))
    try:
        yield
    finally:
        CAUSATION.reset(tokens[1])
        CORRELATION.reset(tokens[0])


def of(domain_event: object) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The (correlation, causation) ids a stored event was recorded with, if any."""
    state: dict[str, Any] = getattr(domain_event, "__dict__", {})
    return _uuid(state.get(CORRELATION_KEY)), _uuid(state.get(CAUSATION_KEY))


def _uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return parse(value)
    return None


class CorrelatingMapper(Mapper[uuid.UUID]):
    """The library's mapper, recording the current correlation and causation in each event.

    `to_stored_event` is the library's own (eventsourcing 9.5), with the two keys added to the
    state before it is encoded. Events stored outside correlated work (unit tests, the demo
    seed) are stored exactly as the library stores them.
    """

    def to_stored_event(self, domain_event: DomainEventProtocol[uuid.UUID]) -> StoredEvent:
        correlation = CORRELATION.get()
        if correlation is None:
            return super().to_stored_event(domain_event)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        event_state[CORRELATION_KEY] = str(correlation)
        causation = CAUSATION.get()
        if causation is not None:
            event_state[CAUSATION_KEY] = str(causation)
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored_state,
        )
