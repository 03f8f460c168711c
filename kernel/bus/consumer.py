"""The consumer: applies another service's integration events to an application exactly once.

Delivery is at least once; effects are exactly once. For each message the consumer

1. parses the envelope (a malformed one is parked),
2. builds the application's own tolerant model for its type and major version (an unknown type,
   a newer major version or a payload the model rejects is parked, never a crash loop),
3. calls `app.process_event(model, tracking)`, which records the policy's new events and the
   tracking record in one transaction, then
4. commits the broker offsets of what it applied.

Tracking is by source position, never by broker offset: `Tracking(f"{city}/{service}/{aggregate}",
position)`. Kafka keeps order per key (the aggregate id) and positions grow per aggregate, so the
highest position applied per aggregate says exactly what was applied. Offsets are not durable
identities: a broker restarted empty hands out offset 0 again. A redelivered message (crash
before commit, rebalance, republish after a broker loss) finds its tracking record and is skipped.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from pydantic import ValidationError

from kernel.bus.envelope import Envelope, MalformedEnvelope
from kernel.bus.port import BusError, Message, TopicPartition
from kernel.correlation import correlated
from kernel.parking import Parked
from kernel.readside import PositionMoved

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Mapping, Sequence

    from kernel.bus.port import Subscriber
    from kernel.events import TolerantModel
    from kernel.eventstore import FederationApplication
    from kernel.readside import ReadModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """The integration events a consumer reads: model per (type, major version).

    `ignores` lists types the consumer knows and deliberately does not apply; anything neither
    read nor ignored is parked as unknown.
    """

    models: Mapping[tuple[str, int], type[TolerantModel]]
    ignores: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, models: Iterable[type[TolerantModel]], ignores: Iterable[str] = ()) -> Inbound:
        return cls({m.reads: m for m in models}, frozenset(ignores))

    def known_versions(self, event_type: str) -> list[int]:
        return sorted(v for (t, v) in self.models if t == event_type)


@dataclass
class Outcome:
    applied: int = 0
    skipped: int = 0
    ignored: int = 0
    parked: int = 0


class Consumer:
    """Consumes topics into one application."""

    def __init__(
        self,
        app: FederationApplication,
        subscriber: Subscriber,
        *,
        topics: Sequence[str],
        inbound: Inbound,
    ) -> None:
        self.app = app
        self.subscriber = subscriber
        self.topics = list(topics)
        self.inbound = inbound
        self.outcome = Outcome()
        # Fault injection for crash tests: exit the process after applying N messages, before
        # committing their offsets (the worst moment to die).
        self._die_after = int(os.environ.get("MUNI_FAULT_EXIT_AFTER_APPLY", "0") or 0)
        subscriber.subscribe(self.topics)

    def run_once(self, timeout_s: float = 0.5) -> int:
        """Poll once, apply what came, commit. Returns the number of messages handled."""
        messages = self.subscriber.poll(timeout_s)
        if not messages:
            return 0
        offsets: dict[TopicPartition, int] = {}
        for message in messages:
            self.handle(message)
            offsets[message.topic_partition] = message.offset + 1
            if self._die_after and self.outcome.applied >= self._die_after:
                log.error(
                    "fault injection: exiting after %d applied, before commit", self._die_after
                )
                os._exit(137)
        self.subscriber.commit(offsets)
        return len(messages)

    def handle(self, message: Message) -> None:
        try:
            envelope = Envelope.from_bytes(message.value)
        except MalformedEnvelope as exc:
            self._park(message, f"malformed envelope: {exc}", None)
            return
        # The message's work belongs to the request that caused it: its log lines say so, and
        # the events the policy stores record it, caused by this envelope.
        with correlated(envelope.correlation_id or envelope.id, envelope.id):
            self._handle(message, envelope)

    def _handle(self, message: Message, envelope: Envelope) -> None:
        tracking = Tracking(f"{envelope.source_log}/{envelope.aggregate_id}", envelope.position)
        if self.app.already_applied(tracking) and not self._unprojected(tracking):
            self.outcome.skipped += 1
            return
        model_cls = self.inbound.models.get((envelope.type, envelope.version))
        if model_cls is None:
            if envelope.type in self.inbound.ignores:
                self._apply(None, tracking)
                self.outcome.ignored += 1
                return
            known = self.inbound.known_versions(envelope.type)
            reason = (
                f"{envelope.type} v{envelope.version} is newer than the versions read here {known}"
                if known
                else f"unknown event type {envelope.type} v{envelope.version}"
            )
            self._park(message, reason, envelope, tracking)
            return
        try:
            model = model_cls.model_validate(
                {
                    **envelope.payload,
                    "event_id": envelope.id,
                    "city": envelope.city,
                    "occurred_at": envelope.occurred_at,
                    "aggregate_id": envelope.aggregate_id,
                }
            )
        except ValidationError as exc:
            self._park(
                message, f"payload rejected by {model_cls.__name__}: {exc}", envelope, tracking
            )
            return
        if self._apply(model, tracking):
            self.outcome.applied += 1
            log.info(
                "consumer %s applied %s v%d from %s@%d",
                self.app.service,
                envelope.type,
                envelope.version,
                envelope.source_log,
                envelope.position,
            )
        self._project(model, tracking)

    def _unprojected(self, tracking: Tracking) -> list[ReadModel]:
        """The inbound read models that have not applied this message yet."""
        return [
            self.app.models[cls]
            for cls in self.app.inbound_read_models
            if not self.app.models[cls].view.has_tracking_id(
                tracking.application_name, tracking.notification_id
            )
        ]

    def _project(self, model: object, tracking: Tracking) -> None:
        """Apply the message to the inbound read models, each in its own transaction with its
        own position (so one that crashed before committing catches up on redelivery)."""
        for read_model in self._unprojected(tracking):
            try:
                read_model.view.apply(read_model.rows(model), tracking)
            except PositionMoved:
                continue  # another member of the group applied it meanwhile

    def _apply(self, model: object, tracking: Tracking, *, attempts: int = 20) -> bool:
        """Apply once. Returns False if it turned out to be applied already."""
        for _ in range(attempts):
            try:
                self.app.process_event(model, tracking)  # type: ignore[arg-type]
            except IntegrityError:
                # Either the tracking record exists (a duplicate, or another member of the group
                # applied it first during a rebalance) or an aggregate the policy changed was
                # changed concurrently (optimistic concurrency): then apply again from fresh state.
                if self.app.already_applied(tracking):
                    self.outcome.skipped += 1
                    return False
                continue
            return True
        raise OperationalError(f"gave up applying {tracking} after {attempts} conflicts")

    def _park(
        self,
        message: Message,
        reason: str,
        envelope: Envelope | None,
        tracking: Tracking | None = None,
    ) -> None:
        parked = Parked(
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            raw=message.value.decode("utf-8", errors="replace")[:100_000],
            source_log=envelope.source_log if envelope else None,
            event_type=envelope.type if envelope else None,
        )
        # Without an envelope there is no source position: track the delivery itself.
        where = tracking or Tracking(
            f"malformed:{message.topic}#{message.partition}", message.offset + 1
        )
        if self.app.already_applied(where):
            self.outcome.skipped += 1
            return
        if self._apply(parked, where):
            self.outcome.parked += 1

    def run(self, stop: threading.Event, *, poll_timeout_s: float = 1.0) -> None:
        """Consume until `stop` is set. Store and broker errors are retried, never fatal."""
        backoff = 0.1
        while not stop.is_set():
            try:
                self.run_once(poll_timeout_s)
                backoff = 0.1
            except (BusError, OperationalError) as exc:
                log.warning("consumer %s: %s; retrying in %.1fs", self.app.service, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.subscriber.close()
