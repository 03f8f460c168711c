"""Rebuild a read model from scratch while the service keeps running.

The tables of the next generation are made empty, filled from the application's whole log in
batches (each batch and its position in one transaction, as a runner does), and once they have
caught up with the log the `rm_generations` row is switched to them in one transaction. Readers
follow the switch within `TableView.generation_ttl_s`; live runners follow it at their next
batch (they read the generation inside their write transaction) and go on from the new
generation's own position, so nothing that was saved meanwhile is lost. The old generation's
tables are dropped after the switch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Tracking

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from kernel.readside.projection import ReadModel
    from kernel.readside.tables import Op

# (position reached in the log, the log's head when the rebuild started): the log's own
# positions, because counting the events a read model takes would mean reading the log twice.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rebuilt:
    name: str
    generation: int
    previous: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def rebuild(
    app: Application[Any],
    model: ReadModel,
    *,
    batch_size: int = 2000,
    progress: Progress | None = None,
    keep_previous: bool = False,
) -> Rebuilt:
    """Fill a new generation of `model`'s tables from `app`'s log, then switch readers to it."""
    view = model.view
    topics = list(model.event_topics())
    previous = view.generation
    generation = previous + 1
    view.drop_tables(generation)  # a rebuild that died half-way leaves tables behind
    with view.transaction() as c:
        view.create_tables(c, generation)
    head = app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    done = position = 0
    while True:
        notifications = app.recorder.select_notifications(
            start=position + 1, limit=batch_size, topics=topics
        )
        if not notifications:
            break
        ops: list[Op] = []
        for notification in notifications:
            ops.extend(model.rows(app.mapper.to_domain_event(notification)))
        last = notifications[-1].id
        view.apply(
            ops,
            Tracking(app.name, last),
            expected=position or None,
            in_order=True,
            generation=generation,
        )
        position = last
        done += len(notifications)
        if progress is not None:
            progress(position, max(head, position))
    if progress is not None:
        progress(max(head, position), max(head, position))
    seconds = time.perf_counter() - started
    with view.transaction() as c:
        view.switch_generation(c, generation)
    view.refresh_generation()
    if not keep_previous:
        # Readers elsewhere trust the generation they read for `generation_ttl_s`: let them
        # move over before the old tables go.
        time.sleep(2 * view.generation_ttl_s)
        view.drop_tables(previous)
    return Rebuilt(model.name, generation, previous, done, seconds)
