"""The batch runner: one matcher per city, ticking every batch window.

It runs in the rides worker (`muni worker rides`) and in `muni up`, beside the read-model
runners. Every tick (`BatchRunner.tick`) it asks the application to run a batch once the city's
window has passed on the application's clock (`Rides.run_batch`: lapse the offers whose time is
up, match the waiting requests, answer those nobody can serve in time). Tests drive it with a
FixedClock: advancing the clock past a window makes the next tick run a batch; nothing sleeps.

Exactly one matcher per city at a time. Scale-out runs several rides workers (and replicas of
them); two matchers at once would not break anything (every offer is a save of the ride and the
driver under optimistic concurrency, so a driver still never holds two offers), but they would
race for the same drivers, waste solves and offer a ride by two decisions of which one is
refused. So a matcher first takes the city's matcher lock and holds it while it lives:

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its own, keyed
  by the rides schema; if the process dies, its session ends and the lock is free for the next
  worker, which takes over within one window. The lock's connection is checked every tick.
- SQLite: an exclusive `flock` on `<data>/<city>-rides.matcher.lock` beside the store (one host:
  SQLite is never shared across hosts); the kernel frees it when the process ends.
- in memory (tests): a lock per application.

A worker that does not hold the lock keeps trying every window: a standby.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from services.rides.application import Rides

log = logging.getLogger(__name__)


class MatcherLock(Protocol):
    def try_acquire(self) -> bool:
        """True if this process holds the city's matcher lock (taking it if free)."""
        ...

    def release(self) -> None: ...


class ThreadLock:
    """The in-memory store's lock: one matcher per application object (the runner's threads,
    and a test's own tick, share the runner's lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False

    def try_acquire(self) -> bool:
        if not self._held:
            self._held = self._lock.acquire(blocking=False)
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


class FileLock:
    """An exclusive, non-blocking `flock` on a file beside the SQLite store."""

    def __init__(self, path: Any) -> None:
        self.path = path
        self._fh: Any = None

    def try_acquire(self) -> bool:
        import fcntl

        if self._fh is not None:
            return True
        fh = open(self.path, "a+")  # noqa: SIM115 (held open while the lock is held)
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        import fcntl

        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own."""

    def __init__(self, conninfo: str, name: str) -> None:
        self.conninfo = conninfo
        # Advisory locks take a bigint; a stable 32-bit hash of the name is one.
        self.key = zlib.crc32(f"muni-matcher:{name}".encode())
        self._conn: Any = None

    def try_acquire(self) -> bool:
        import psycopg

        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                log.warning("the matcher lock's connection was lost; taking the lock again")
                self._drop()
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True)
        except psycopg.Error:
            log.exception("cannot connect for the matcher lock")
            return False
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if not (row and row[0]):
            conn.close()
            return False
        self._conn = conn
        return True

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._drop()


def matcher_lock(app: Rides) -> MatcherLock:
    settings = app.settings
    if settings.persistence == "postgres":
        from kernel.eventstore import schema_name

        assert settings.postgres is not None  # noqa: S101 (Settings checks this)
        return AdvisoryLock(settings.postgres.conninfo(), schema_name(settings, app.service))
    if settings.persistence == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(settings.data_dir / f"{settings.city}-rides.matcher.lock")
    return ThreadLock()


class BatchRunner:
    """Runs the city's batches on the application's clock, while it holds the matcher lock."""

    def __init__(self, app: Rides, lock: MatcherLock | None = None) -> None:
        self.app = app
        self.lock = lock if lock is not None else matcher_lock(app)
        self.window = timedelta(seconds=app.city.rides.matching.batch_window_seconds)
        self._next: datetime | None = None
        self._mutex = threading.Lock()  # a test's tick and the thread's never overlap
        self.batches = 0
        self.leading = False

    def tick(self) -> bool:
        """Run a batch if this process is the matcher and a window has passed. True if it ran."""
        with self._mutex:
            self.leading = self.lock.try_acquire()
            if not self.leading:
                return False
            now = self.app.clock.now()
            if self._next is not None and now < self._next:
                return False
            self.app.run_batch()
            self._next = now + self.window
            self.batches += 1
            return True

    def run(self, stop: threading.Event, *, poll_s: float = 0.05) -> None:
        """The thread's loop: tick, then wait a little (the window is on the app's clock, so a
        FixedClock that stands still runs no batch however long this waits)."""
        wait = min(poll_s, self.window.total_seconds())
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # a failed batch is logged; the next window tries again
                    log.exception("batch failed")
                stop.wait(wait)
        finally:
            self.lock.release()
