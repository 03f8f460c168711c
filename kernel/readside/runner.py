"""`ProjectionRunner`: keeps one read model up to date with its application's notification log.

It reads the events its read model takes, in log order and in batches, and applies each batch's
rows with the batch's last position in one transaction (`TableView.apply(..., in_order=True)`),
so a runner killed at any moment resumes exactly where the tables say it was. Several runners of
the same read model (worker replicas) can run at once: the one that loses the race to move the
position writes nothing and reads on from the new position.

Freshness: in one process (`muni up`) a runner wakes on every save of its application and lags by
the time of one small transaction; across processes (scale-out) it polls, and lags by at most its
poll interval plus one batch. `caught_up(position)` and `wait_for(position)` let a reader wait for
its own write (read-your-writes) without the runner having to record positions of events it does
not take.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import OperationalError, Tracking

from kernel.readside.view import PositionMoved

if TYPE_CHECKING:
    import threading

    from eventsourcing.application import Application

    from kernel.readside.projection import ReadModel
    from kernel.readside.tables import Op

log = logging.getLogger(__name__)


class NotCaughtUp(TimeoutError):
    """A read model did not reach a position within the time a reader would wait."""

    def __init__(self, read_model: str, position: int, reached: int, waited_s: float) -> None:
        super().__init__(
            f"{read_model} has applied the log up to {reached}, not yet {position} "
            f"(waited {waited_s:.1f} s)"
        )
        self.read_model = read_model
        self.position = position
        self.reached = reached


@dataclass(frozen=True)
class Reading:
    """Where a runner is: its position in the log, the log's head, and the events it takes that
    are not applied yet (0 when caught up)."""

    name: str
    position: int
    head: int
    lag: int


class ProjectionRunner:
    """Applies a read model's events from one application's log to its tables."""

    def __init__(self, app: Application[Any], model: ReadModel, *, batch_size: int = 500) -> None:
        self.app = app
        self.model = model
        self.view = model.view
        self.batch_size = batch_size
        self.topics = list(model.event_topics())
        self.applied = 0

    @property
    def name(self) -> str:
        return self.model.name

    def position(self) -> int:
        return self.view.max_tracking_id(self.app.name) or 0

    def head(self) -> int:
        """The position of the newest event in the application's log."""
        return self.app.recorder.max_notification_id() or 0

    def run_once(self) -> int:
        """Apply the next batch, if any. Returns the number of events applied."""
        start = self.position()
        notifications = self.app.recorder.select_notifications(
            start=start + 1, limit=self.batch_size, topics=self.topics
        )
        if not notifications:
            return 0
        ops: list[Op] = []
        for notification in notifications:
            ops.extend(self.model.rows(self.app.mapper.to_domain_event(notification)))
        last = notifications[-1].id
        try:
            self.view.apply(
                ops, Tracking(self.app.name, last), expected=start or None, in_order=True
            )
        except PositionMoved:
            log.debug("%s: another runner applied past %d; reading on", self.name, start)
            return 0
        self.applied += len(notifications)
        return len(notifications)

    def catch_up(self) -> int:
        """Apply everything there is now. Returns the number of events applied."""
        total = 0
        while n := self.run_once():
            total += n
        return total

    def caught_up(self, position: int) -> bool:
        """True if every event this read model takes, up to `position`, is applied."""
        reached = self.position()
        if reached >= position:
            return True
        pending = self.app.recorder.select_notifications(
            start=reached + 1, limit=1, stop=position, topics=self.topics
        )
        return not pending

    def wait_for(self, position: int, timeout_s: float = 2.0) -> None:
        """Block until `caught_up(position)`, at most `timeout_s`; else raise `NotCaughtUp`."""
        started = time.monotonic()
        pause = 0.002
        while not self.caught_up(position):
            waited = time.monotonic() - started
            if waited >= timeout_s:
                raise NotCaughtUp(self.name, position, self.position(), waited)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def reading(self) -> Reading:
        position = self.position()
        head = self.head()
        behind = self.app.recorder.select_notifications(
            start=position + 1, limit=self.batch_size, topics=self.topics
        )
        return Reading(self.name, position, head, len(behind))

    def run(self, stop: threading.Event, wake: threading.Event, *, idle_wait_s: float) -> None:
        """Apply until `stop` is set: wake on `wake` (a save in this process) or every
        `idle_wait_s` (saves by other processes). Store errors are retried, never fatal."""
        backoff = 0.1
        while not stop.is_set():
            wake.clear()  # before reading: a save from now on wakes the next wait
            try:
                if self.run_once():
                    continue
                backoff = 0.1
            except OperationalError as exc:
                log.warning("read model %s: %s; retrying in %.1fs", self.name, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            wake.wait(idle_wait_s)
