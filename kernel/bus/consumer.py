"""The consumer: applies another service's integration events to an application exactly once.

Delivery is at least once; effects are exactly once. For each message the consumer

1. parses the envelope (a malformed one is parked),
2. builds the application's own tolerant model for its type and major version (an unknown type,
   a newer major version or a payload the model rejects is parked, never a crash loop),
3. applies the poll's messages with `app.process_events`: each message's new events with its
   tracking record, the whole poll in one transaction where the store allows (one commit per
   poll, not per message; a crash before it leaves none of the poll behind), then
4. commits the broker offsets of what it applied.

A poll's transaction that is refused (another member of the group applied a message first, an
aggregate moved on) is not an error: its messages are applied again one by one, each with
`app.process_event` and its own checks.

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
from typing import TYPE_CHECKING, Any, Literal

from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from pydantic import ValidationError

from kernel.bus.envelope import Envelope, MalformedEnvelope
from kernel.bus.port import BusError, Message, TopicPartition
from kernel.correlation import correlated
from kernel.eventstore import BatchConflict, Tracked
from kernel.parking import Parked
from kernel.readside import PositionMoved

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Mapping, Sequence
    from contextlib import AbstractContextManager
    from uuid import UUID

    from kernel.bus.port import Subscriber
    from kernel.events import TolerantModel
    from kernel.eventstore import FederationApplication
    from kernel.readside import ReadModel, TableView
    from kernel.readside.tables import Op

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


@dataclass(frozen=True)
class Step:
    """A message planned for applying: what it becomes in the application (`obj`: the tolerant
    model, None for an ignored type, or what parks it) and where its source put it.
    `catch_up`: the application applied it before and a read model has not."""

    message: Message
    envelope: Envelope
    tracking: Tracking
    kind: Literal["apply", "ignore", "park"]
    obj: Any
    catch_up: bool = False


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
        # Fault injection for crash tests: exit the process once N messages are applied (after
        # the batch that reached N commits), before committing their offsets.
        self._die_after = int(os.environ.get("MUNI_FAULT_EXIT_AFTER_APPLY", "0") or 0)
        # ... or inside a batch's transaction, after N messages' writes, before it commits.
        self._die_mid_batch = int(os.environ.get("MUNI_FAULT_EXIT_MID_BATCH", "0") or 0)
        subscriber.subscribe(self.topics)

    def run_once(self, timeout_s: float = 0.5) -> int:
        """Poll once, apply what came, commit. Returns the number of messages handled."""
        messages = self.subscriber.poll(timeout_s)
        if not messages:
            return 0
        self.apply_batch(messages)
        if self._die_after and self.outcome.applied >= self._die_after:
            log.error("fault injection: exiting after %d applied, before commit", self._die_after)
            os._exit(137)
        offsets: dict[TopicPartition, int] = {}
        for message in messages:
            offsets[message.topic_partition] = message.offset + 1
        self.subscriber.commit(offsets)
        return len(messages)

    def handle(self, message: Message) -> None:
        """Apply one message in its own transaction."""
        step = self._plan(message)
        if step is not None:
            with self._correlated(step):
                self._execute(step)

    def apply_batch(self, messages: Sequence[Message]) -> None:
        """Apply messages in order, those not applied yet in one transaction."""
        steps: list[Step] = []
        latest: dict[str, int] = {}  # per tracked source: the newest position in this batch
        for message in messages:
            step = self._plan(message)
            if step is None:
                continue
            name, position = step.tracking.application_name, step.tracking.notification_id
            if latest.get(name, 0) >= position:
                self.outcome.skipped += 1  # delivered twice within this batch
                continue
            latest[name] = position
            if step.catch_up:
                with self._correlated(step):
                    self._execute(step)  # applied before, a read model has not: on its own
                continue
            steps.append(step)
        if not steps:
            return
        items = [
            Tracked(s.obj, s.tracking, self._views(s), correlation=self._correlation(s))
            for s in steps
        ]
        try:
            self.app.process_events(items, after_each=self._fault_mid_batch)
        except BatchConflict as conflict:
            log.info(
                "consumer %s: a batch was refused after %d; applying the rest one by one",
                self.app.service,
                conflict.recorded,
            )
            for step in steps[: conflict.recorded]:
                with self._correlated(step):
                    self._count(step)
            for step in steps[conflict.recorded :]:
                with self._correlated(step):
                    self._execute(step)
            return
        for step in steps:
            with self._correlated(step):
                self._count(step)

    def _plan(self, message: Message) -> Step | None:
        """What to do with a message: None if it was applied already (or is parked now, for a
        malformed envelope, which has no source position to batch by)."""
        try:
            envelope = Envelope.from_bytes(message.value)
        except MalformedEnvelope as exc:
            self._park(message, f"malformed envelope: {exc}", None)
            return None
        tracking = Tracking(f"{envelope.source_log}/{envelope.aggregate_id}", envelope.position)
        if self.app.already_applied(tracking):
            if not self._unprojected(tracking):
                self.outcome.skipped += 1
                return None
            catch_up = True
        else:
            catch_up = False
        model_cls = self.inbound.models.get((envelope.type, envelope.version))
        if model_cls is None:
            if envelope.type in self.inbound.ignores:
                return Step(message, envelope, tracking, "ignore", None, catch_up=catch_up)
            known = self.inbound.known_versions(envelope.type)
            reason = (
                f"{envelope.type} v{envelope.version} is newer than the versions read here {known}"
                if known
                else f"unknown event type {envelope.type} v{envelope.version}"
            )
            return Step(
                message,
                envelope,
                tracking,
                "park",
                self._parked(message, reason, envelope),
                catch_up=catch_up,
            )
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
            reason = f"payload rejected by {model_cls.__name__}: {exc}"
            parked = self._parked(message, reason, envelope)
            return Step(message, envelope, tracking, "park", parked, catch_up=catch_up)
        return Step(message, envelope, tracking, "apply", model, catch_up=catch_up)

    @staticmethod
    def _correlation(step: Step) -> tuple[UUID, UUID]:
        # The message's work belongs to the request that caused it: its log lines say so, and
        # the events the policy stores record it, caused by this envelope.
        envelope = step.envelope
        return envelope.correlation_id or envelope.id, envelope.id

    def _correlated(self, step: Step) -> AbstractContextManager[None]:
        return correlated(*self._correlation(step))

    def _execute(self, step: Step) -> None:
        """Apply one planned message in its own transaction (and its read models in theirs)."""
        if step.kind == "apply":
            if self._apply(step.obj, step.tracking):
                self._count(step)
            self._project(step.obj, step.tracking)
        elif step.kind == "ignore":
            self._apply(None, step.tracking)
            self.outcome.ignored += 1
        elif self._apply(step.obj, step.tracking):
            self.outcome.parked += 1

    def _count(self, step: Step) -> None:
        if step.kind == "apply":
            self.outcome.applied += 1
            envelope = step.envelope
            log.info(
                "consumer %s applied %s v%d from %s@%d",
                self.app.service,
                envelope.type,
                envelope.version,
                envelope.source_log,
                envelope.position,
            )
        elif step.kind == "ignore":
            self.outcome.ignored += 1
        else:
            self.outcome.parked += 1

    def _views(self, step: Step) -> list[tuple[TableView, Sequence[Op]]]:
        """The inbound read models' rows for a message (written with it, in its transaction)."""
        if step.kind != "apply":
            return []
        return [(m.view, m.rows(step.obj)) for m in self._unprojected(step.tracking)]

    def _fault_mid_batch(self, n: int) -> None:
        if self._die_mid_batch and n >= self._die_mid_batch:
            log.error("fault injection: exiting inside a batch after %d messages' writes", n)
            os._exit(137)

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

    @staticmethod
    def _parked(message: Message, reason: str, envelope: Envelope | None) -> Parked:
        return Parked(
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            raw=message.value.decode("utf-8", errors="replace")[:100_000],
            source_log=envelope.source_log if envelope else None,
            event_type=envelope.type if envelope else None,
        )

    def _park(self, message: Message, reason: str, envelope: None) -> None:
        """Park a message that has no envelope, tracked by its delivery (no source position)."""
        parked = self._parked(message, reason, envelope)
        where = Tracking(f"malformed:{message.topic}#{message.partition}", message.offset + 1)
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
