"""Following read models as they move: what a live subscription waits on instead of polling.

A `Follower` watches the positions some read models of one application have applied (the
tracking rows their runners write). One daemon thread per follower, started with the first
listener and ended with the last: it sleeps on the application's wake event (set on every save
in this process), and at most `poll_s` between looks otherwise, so a save made by another
process (a separate worker, another gateway replica) is seen within that bound. When any
watched position moves, every listener is woken; each re-reads the one row it cares about and
passes it on only if it changed.

Embedded, a save wakes the follower at once, and the runner in this process applies it within
milliseconds: the follower looks again quickly (`settle_s`) while the log is ahead of the read
models, so a change reaches listeners without waiting for the poll bound. Scale-out, a gateway
runs no runners; its follower still looks every `poll_s` (one `SELECT max(...)` per read model,
however many listeners), never at an aggregate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from kernel.eventstore import FederationApplication
    from kernel.readside.projection import ReadModel

log = logging.getLogger(__name__)

POLL_S = 0.25
SETTLE_S = 0.01
SETTLE_TRIES = 50  # 0.5 s of quick looks after a save, then back to the poll bound


@dataclass(eq=False)
class Listener:
    """One waiter on a follower. `wait()` returns once the read models moved since the last
    wait (moves while the waiter was busy fold into one: it re-reads the current row, so it
    never needs every intermediate position); False once the follower has closed."""

    loop: asyncio.AbstractEventLoop
    stopped: threading.Event
    moved: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> bool:
        await self.moved.wait()
        self.moved.clear()
        return not self.stopped.is_set()

    def wake(self) -> None:
        # Runs on the follower's thread: hand the wake-up to the listener's own loop.
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting
            self.loop.call_soon_threadsafe(self.moved.set)


class Follower:
    """Wakes asyncio listeners when any of `models` (read models of `app`) applies more."""

    def __init__(
        self,
        app: FederationApplication,
        models: Iterable[type[ReadModel]],
        *,
        poll_s: float = POLL_S,
        settle_s: float = SETTLE_S,
    ) -> None:
        self.app = app
        self.runners = [app.runners[m] for m in models]
        self.poll_s = poll_s
        self.settle_s = settle_s
        self._listeners: set[Listener] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake: threading.Event | None = None

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def positions(self) -> tuple[int, ...]:
        return tuple(r.position() for r in self.runners)

    @contextlib.contextmanager
    def listen(self) -> Iterator[Listener]:
        """A listener, registered at once (so a move after this line is never missed), for
        the block's life. Call it from the event loop that will wait on it."""
        listener = Listener(asyncio.get_running_loop(), self._stop)
        self._add(listener)
        try:
            yield listener
        finally:
            self._remove(listener)

    def close(self) -> None:
        """Stop the thread and wake every listener so their streams end."""
        self._stop.set()
        if self._wake is not None:
            self._wake.set()
        with self._lock:
            listeners, thread = list(self._listeners), self._thread
        for listener in listeners:
            listener.wake()
        if thread is not None:
            thread.join(timeout=5)

    # -- the thread ------------------------------------------------------------------------------
    def _add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.add(listener)
            if self._thread is None or not self._thread.is_alive():
                if self._wake is None:
                    # One wake event for the follower's life (the application keeps every
                    # event it hands out, so never ask for one per listener).
                    self._wake = self.app.wake_event()
                self._thread = threading.Thread(
                    target=self._run, name=f"follow-{self.app.service}", daemon=True
                )
                self._thread.start()

    def _remove(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def _run(self) -> None:
        assert self._wake is not None  # noqa: S101 (made before the thread starts)
        last = self._safe_positions()
        wait_s, settling = self.poll_s, 0
        while not self._stop.is_set():
            woken = self._wake.wait(wait_s)
            self._wake.clear()
            if woken:
                settling = SETTLE_TRIES
            with self._lock:
                if not self._listeners:
                    self._thread = None  # the next listener starts a new thread
                    return
            now = self._safe_positions()
            if now is None:
                wait_s = self.poll_s
                continue
            if now != last:
                last = now
                with self._lock:
                    listeners = list(self._listeners)
                for listener in listeners:
                    listener.wake()
            # After a save, while the log is ahead of what the read models applied, a runner
            # (in this process or another) is about to apply it: look again soon, a few times
            # (a stalled runner elsewhere must not make this thread spin).
            if settling and self._behind(now):
                settling -= 1
                wait_s = self.settle_s
            else:
                settling, wait_s = 0, self.poll_s

    def _safe_positions(self) -> tuple[int, ...] | None:
        try:
            return self.positions()
        except Exception:  # a store hiccup: say so and look again at the next poll
            log.warning("following %s: could not read positions", self.app.service, exc_info=True)
            return None

    def _behind(self, positions: tuple[int, ...]) -> bool:
        try:
            head = self.app.head()
        except Exception:
            return False
        return any(p < head for p in positions) and any(not r.caught_up(head) for r in self.runners)


class Followers:
    """The followers of one process, one per application and set of read models, made on
    first use and closed together when the process stops."""

    def __init__(self, *, poll_s: float = POLL_S) -> None:
        self.poll_s = poll_s
        self._made: dict[tuple[int, tuple[type[ReadModel], ...]], Follower] = {}
        self._lock = threading.Lock()

    def of(self, app: FederationApplication, *models: type[ReadModel]) -> Follower:
        key = (id(app), models)
        with self._lock:
            found = self._made.get(key)
            if found is None:
                found = self._made[key] = Follower(app, models, poll_s=self.poll_s)
            return found

    def close(self) -> None:
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for follower in made:
            follower.close()
