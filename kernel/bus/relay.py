"""The relay: publishes a service's new events from its store (the store is the outbox).

It follows the application's notification log from its own position, maps each domain event to
its integration event (most map to nothing), publishes the envelopes, and records its position
only after the broker acknowledged them. Publishing is at least once: a relay killed between
the acknowledgement and recording its position publishes the same envelopes again, and the
consumers skip them.

A broker that lost its data (restarted empty) is noticed by comparing the topic's high
watermarks with how many messages this relay has published: if the broker holds fewer, the relay
publishes everything again from the start of the store, in the same order. Envelopes carry the
source position, so consumers skip what they already applied.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError, Tracking

from kernel import correlation
from kernel.bus.envelope import Envelope
from kernel.bus.port import BusError
from kernel.ids import stable_uuid

if TYPE_CHECKING:
    import threading

    from kernel.bus.port import Publisher
    from kernel.events import IntegrationEvent
    from kernel.eventstore import FederationApplication

log = logging.getLogger(__name__)

ToIntegration = Callable[[Any], "IntegrationEvent | None"]


class Relay:
    """Outbox relay for one application and one topic."""

    def __init__(
        self,
        app: FederationApplication,
        publisher: Publisher,
        *,
        topic: str,
        to_integration: ToIntegration,
        batch_size: int = 200,
        check_broker_every_s: float = 2.0,
        ensure_topic: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.publisher = publisher
        self.topic = topic
        self.to_integration = to_integration
        self.batch_size = min(batch_size, app.notification_log.section_size)
        self.check_broker_every_s = check_broker_every_s
        # Recreates the topic when the broker lost it: with auto-creation off (as it should be
        # in production) publishing to a missing topic fails until someone creates it.
        self.ensure_topic = ensure_topic
        self._position_name = f"relay:{topic}"
        self._count_name = f"relay:{topic}:published"
        self.position = app.recorder.max_tracking_id(self._position_name) or 0
        self.published = app.recorder.max_tracking_id(self._count_name) or 0
        self._last_check = 0.0

    # -- one step -------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Publish what is new (after checking the broker still holds what was published).

        Returns the number of notifications read (0 when the relay is up to date).
        """
        self._check_broker()
        notifications = self.app.notification_log.select(
            start=self.position + 1, limit=self.batch_size
        )
        if not notifications:
            return 0
        envelopes: list[Envelope] = []
        for notification in notifications:
            domain_event = self.app.mapper.to_domain_event(notification)
            integration = self.to_integration(domain_event)
            if integration is not None:
                envelopes.append(self._envelope(notification.id, domain_event, integration))
        if envelopes:
            self.publisher.publish(self.topic, [(e.key, e.to_bytes()) for e in envelopes])
        self.position = notifications[-1].id
        self.published += len(envelopes)
        self._record_progress()
        return len(notifications)

    def _envelope(
        self, position: int, domain_event: Any, integration: IntegrationEvent
    ) -> Envelope:
        # The request (or consumed message) that stored the event, recorded by the mapper.
        correlation_id, causation_id = correlation.of(domain_event)
        return Envelope(
            # Stable across republishing: the same stored event always has the same envelope id.
            id=stable_uuid(
                self.app.city.id,
                self.app.service,
                str(domain_event.originator_id),
                str(domain_event.originator_version),
            ),
            type=integration.type,
            version=integration.version,
            source=self.app.service,
            city=self.app.city.id,
            position=position,
            occurred_at=domain_event.timestamp,
            aggregate_id=domain_event.originator_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=integration.payload(),
        )

    def _record_progress(self) -> None:
        # Positions only grow; while republishing after a broker loss they are below the stored
        # maximum, which stays right, so there is nothing to record.
        for name, value in (
            (self._count_name, self.published),
            (self._position_name, self.position),
        ):
            stored = self.app.recorder.max_tracking_id(name) or 0
            if value > stored:
                # Another relay replica may have got there first: harmless.
                with contextlib.suppress(IntegrityError):
                    self.app.recorder.insert_tracking(Tracking(name, value))

    def _check_broker(self) -> None:
        now = time.monotonic()
        if now - self._last_check < self.check_broker_every_s:
            return
        self._last_check = now
        end_offsets = self.publisher.end_offsets(self.topic)
        if not end_offsets and self.ensure_topic is not None:
            log.warning("relay %s: the topic is missing; creating it", self.topic)
            self.ensure_topic()
        held = sum(end_offsets.values())
        if held < self.published:
            log.warning(
                "relay %s: broker holds %d messages but %d were published; republishing from the "
                "start of the store",
                self.topic,
                held,
                self.published,
            )
            self.publisher.reset()
            self.position = 0
            self.published = 0

    # -- loop -----------------------------------------------------------------------------------
    def run(self, stop: threading.Event, *, idle_wait_s: float = 0.5) -> None:
        """Publish until `stop` is set. Broker errors are retried with a capped back-off."""
        backoff = 0.1
        while not stop.is_set():
            try:
                read = self.run_once()
                backoff = 0.1
            except BusError as exc:
                log.warning("relay %s: %s; retrying in %.1fs", self.topic, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                self._last_check = 0.0  # after a broker error, look again before publishing
                continue
            if read == 0:
                self.app.new_events.wait(idle_wait_s)
                self.app.new_events.clear()
