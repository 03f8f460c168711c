"""Wiring: which applications, relays and consumers run in this process, and on what bus.

Three shapes, one code base:

- embedded (`muni up`): every service's application, relay and consumers in one process, on an
  in-process broker;
- gateway (`muni serve gateway`): every application, for commands and queries, and nothing
  else: relays and consumers run in the workers;
- worker (`muni worker <service>`): one service's relay, consumers and read-model runners.

What runs for a service comes from its `ServiceSpec` (gateway/services.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.readings import Reading, ReadingSource, group_reading, relay_reading
from gateway.services import SERVICES
from kernel.bus.consumer import Consumer
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.offsets import OffsetReader
from kernel.bus.relay import Relay
from kernel.cities import load_city
from kernel.delegation import KEY as DELEGATIONS
from kernel.delegation import Delegations
from kernel.role_requests import KEY as ROLE_REQUESTS
from kernel.role_requests import RoleRequests
from services.members.application import Members

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kernel.audit import AuditLog
    from kernel.bus.port import Bus
    from kernel.config import Settings
    from kernel.eventstore import FederationApplication
    from kernel.readside import ProjectionRunner
    from kernel.time import Clock

__all__ = ["SERVICES", "Runtime", "make_bus"]
log = logging.getLogger(__name__)


def make_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        from kernel.bus.kafka import KafkaBus  # only needed at scale

        assert settings.kafka_bootstrap is not None  # noqa: S101 (Settings checks this)
        return KafkaBus(settings.kafka_bootstrap, client_id=f"muni-{settings.city}")
    return EmbeddedBroker(default_partitions=settings.topic_partitions)


@dataclass
class Runtime:
    """Applications plus the background work (relays, consumers) this process runs."""

    settings: Settings
    apps: dict[str, FederationApplication]
    bus: Bus
    workers: tuple[str, ...]
    relays: list[Relay] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    runners: list[ProjectionRunner] = field(default_factory=list)
    # More readings for `readings()` (anything else that follows a log adds its own here).
    reading_sources: list[ReadingSource] = field(default_factory=list)
    # The services' background jobs this process runs (ServiceSpec.jobs), by name.
    jobs: dict[str, Any] = field(default_factory=dict)
    _offsets: OffsetReader | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        workers: Iterable[str] = (),
        apps: Iterable[str] | None = None,
        clock: Clock | None = None,
        bus: Bus | None = None,
    ) -> Runtime:
        """Build applications for `apps` (default: all) and background work for `workers`."""
        workers = tuple(workers)
        unknown = set(workers) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; known: {sorted(SERVICES)}")
        city = load_city(settings.city)
        names = list(SERVICES) if apps is None else list(apps)
        built = {n: SERVICES[n].application(settings, clock=clock, city=city) for n in names}
        return cls(settings, built, bus or make_bus(settings), workers)

    def app_by_class(self) -> dict[type[Any], Any]:
        return {type(app): app for app in self.apps.values()}

    @property
    def audit(self) -> AuditLog | None:
        """The audit log (kept by the members service), if this process runs members."""
        members = self.apps.get("members")
        return members.audit if isinstance(members, Members) else None

    def ports(self) -> dict[str, Any]:
        """The kernel ports the members application answers, for a request's context: the
        services ask through them and never import the members service."""
        members = self.apps.get("members")
        if not isinstance(members, Members):
            return {}
        # Typed here so that mypy checks each adapter against its port.
        delegations: Delegations = members.consents
        role_requests: RoleRequests = members.roles
        return {DELEGATIONS: delegations, ROLE_REQUESTS: role_requests}

    def start(self) -> None:
        idle = 0.5 if self.settings.bus == "embedded" and len(self.workers) > 1 else 0.1
        topics = [self.settings.topic(s) for s in SERVICES]
        self.bus.ensure_topics(topics, self.settings.topic_partitions)
        for name in self.workers:
            spec, app = SERVICES[name], self.apps[name]
            if spec.to_integration is not None:
                topic = self.settings.topic(name)
                relay = Relay(
                    app,
                    self.bus.publisher(),
                    topic=topic,
                    to_integration=spec.to_integration,
                    ensure_topic=lambda t=topic: self.bus.ensure_topics(  # type: ignore[misc]
                        [t], self.settings.topic_partitions
                    ),
                )
                self.relays.append(relay)
                self._spawn(f"relay-{name}", lambda r=relay: r.run(self._stop, idle_wait_s=idle))
            if spec.inbound is not None:
                consumer = Consumer(
                    app,
                    self.bus.subscriber(group=self.settings.group(name)),
                    topics=[self.settings.topic(s) for s in spec.consumes],
                    inbound=spec.inbound,
                )
                self.consumers.append(consumer)
                if self._offsets is None:
                    self._offsets = OffsetReader(self.bus)
                self._spawn(f"consumer-{name}", lambda c=consumer: c.run(self._stop))
            for job_name, make_job in spec.jobs:
                job = self.jobs[job_name] = make_job(app)
                self._spawn(f"job-{name}-{job_name}", lambda j=job: j.run(self._stop))
            for runner in app.runners.values():
                self.runners.append(runner)
                wake = app.wake_event()
                self._spawn(
                    f"read-model-{name}-{runner.name}",
                    lambda r=runner, w=wake: r.run(self._stop, w, idle_wait_s=idle),
                )

    def readings(self) -> list[Reading]:
        """Where this process's relays, consumers and other log followers are, and how far
        behind (blocking: reads the stores and the broker)."""
        out = [relay_reading(r.app, r.topic, r.position) for r in self.relays]
        for consumer in self.consumers:
            assert self._offsets is not None  # noqa: S101 (start() makes it with the consumers)
            service = consumer.app.service
            group = self.settings.group(service)
            out.extend(
                group_reading(self._offsets, service, group, topic, consumer)
                for topic in consumer.topics
            )
        for runner in self.runners:
            read = runner.reading()
            out.append(
                Reading(
                    "projection",
                    f"{runner.app.name.lower()}/{read.name}",
                    read.position,
                    # The runner's lag counts only the events its read model takes.
                    read.position + read.lag,
                    "events",
                )
            )
        for source in self.reading_sources:
            out.extend(source())
        return out

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for app in self.apps.values():
            app.new_events.set()  # wake idle relays
            for wake in app._wake:  # and idle read-model runners
                wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        for relay in self.relays:
            relay.publisher.close()
        if self._offsets is not None:
            self._offsets.close()
        self.bus.close()
        for app in self.apps.values():
            app.close()

    def wait_until_idle(self, timeout_s: float = 10.0) -> bool:
        """True once every relay has published all its store holds and every read model has
        applied its log (tests, demo seeding)."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            published = all(r.position >= r.app.head() for r in self.relays)
            if published and all(r.caught_up(r.head()) for r in self.runners):
                return True
            time.sleep(0.02)
        return False
