"""Recording many processed messages in one transaction, each with its own tracking record.

The library's `process_event` records one message's new events with one tracking record in one
transaction: one commit, so one fsync, per message. A consumer catching up (a season's ledger)
then runs at the speed of the disk's flushes. `record_batch` writes several messages' events,
tracking records and read-model rows in one transaction, on the same store and with the
library's own statements (the recorder's `_insert_events` and `_insert_tracking`), so each
message's effect is still recorded atomically with its position, and a crash anywhere before
the commit leaves none of the batch behind: every message is redelivered and applied once.

Only the stores a crash can outlive (SQLite, PostgreSQL) write in one transaction; the
in-memory store (unit tests) records message after message through the library's own path.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification, OperationalError, Recording

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from contextlib import AbstractContextManager
    from uuid import UUID

    from eventsourcing.application import Application, ProcessingEvent
    from eventsourcing.persistence import StoredEvent

    from kernel.readside.tables import Op
    from kernel.readside.view import TableView


@dataclass
class Processed:
    """One message processed by a policy, waiting to be recorded: its new events and tracking
    (the processing event), and rows for read models that follow the same message."""

    processing: ProcessingEvent[UUID]
    views: Sequence[tuple[TableView, Sequence[Op]]] = field(default_factory=tuple)
    # Its events as stored, when encoded already (under the message's own correlation).
    stored: Sequence[StoredEvent] | None = None


def is_durable(app: Application[Any]) -> bool:
    """True if the application's store writes batches in one transaction here."""
    from eventsourcing.postgres import PostgresProcessRecorder
    from eventsourcing.sqlite import SQLiteProcessRecorder

    return isinstance(app.recorder, SQLiteProcessRecorder | PostgresProcessRecorder)


def write_transaction(datastore: Any) -> AbstractContextManager[Any]:
    """A write transaction on a library datastore: SQLite's takes the write lock at BEGIN
    (IMMEDIATE), so a transaction that reads first never fails to upgrade."""
    from eventsourcing.sqlite import SQLiteDatastore

    if isinstance(datastore, SQLiteDatastore):
        return _sqlite_write(datastore)
    found: AbstractContextManager[Any] = datastore.transaction(commit=True)
    return found


@contextlib.contextmanager
def _sqlite_write(datastore: Any) -> Iterator[Any]:
    with datastore.get_connection(commit=True) as conn:
        cursor = conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            conn.commit()
        except sqlite3.OperationalError as exc:
            conn.rollback()
            raise OperationalError(exc) from exc
        except sqlite3.IntegrityError as exc:
            from eventsourcing.persistence import IntegrityError

            conn.rollback()
            raise IntegrityError(exc) from exc
        except BaseException:
            conn.rollback()
            raise
        finally:
            cursor.sqlite_cursor.close()


def record_batch(
    app: Application[Any],
    batch: Sequence[Processed],
    *,
    after_each: Callable[[int], None] | None = None,
    before_commit: Callable[[Any], None] | None = None,
) -> list[Recording[UUID]]:
    """Record every message of `batch` in one transaction and return the recordings.

    `after_each(n)` is called inside the transaction after the n-th message's writes (fault
    injection: dying there must leave nothing). Raises the library's `IntegrityError` (and
    writes nothing) if any message was recorded meanwhile or any aggregate moved on.
    `before_commit(cursor)` writes more in the same transaction (kernel.readside.inline).
    """
    recorder: Any = app.recorder
    to_stored = app.mapper.to_stored_event
    recordings: list[Recording[UUID]] = []
    with write_transaction(recorder.datastore) as c:
        for n, processed in enumerate(batch, start=1):
            pe = processed.processing
            stored = (
                list(processed.stored)
                if processed.stored is not None
                else [to_stored(e) for e in pe.events]
            )
            ids = _insert(recorder, c, stored) if stored else []
            if pe.tracking is not None:
                recorder._insert_tracking(c, pe.tracking)
                for view, ops in processed.views:
                    view.apply_in(c, ops, pe.tracking)
            recordings += [
                Recording(
                    d,
                    Notification(
                        id=i,
                        originator_id=s.originator_id,
                        originator_version=s.originator_version,
                        topic=s.topic,
                        state=s.state,
                    ),
                )
                for d, s, i in zip(pe.events, stored, ids, strict=True)
            ]
            if after_each is not None:
                after_each(n)
        if before_commit is not None:
            before_commit(c)
    return recordings


def _insert(recorder: Any, c: Any, stored: list[StoredEvent]) -> list[int]:
    """Insert stored events with the recorder's own statements; their notification ids."""
    from eventsourcing.sqlite import SQLiteProcessRecorder

    if isinstance(recorder, SQLiteProcessRecorder):
        return list(recorder._insert_events(c, stored) or [])
    # PostgreSQL: locks the events table (so ids are issued in commit order), notifies, inserts
    # returning the ids; the lock is held to the batch's commit.
    recorder._insert_stored_events(c, stored)
    return list(recorder._fetch_ids_after_insert_events(c, stored) or [])
