"""Read models kept in the save's own transaction, on SQLite.

A command that decides on a read model (dispatch reads the drivers table) catches it up first,
and each catch-up that finds the command's own events is one more commit, so one more fsync:
a ride's four commands made seven commits where the library alone makes four. On SQLite every
writer holds the database's one write lock from BEGIN IMMEDIATE to its commit, so a save can
bring its service's read models up to date inside its own transaction: no runner can move a
position meanwhile, and the rows, the positions and the events commit together or not at all.

It is a shortcut, never a dependency: a read model that is far behind (more than one batch) or
whose `rows` fails is left to its runner (the failure is logged and rolled back to a savepoint,
the save itself goes on), and the runners and `catch_up` work exactly as before. PostgreSQL
keeps the runners alone: there, positions can move under a save in other processes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification, Tracking

from kernel.readside.compaction import compact

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from kernel.readside.runner import ProjectionRunner
    from kernel.readside.tables import Op

log = logging.getLogger(__name__)

# A read model further behind than this is left to its runner: a save must stay short.
MOST_BEHIND = 200


def catch_up_in(
    c: Any, app: Application[Any], runners: list[ProjectionRunner], saved: set[str]
) -> None:
    """Inside a SQLite write transaction holding the write lock: apply what each read model
    that takes one of the `saved` topics has not applied yet, this transaction's events
    included (the others are left to their runners: a save pays only for what it changes)."""
    runners = [r for r in runners if saved.intersection(r.topics)]
    if not runners:
        return
    c.execute("SAVEPOINT muni_read_models")
    try:
        for runner in runners:
            _catch_up(c, app, runner)
    except Exception:
        log.exception("read models not kept in the save's transaction; their runners will")
        c.execute("ROLLBACK TO SAVEPOINT muni_read_models")
    c.execute("RELEASE SAVEPOINT muni_read_models")


def _catch_up(c: Any, app: Application[Any], runner: ProjectionRunner) -> None:
    view = runner.view
    # The write lock is held since BEGIN IMMEDIATE: a rebuild's switch cannot come between.
    generation = view._read_generation(c)
    start = view._position(c, app.name, generation) or 0
    topics = runner.topics
    if not topics:
        return
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    marks = ",".join("?" * len(topics))
    c.execute(
        f"SELECT rowid, * FROM {table} WHERE rowid > ? AND topic IN ({marks}) "  # noqa: S608
        "ORDER BY rowid LIMIT ?",
        [start, *topics, MOST_BEHIND + 1],
    )
    fetched = c.fetchall()
    if not fetched or len(fetched) > MOST_BEHIND:
        return
    ops: list[Op] = []
    for row in fetched:
        notification = Notification(
            id=row["rowid"],
            originator_id=app.recorder.convert_originator_id(row["originator_id"]),  # type: ignore[attr-defined]
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=row["state"],
        )
        ops.extend(runner.model.rows(app.mapper.to_domain_event(notification)))
    last = int(fetched[-1]["rowid"])
    view._advance(c, Tracking(app.name, last), start or None, in_order=True, generation=generation)
    view._write_all(c, compact(ops, view.tables), generation)
    runner.applied += len(fetched)
