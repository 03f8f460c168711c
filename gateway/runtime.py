"""Wiring: which applications, relays and consumers run in this process, and on what bus.

Three shapes, one code base:

- embedded (`muni up`): every service's application, relay and consumers in one process, on an
  in-process broker;
- gateway (`muni serve gateway`): every application, for commands and queries, and nothing
  else: relays and consumers run in the workers;
- worker (`muni worker <service>`): one service's relay and consumers.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contributions.application import Contributions
from contributions.inbound import INBOUND as CONTRIBUTIONS_INBOUND
from gateway.readings import Reading, ReadingSource, group_reading, relay_reading
from kernel.bus.consumer import Consumer, Inbound
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.offsets import OffsetReader
from kernel.bus.relay import Relay, ToIntegration
from kernel.cities import load_city
from services.members import published as members_published
from services.members.application import Members
from services.rides import published as rides_published
from services.rides.application import Rides

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kernel.bus.port import Bus
    from kernel.config import Settings
    from kernel.eventstore import FederationApplication
    from kernel.time import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: its application, what it publishes, what it consumes."""

    name: str
    app_cls: type[FederationApplication]
    to_integration: ToIntegration | None = None
    inbound: Inbound | None = None
    consumes: tuple[str, ...] = ()


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("members", Members, to_integration=members_published.to_integration),
        ServiceSpec("rides", Rides, to_integration=rides_published.to_integration),
        ServiceSpec(
            "contributions", Contributions, inbound=CONTRIBUTIONS_INBOUND, consumes=("rides",)
        ),
    )
}


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
    # More readings for `readings()` (projection runners add theirs here).
    reading_sources: list[ReadingSource] = field(default_factory=list)
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
        built = {n: SERVICES[n].app_cls(settings, clock=clock, city=city) for n in names}
        return cls(settings, built, bus or make_bus(settings), workers)

    def app_by_class(self) -> dict[type[Any], Any]:
        return {type(app): app for app in self.apps.values()}

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
        """True once every relay has published all its store holds (tests, demo seeding)."""
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(r.position >= (r.app.recorder.max_notification_id() or 0) for r in self.relays):
                return True
            time.sleep(0.02)
        return False
