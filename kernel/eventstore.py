"""Event-store wiring: one store per service and city, SQLite by default, PostgreSQL by setting.

`FederationApplication` is the base of every service's application. It is an eventsourcing
`EventSourcedProjection`: an application whose recorder also keeps tracking records, so the
same store serves the service's own commands, its relay position and what it consumed from
others (each recorded atomically with its effects).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError
from eventsourcing.projection import EventSourcedProjection
from eventsourcing.utils import get_topic

from kernel.batch import Processed, is_durable, record_batch
from kernel.cities import CityConfig, load_city
from kernel.correlation import MAPPER_TOPIC, correlated
from kernel.parking import Parked, ParkedMessage, ParkedMessages, ParkedRow
from kernel.policies import Policies, PolicyVersionsBase
from kernel.readside import ProjectionRunner, ReadModel, TableView
from kernel.readside.inline import catch_up_in
from kernel.time import Clock, SystemClock
from kernel.transcodings import KERNEL_TRANSCODINGS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from eventsourcing.persistence import JSONTranscoder, Recording, Tracking

    from kernel.config import Settings
    from kernel.readside.tables import Op

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=ReadModel)


def schema_name(settings: Settings, service: str) -> str:
    """PostgreSQL schema for a service's store: `<prefix>_<city>_<service>`, identifier-safe."""
    raw = f"{settings.schema_prefix}_{settings.city}_{service}".lower()
    return re.sub(r"[^a-z0-9_]", "_", raw)


# Keep recently used aggregates in memory; on every load the library fast-forwards a cached
# aggregate with the events stored since (one small query), so replicas writing the same store
# stay correct, and a long-lived aggregate is not replayed from its first event on every command.
CACHE = {"AGGREGATE_CACHE_MAXSIZE": "5000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def store_env(settings: Settings, service: str) -> dict[str, str]:
    """The `env` mapping handed to eventsourcing for one service's store."""
    # Stored events record the request they came from (kernel/correlation.py).
    return {**CACHE, "MAPPER_TOPIC": MAPPER_TOPIC, **_persistence_env(settings, service)}


def _persistence_env(settings: Settings, service: str) -> dict[str, str]:
    if settings.persistence == "popo":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.persistence == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / f"{settings.city}-{service}.sqlite3"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    dsn = settings.postgres
    assert dsn is not None  # Settings validates this  # noqa: S101
    schema = schema_name(settings, service)
    ensure_postgres_schema(dsn.conninfo(), schema)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dsn.dbname,
        "POSTGRES_HOST": dsn.host,
        "POSTGRES_PORT": str(dsn.port),
        "POSTGRES_USER": dsn.user,
        "POSTGRES_PASSWORD": dsn.password.get_secret_value(),
        "POSTGRES_SCHEMA": schema,
        # Connections are opened as needed up to 2 + 8 and idle ones closed: a process runs
        # several applications (and a city several processes), so pools kept open eagerly at 5
        # each ran PostgreSQL's default 100 connections out once the decisions service came.
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
    }


def ensure_postgres_schema(conninfo: str, schema: str) -> None:
    import psycopg  # only needed at scale; keep embedded start-up free of it

    # IF NOT EXISTS is not safe when processes starting together create the schema at once
    # (one fails on pg_namespace's unique index): a lock per schema, held to commit, orders them.
    with psycopg.connect(conninfo) as conn:  # one transaction, committed when the block ends
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


@dataclass(frozen=True)
class Tracked:
    """A consumed message for `process_events`: the policy's input, its position, and the rows
    read models following the same message write for it (in the same transaction)."""

    event: Any
    tracking: Tracking
    views: Sequence[tuple[TableView, Sequence[Op]]] = field(default_factory=tuple)
    # The work it belongs to (correlation, causation): its policy runs, and its events are
    # stored, as part of it (kernel.correlation).
    correlation: tuple[UUID | None, UUID | None] = (None, None)


class BatchConflict(IntegrityError):
    """A transaction of `process_events` was refused (a message recorded meanwhile, an
    aggregate moved on); the first `recorded` messages were recorded, the rest were not."""

    def __init__(self, recorded: int, cause: IntegrityError) -> None:
        super().__init__(f"batch refused after {recorded} recorded: {cause}")
        self.recorded = recorded


class FederationApplication(EventSourcedProjection[UUID]):
    """Base of the services' applications: settings, city policy, clock, and consumption.

    Subclasses set `service` and implement `react(event, processing)` for the integration
    events they consume (a `singledispatchmethod`). Parked messages are handled here.
    """

    service: ClassVar[str]
    # The read models this service keeps (kernel.readside); every service keeps its parked
    # messages. Their tables live in the service's own database.
    read_models: ClassVar[tuple[type[ReadModel], ...]] = ()
    # Read models of the integration events this service consumes (their `rows` are registered
    # on the inbound models): the consumer applies them, tracked per source aggregate.
    inbound_read_models: ClassVar[tuple[type[ReadModel], ...]] = ()
    # The consumer records a poll's messages in one transaction (`process_events`), which is
    # exact while each policy decides only on the aggregates it changes (a later message's
    # policy that changes one of them runs again on the recorded state). A service whose policy
    # decides on state it does not change sets this False: one transaction per message.
    consume_in_batches: ClassVar[bool] = True
    # On SQLite a save also brings this service's read models up to date in its own
    # transaction (kernel.readside.inline): one commit where a command's catch-up made another.
    inline_read_models: ClassVar[bool] = True
    # The relay reads the notification log in sections of this size.
    log_section_size = 500

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        city: CityConfig | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.city = city or load_city(settings.city)
        # Relays wait on this instead of polling the store when they run in the same process.
        self.new_events = threading.Event()
        self._wake: list[threading.Event] = []
        super().__init__(env={**store_env(settings, self.service), **(env or {})})
        datastore = self._readside_datastore()
        classes: tuple[type[ReadModel], ...] = (ParkedMessages, *self.read_models)
        self.models: dict[type[ReadModel], ReadModel] = {
            cls: cls(view=TableView(datastore, cls.name, cls.tables)) for cls in classes
        }
        self.runners = {cls: ProjectionRunner(self, model) for cls, model in self.models.items()}
        for cls in self.inbound_read_models:
            self.models[cls] = cls(view=TableView(datastore, cls.name, cls.tables))
        from eventsourcing.sqlite import SQLiteProcessRecorder

        self._inline = self.inline_read_models and isinstance(self.recorder, SQLiteProcessRecorder)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in KERNEL_TRANSCODINGS:
            transcoder.register(transcoding)

    def _readside_datastore(self) -> Any:
        """The service's own database for its read models: the store's datastore (its SQLite
        file, its PostgreSQL schema), or an in-memory SQLite database for the in-memory store."""
        found = getattr(self.recorder, "datastore", None)
        if found is not None:
            return found
        from eventsourcing.sqlite import SQLiteDatastore

        return SQLiteDatastore(f"file:muni-{self.service}-{uuid4().hex}?mode=memory&cache=shared")

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The library's recording, with the read models kept in the same transaction on
        SQLite (kernel.readside.inline)."""
        if not self._inline:
            return super()._record(processing_event)
        runners = list(self.runners.values())
        saved = {get_topic(type(e)) for e in processing_event.events}
        recordings = record_batch(
            self,
            [Processed(processing_event)],
            before_commit=lambda c: catch_up_in(c, self, runners, saved),
        )
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        self.new_events.set()
        for wake in self._wake:
            wake.set()

    def wake_event(self) -> threading.Event:
        """An event set on every save in this process (for a runner or relay to wait on)."""
        wake = threading.Event()
        self._wake.append(wake)
        return wake

    # -- read side ------------------------------------------------------------------------------
    def read_model(self, cls: type[M]) -> M:
        found = self.models[cls]
        assert isinstance(found, cls)  # noqa: S101 (keyed by its class)
        return found

    def catch_up(self, *classes: type[ReadModel]) -> int:
        """Apply what the given read models (default: all) have not applied yet, in this thread.

        Commands call it before they read a table they decide on, so they see every save that
        came before them; runners do the same in the background. Safe beside other runners."""
        return sum(self.runners[cls].catch_up() for cls in classes or tuple(self.runners))

    def policies(self) -> Policies:
        """The city's policies: its config file (version 1) plus the versions adopted by
        decisions that this service has applied (a `PolicyVersionsBase` read model among its
        read models or inbound read models); the file alone if it keeps none. Name
        `policies().at(when).version` in whatever you compute from a policy."""
        for cls, model in self.models.items():
            if isinstance(model, PolicyVersionsBase):
                if cls in self.runners:  # its own events: as fresh as the store
                    self.catch_up(cls)
                return Policies(self.city, model.versions())
        return Policies(self.city)

    def policy_version(self, when: datetime) -> int:
        """The policy version in force at `when` (see `policies`)."""
        return self.policies().at(when).version

    def head(self) -> int:
        """The position of the newest event in this service's log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    # -- consumption ----------------------------------------------------------------------------
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        if isinstance(domain_event, Parked):
            self._park(domain_event, processing_event)
        else:
            self.react(domain_event, processing_event)

    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """React to a consumed integration event. The default ignores everything."""

    def _park(self, parked: Parked, processing: ProcessingEvent[UUID]) -> None:
        message = ParkedMessage.from_parked(parked)
        processing.collect_events(message)
        log.warning(
            "%s parked %s#%s@%s: %s",
            self.service,
            parked.topic,
            parked.partition,
            parked.offset,
            parked.reason,
        )

    def parked_messages(
        self, *, first: int | None = None, after: Sequence[Any] | None = None
    ) -> list[ParkedRow]:
        """Parked messages, oldest first, from the read model (caught up first)."""
        self.catch_up(ParkedMessages)
        return self.read_model(ParkedMessages).page(first=first, after=after)

    def process_events(
        self, items: Sequence[Tracked], *, after_each: Callable[[int], None] | None = None
    ) -> None:
        """Apply consumed messages as `process_event` does, in as few transactions as can be.

        Each message's policy runs on the state the messages before it left: while policies
        touch different aggregates their results are recorded together, in one transaction
        with every message's tracking record (`kernel.batch`); a policy that touches an
        aggregate an earlier message of the open batch touched runs again once that batch is
        recorded. Raises `BatchConflict` if a transaction is refused (the messages before it
        stay recorded). `after_each(n)` runs inside the transaction after the n-th message's
        writes (fault injection).
        """
        if not is_durable(self) or not self.consume_in_batches:
            # The in-memory store: the library's path, message after message.
            for n, item in enumerate(items, start=1):
                try:
                    with correlated(*item.correlation):
                        self.process_event(item.event, item.tracking)
                except IntegrityError as exc:
                    raise BatchConflict(n - 1, exc) from exc
                for view, ops in item.views:
                    view.apply(ops, item.tracking)
                if after_each is not None:
                    after_each(n)
            return
        done = 0
        batch: list[Processed] = []
        touched: set[UUID] = set()
        for item in items:
            processed = self._processed(item)
            ids = {e.originator_id for e in processed.processing.events}
            if ids & touched:
                done = self._record_batch(batch, done, after_each)
                batch, touched = [], set()
                processed = self._processed(item)  # on the state just recorded
                ids = {e.originator_id for e in processed.processing.events}
            batch.append(processed)
            touched |= ids
        self._record_batch(batch, done, after_each)

    def _processed(self, item: Tracked) -> Processed:
        processing = ProcessingEvent[UUID](tracking=item.tracking)
        with correlated(*item.correlation):
            self.policy(item.event, processing)
            stored = [self.mapper.to_stored_event(e) for e in processing.events]
        return Processed(processing, item.views, stored)

    def _record_batch(
        self, batch: list[Processed], done: int, after_each: Callable[[int], None] | None
    ) -> int:
        if not batch:
            return done
        try:
            recordings = record_batch(
                self, batch, after_each=(lambda n: after_each(done + n)) if after_each else None
            )
        except IntegrityError as exc:
            raise BatchConflict(done, exc) from exc
        for processed in batch:
            if self.repository.cache and not self.repository.fastforward:
                for aggregate_id, aggregate in processed.processing.aggregates.items():
                    self.repository.cache.put(aggregate_id, aggregate)
            self._take_snapshots(processed.processing)
        self._notify(recordings)
        return done + len(batch)

    def already_applied(self, tracking: Tracking) -> bool:
        return self.recorder.has_tracking_id(tracking.application_name, tracking.notification_id)


def retry_on_conflict(command: Callable[[], T], *, attempts: int = 8) -> T:
    """Run a command again when its save lost an optimistic-concurrency race.

    A command reads aggregates, decides, and saves; if another process saved one of the same
    aggregates meanwhile, the store refuses the save (IntegrityError) and nothing was written.
    Running the whole command again, from fresh state, is then safe.
    """
    for attempt in range(attempts):
        try:
            return command()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 (jitter)
    raise AssertionError("unreachable")
