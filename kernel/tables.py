"""Small SQL tables the kernel keeps beside a service's event store (the vault, the audit log).

One `Database` is SQLite (a file, or memory when persistence is "popo") or a PostgreSQL schema.
Statements are written once with `%s` placeholders (psycopg's style); SQLite gets `?`. Rows come
back as tuples from both.

These tables are mutable on purpose: they hold what an event must not (personal data, keys) or
what is not a fact of the domain (audit lines), so they are not event-sourced.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from eventsourcing.postgres import PostgresDatastore

    from kernel.config import PostgresDsn

Dialect = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    @property
    def rowcount(self) -> int: ...


class Database(ABC):
    """A transaction at a time over a few tables; `table(name)` gives the name to use in SQL."""

    dialect: ClassVar[Dialect]

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """A cursor in a transaction, committed when the block ends without an exception."""

    def creating_tables(self) -> contextlib.AbstractContextManager[Cursor]:
        """A transaction for `CREATE ... IF NOT EXISTS`, serialised with other processes' ones."""
        return self.transaction()

    @abstractmethod
    def table(self, name: str) -> str: ...

    @abstractmethod
    def close(self) -> None: ...


class _SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[object] = ()) -> _SQLiteCursor:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._cursor.fetchone()
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SQLiteDatabase(Database):
    """One SQLite connection, serialised by a lock (these tables see small, rare writes).

    With `secure_delete`, deleted rows are overwritten with zeros and the journal is a rollback
    journal, deleted at each commit: a destroyed key then survives nowhere in the files. (In WAL
    mode, which the event store uses, a deleted row's old page stays in the -wal file until it
    happens to be overwritten; that is why the vault is not a table in the store's file.)
    """

    dialect = "sqlite"

    def __init__(self, path: Path | None, *, secure_delete: bool = False) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path),
            check_same_thread=False,
            isolation_level=None,  # explicit BEGIN/COMMIT below
            timeout=10,
        )
        if secure_delete:
            self._conn.execute("PRAGMA secure_delete = ON")
            if path is not None:
                self._conn.execute("PRAGMA journal_mode = DELETE")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteCursor(cursor)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def table(self, name: str) -> str:
        return f'"{name}"'

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _TupleCursor:
    """psycopg's cursor as eventsourcing's datastore configures it (dict rows), giving tuples."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[object] = ()) -> _TupleCursor:
        self._cursor.execute(sql, tuple(params))
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row.values())

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class PostgresDatabase(Database):
    """Tables in one PostgreSQL schema, through eventsourcing's connection pool."""

    dialect = "postgres"

    def __init__(self, dsn: PostgresDsn, schema: str) -> None:
        from eventsourcing.postgres import PostgresDatastore  # only needed at scale

        from kernel.eventstore import ensure_postgres_schema

        ensure_postgres_schema(dsn.conninfo(), schema)
        self.schema = schema
        self._datastore: PostgresDatastore = PostgresDatastore(
            dsn.dbname,
            dsn.host,
            dsn.port,
            dsn.user,
            dsn.password.get_secret_value(),
            schema=schema,
            pool_size=1,
            max_overflow=4,
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=True) as cursor:
            yield _TupleCursor(cursor)

    @contextlib.contextmanager
    def creating_tables(self) -> Iterator[Cursor]:
        # PostgreSQL's IF NOT EXISTS is not safe when two processes (a gateway and a worker
        # starting together) create the same table at once: both miss it in the catalog and
        # one fails on pg_type's unique index. A lock per schema, held to commit, orders them.
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.schema,))
            yield cursor

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def close(self) -> None:
        self._datastore.close()
