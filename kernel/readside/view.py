"""`TableView`: a read model's tables and its tracking position, in the service's own database.

It is the library's `TrackingRecorder` (so `max_tracking_id`, `has_tracking_id` and `wait` mean
what they mean in eventsourcing), kept in tables next to the service's event store: the same
SQLite file embedded, the same PostgreSQL schema at scale, an in-memory SQLite database for unit
tests. Every `apply` writes a batch of row operations and the new tracking position in one
transaction, so a crash, a redelivery or two runners at once never apply an event twice or skip
one:

- following a log in order (`expected=` the position the batch was read after), the position
  moves only from exactly that value: a second runner that read the same batch finds it moved,
  and its whole transaction is rolled back (`PositionMoved`);
- following positions that only grow (`expected=None`, consumed events tracked per source
  aggregate), a position not past the recorded one is refused the same way.

Tables belong to a generation. `muni rebuild` fills generation N+1 from the store while N serves,
then switches the `rm_generations` row; views and runners follow the switch (`kernel.readside.
rebuild`). Table names are `rm_<projection>_g<N>_<table>`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError, OperationalError, TrackingRecorder

from kernel.readside.compaction import compact
from kernel.readside.dialect import POSTGRES, SQLITE, Dialect, from_db, to_db
from kernel.readside.tables import Add, Delete, Table, Update, Upsert

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from contextlib import AbstractContextManager

    from eventsourcing.persistence import Tracking

    from kernel.readside.tables import Op, Row

GENERATIONS = "rm_generations"
log = logging.getLogger(__name__)


def _integrity_errors() -> tuple[type[BaseException], ...]:
    """The unique-violation errors a raw cursor raises inside a transaction, per driver."""
    import sqlite3

    found: list[type[BaseException]] = [IntegrityError, sqlite3.IntegrityError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover (psycopg is installed with eventsourcing[postgres])
        pass
    else:
        found.append(psycopg.IntegrityError)
    return tuple(found)


INTEGRITY_ERRORS = _integrity_errors()


class PositionMoved(IntegrityError):
    """Another runner recorded this projection's position first; nothing was written."""


class TableView(TrackingRecorder):
    """One projection's tables and tracking, on a datastore of the eventsourcing library."""

    # How long a reader trusts the generation it last read (a rebuild's switch reaches readers
    # in other processes within this time; writers always read it inside their transaction).
    generation_ttl_s = 1.0

    def __init__(self, datastore: Any, projection: str, tables: Sequence[Table]) -> None:
        from eventsourcing.sqlite import SQLiteDatastore

        self.datastore = datastore
        is_sqlite = isinstance(datastore, SQLiteDatastore)
        self.dialect: Dialect = SQLITE if is_sqlite else POSTGRES
        self.schema = "" if is_sqlite else str(datastore.schema)
        self.projection = projection
        self.tables = {t.name: t for t in tables}
        self._lock = threading.Lock()
        self._statements: dict[tuple[Any, ...], str] = {}
        self._generation = 0
        self._generation_read_at = 0.0
        # Fault injection for crash tests: exit the process after writing a batch's rows and
        # position, before the transaction commits (the worst moment to die).
        self._die_before_commit = os.environ.get("MUNI_FAULT_EXIT_BEFORE_VIEW_COMMIT") == projection
        self.create_table()

    # -- names ----------------------------------------------------------------------------------
    def _q(self, name: str) -> str:
        quoted = self.dialect.quote(name)
        return f"{self.dialect.quote(self.schema)}.{quoted}" if self.schema else quoted

    def table_name(self, table: str, generation: int | None = None) -> str:
        gen = self.generation if generation is None else generation
        return f"rm_{self.projection}_g{gen}_{table}".lower()

    def tracking_name(self, generation: int | None = None) -> str:
        gen = self.generation if generation is None else generation
        return f"rm_{self.projection}_g{gen}_tracking".lower()

    # -- schema ---------------------------------------------------------------------------------
    def create_table(self) -> None:
        """Create the generations table and the current generation's tables if missing."""
        p = self.dialect.param
        with self._transaction() as c:
            if self.dialect is POSTGRES:
                # Processes starting together would race on CREATE TABLE IF NOT EXISTS (a
                # unique violation on pg_type): one at a time per schema.
                c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"rm:{self.schema}",))
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self._q(GENERATIONS)} "
                "(projection TEXT PRIMARY KEY, generation INTEGER NOT NULL)"
            )
            c.execute(
                f"INSERT INTO {self._q(GENERATIONS)} VALUES ({p}, 1) "
                "ON CONFLICT (projection) DO NOTHING",
                (self.projection,),
            )
            generation = self._read_generation(c)
            self.create_tables(c, generation)
        self._set_generation(generation)

    def create_tables(self, c: Any, generation: int) -> None:
        for table in self.tables.values():
            cols = ", ".join(
                f"{self.dialect.quote(col.name)} {self.dialect.column_type(col)}"
                for col in table.columns
            )
            key = ", ".join(self.dialect.quote(k) for k in table.key)
            name = self.table_name(table.name, generation)
            c.execute(f"CREATE TABLE IF NOT EXISTS {self._q(name)} ({cols}, PRIMARY KEY ({key}))")
            for i, columns in enumerate(table.indexes):
                index = self.dialect.quote(f"{name}_i{i}")
                on = ", ".join(self.dialect.quote(col) for col in columns)
                c.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self._q(name)} ({on})")
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {self._q(self.tracking_name(generation))} "
            "(application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)"
        )

    def drop_tables(self, generation: int) -> None:
        with self._transaction() as c:
            for table in self.tables.values():
                c.execute(
                    f"DROP TABLE IF EXISTS {self._q(self.table_name(table.name, generation))}"
                )
            c.execute(f"DROP TABLE IF EXISTS {self._q(self.tracking_name(generation))}")

    # -- generations ----------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        if time.monotonic() - self._generation_read_at > self.generation_ttl_s:
            with self._transaction(commit=False) as c:
                self._set_generation(self._read_generation(c))
        return self._generation

    def refresh_generation(self) -> int:
        """Read the current generation now (after a switch in this process)."""
        with self._transaction(commit=False) as c:
            self._set_generation(self._read_generation(c))
        return self._generation

    def _lock_generation(self, c: Any) -> None:
        """Take the write lock first. SQLite must start a writing transaction with a write (a
        deferred transaction that reads first cannot upgrade once another writer committed);
        PostgreSQL then holds this row, so a rebuild's switch waits for the batch in flight."""
        p = self.dialect.param
        c.execute(
            f"UPDATE {self._q(GENERATIONS)} SET generation = generation WHERE projection = {p}",
            (self.projection,),
        )

    def _read_generation(self, c: Any) -> int:
        p = self.dialect.param
        c.execute(
            f"SELECT generation FROM {self._q(GENERATIONS)} WHERE projection = {p}",
            (self.projection,),
        )
        row = c.fetchone()
        return int(row["generation"]) if row else 1

    def _set_generation(self, generation: int) -> None:
        self._generation = generation
        self._generation_read_at = time.monotonic()

    def switch_generation(self, c: Any, generation: int) -> None:
        p = self.dialect.param
        c.execute(
            f"UPDATE {self._q(GENERATIONS)} SET generation = {p} WHERE projection = {p}",
            (generation, self.projection),
        )

    # -- the library's TrackingRecorder ---------------------------------------------------------
    def insert_tracking(self, tracking: Tracking) -> None:
        self.apply([], tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        # Read the generation with the position: a runner must never compare a position of one
        # generation with the tracking of another.
        with self._transaction(commit=False) as c:
            return self._position(c, application_name, self._read_generation(c))

    def _position(self, c: Any, application_name: str, generation: int) -> int | None:
        c.execute(
            f"SELECT notification_id FROM {self._q(self.tracking_name(generation))} "
            f"WHERE application_name = {self.dialect.param}",
            (application_name,),
        )
        row = c.fetchone()
        return None if row is None else int(row["notification_id"])

    # -- writing --------------------------------------------------------------------------------
    def apply(
        self,
        ops: Sequence[Op],
        tracking: Tracking,
        *,
        expected: int | None = None,
        in_order: bool = False,
        generation: int | None = None,
    ) -> None:
        """Write `ops` and move the position to `tracking`, atomically.

        `in_order=True` (a runner following a log) moves the position only from `expected`;
        otherwise it must grow. Raises `PositionMoved` (and writes nothing) if it cannot.
        `generation` writes a generation other than the current one (a rebuild).
        """
        with self._transaction() as c:
            self.apply_in(
                c, ops, tracking, expected=expected, in_order=in_order, generation=generation
            )
            if self._die_before_commit and ops:
                log.error("fault injection: %s exits before committing its rows", self.projection)
                os._exit(137)

    def apply_in(
        self,
        c: Any,
        ops: Sequence[Op],
        tracking: Tracking,
        *,
        expected: int | None = None,
        in_order: bool = False,
        generation: int | None = None,
    ) -> None:
        """`apply` inside a write transaction the caller holds on the view's datastore (a
        consumer recording a batch of messages with their effects in one transaction)."""
        self._lock_generation(c)
        gen = self._read_generation(c) if generation is None else generation
        if generation is None:
            self._set_generation(gen)
        self._advance(c, tracking, expected, in_order=in_order, generation=gen)
        self._write_all(c, compact(ops, self.tables), gen)

    def _advance(
        self, c: Any, tracking: Tracking, expected: int | None, *, in_order: bool, generation: int
    ) -> None:
        p = self.dialect.param
        table = self._q(self.tracking_name(generation))
        name, to = tracking.application_name, tracking.notification_id
        if in_order and expected is None:
            try:
                c.execute(f"INSERT INTO {table} VALUES ({p}, {p})", (name, to))
            except INTEGRITY_ERRORS:
                raise PositionMoved(
                    f"{self.projection}: {name} was started by another runner"
                ) from None
            return
        if in_order:
            c.execute(
                f"UPDATE {table} SET notification_id = {p} "
                f"WHERE application_name = {p} AND notification_id = {p}",
                (to, name, expected),
            )
        else:
            c.execute(
                f"INSERT INTO {table} VALUES ({p}, {p}) ON CONFLICT (application_name) "
                f"DO UPDATE SET notification_id = {p} WHERE {table}.notification_id < {p}",
                (name, to, to, to),
            )
        if _rowcount(c) != 1:
            raise PositionMoved(f"{self.projection}: {name} is already past {expected or to}")

    def _write_all(self, c: Any, ops: Sequence[Op], generation: int) -> None:
        """Write ops in order; runs of ops with the same statement go in one `executemany`
        (a rebuild's batch is thousands of rows of the same shape)."""
        sql: str | None = None
        run: list[list[Any]] = []
        for op in ops:
            statement = self._statement(op, generation)
            if statement is None:
                continue
            if statement[0] != sql:
                if run:
                    c.executemany(sql, run)
                sql, run = statement[0], []
            run.append(statement[1])
        if run:
            c.executemany(sql, run)

    def _statement(self, op: Op, generation: int) -> tuple[str, list[Any]] | None:
        """The SQL and parameters of one row operation (None if it changes nothing)."""
        table = self.tables[op.table]
        if isinstance(op, Upsert):
            cols = tuple(op.row)
            return (
                self._sql("upsert", table, cols, generation),
                [to_db(table.column(k), op.row[k]) for k in cols],
            )
        if isinstance(op, Update):
            if not op.changes:
                return None
            changes, keys = tuple(op.changes), tuple(op.key)
            return (
                self._sql("update", table, (changes, keys), generation),
                [
                    *(to_db(table.column(k), v) for k, v in op.changes.items()),
                    *(to_db(table.column(k), v) for k, v in op.key.items()),
                ],
            )
        if isinstance(op, Delete):
            keys = tuple(op.key)
            return (
                self._sql("delete", table, keys, generation),
                [to_db(table.column(k), v) for k, v in op.key.items()],
            )
        if isinstance(op, Add):
            row = {**op.defaults, **op.key}
            for col in op.amounts:
                row.setdefault(col, 0)
            row.update({k: v for k, v in op.amounts.items()})
            cols = tuple(row)
            return (
                self._sql("add", table, (cols, tuple(op.amounts)), generation),
                [to_db(table.column(k), row[k]) for k in cols],
            )
        raise TypeError(f"unknown row operation {op!r}")  # pragma: no cover (Op is closed)

    def _sql(self, kind: str, table: Table, shape: Any, generation: int) -> str:
        """A row operation's statement, made once per table, shape and generation."""
        cache_key = (kind, table.name, shape, generation)
        found = self._statements.get(cache_key)
        if found is not None:
            return found
        name = self._q(self.table_name(table.name, generation))
        p, q = self.dialect.param, self.dialect.quote
        if kind == "upsert":
            updates = [k for k in shape if k not in table.key]
            conflict = (
                "DO UPDATE SET " + ", ".join(f"{q(k)} = excluded.{q(k)}" for k in updates)
                if updates
                else "DO NOTHING"
            )
            sql = (
                f"INSERT INTO {name} ({', '.join(q(k) for k in shape)}) "
                f"VALUES ({', '.join([p] * len(shape))}) "
                f"ON CONFLICT ({', '.join(q(k) for k in table.key)}) {conflict}"
            )
        elif kind == "update":
            changes, keys = shape
            sets = ", ".join(f"{q(k)} = {p}" for k in changes)
            sql = f"UPDATE {name} SET {sets} WHERE {self._where_sql(keys)}"
        elif kind == "delete":
            sql = f"DELETE FROM {name} WHERE {self._where_sql(shape)}"
        else:
            cols, amounts = shape
            sets = ", ".join(f"{q(k)} = {name}.{q(k)} + excluded.{q(k)}" for k in amounts)
            sql = (
                f"INSERT INTO {name} ({', '.join(q(k) for k in cols)}) "
                f"VALUES ({', '.join([p] * len(cols))}) "
                f"ON CONFLICT ({', '.join(q(k) for k in table.key)}) DO UPDATE SET {sets}"
            )
        self._statements[cache_key] = sql
        return sql

    def _where_sql(self, keys: Sequence[str]) -> str:
        p = self.dialect.param
        return " AND ".join(f"{self.dialect.quote(k)} = {p}" for k in keys) or "1 = 1"

    def _where(self, table: Table, key: Mapping[str, Any]) -> tuple[str, list[Any]]:
        p = self.dialect.param
        clauses = [f"{self.dialect.quote(k)} = {p}" for k in key]
        return " AND ".join(clauses) or "1 = 1", [to_db(table.column(k), v) for k, v in key.items()]

    # -- reading --------------------------------------------------------------------------------
    def get(self, table: str, key: Mapping[str, Any]) -> Row | None:
        rows = self.select(table, where=key, limit=1)
        return rows[0] if rows else None

    def select(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        ranges: Mapping[str, tuple[Any, Any]] | None = None,
        order_by: Sequence[str] = (),
        descending: bool = False,
        after: Sequence[Any] | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        """Rows matching `where` (equality) and `ranges` (inclusive), in `order_by` order,
        strictly after the row whose `order_by` values are `after` (keyset paging)."""
        spec = self.tables[table]
        p, q = self.dialect.param, self.dialect.quote
        clauses, params = [], []
        for k, v in (where or {}).items():
            if v is None:
                clauses.append(f"{q(k)} IS NULL")
            else:
                clauses.append(f"{q(k)} = {p}")
                params.append(to_db(spec.column(k), v))
        for k, (lo, hi) in (ranges or {}).items():
            clauses.append(f"{q(k)} BETWEEN {p} AND {p}")
            params += [to_db(spec.column(k), lo), to_db(spec.column(k), hi)]
        if after is not None:
            if len(after) != len(order_by):
                raise ValueError("a cursor must give one value per ordering column")
            cols = ", ".join(q(k) for k in order_by)
            marks = ", ".join([p] * len(after))
            clauses.append(f"({cols}) {'<' if descending else '>'} ({marks})")
            params += [to_db(spec.column(k), v) for k, v in zip(order_by, after, strict=True)]
        return self._read(spec, clauses, params, order_by, descending=descending, limit=limit)

    def _read(
        self,
        spec: Table,
        clauses: list[str],
        params: list[Any],
        order_by: Sequence[str],
        *,
        descending: bool,
        limit: int | None,
        retry: bool = True,
    ) -> list[Row]:
        q = self.dialect.quote
        generation = self.generation
        sql = f"SELECT * FROM {self._q(self.table_name(spec.name, generation))}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by:
            direction = " DESC" if descending else ""
            sql += " ORDER BY " + ", ".join(f"{q(k)}{direction}" for k in order_by)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            with self._transaction(commit=False) as c:
                c.execute(sql, params)
                fetched = c.fetchall()
        except Exception:
            # A rebuild in another process switched generations and dropped the old tables
            # before this reader's cached generation expired: read the generation, try again.
            if not retry or self.refresh_generation() == generation:
                raise
            return self._read(
                spec, clauses, params, order_by, descending=descending, limit=limit, retry=False
            )
        return [self._row(spec, r) for r in fetched]

    def count(self, table: str, *, where: Mapping[str, Any] | None = None) -> int:
        spec = self.tables[table]
        where_sql, params = self._where(spec, where or {})
        with self._transaction(commit=False) as c:
            c.execute(
                f"SELECT COUNT(*) AS n FROM {self._q(self.table_name(table))} WHERE {where_sql}",
                params,
            )
            return int(c.fetchone()["n"])

    def totals(
        self,
        table: str,
        column: str,
        *,
        group_by: Sequence[str],
        where: Mapping[str, Any] | None = None,
    ) -> list[Row]:
        """SUM(column) per group (exact for decimal columns)."""
        spec = self.tables[table]
        q = self.dialect.quote
        where_sql, params = self._where(spec, where or {})
        groups = ", ".join(q(g) for g in group_by)
        with self._transaction(commit=False) as c:
            c.execute(
                f"SELECT {groups}, SUM({q(column)}) AS {q(column)} "
                f"FROM {self._q(self.table_name(table))} WHERE {where_sql} GROUP BY {groups} "
                f"ORDER BY {groups}",
                params,
            )
            fetched = c.fetchall()
        out = []
        for r in fetched:
            row = {g: from_db(spec.column(g), r[g]) for g in group_by}
            row[column] = from_db(spec.column(column), r[column] or 0)
            out.append(row)
        return out

    def sums(
        self,
        table: str,
        columns: Sequence[str],
        *,
        group_by: Sequence[str],
        where: Mapping[str, Any] | None = None,
        ranges: Mapping[str, tuple[Any, Any]] | None = None,
        within: Mapping[str, Sequence[Any]] | None = None,
        weighted: tuple[str, Mapping[str, Mapping[Any, int]]] | None = None,
    ) -> list[Row]:
        """SUM of each of `columns` and COUNT(*) (as `rows`) per group, over the rows matching
        `where` (equality), `ranges` (inclusive) and `within` (IN): one aggregate in SQL, exact
        for decimal columns. Groups come in `group_by` order.

        `weighted=(column, {name: factors})` sums, for each named set of integer factors, each
        row's values times the factor of its `column` value, as `<column>*<name>` (rows whose
        value has no factor count 0 there): several weighted sums in integers from one scan,
        still exact; the caller divides by the factors' scale. On SQLite the factors are a
        keyed temporary table and the ranges filter without an index, so the scan follows an
        index that starts with `group_by` (and, to be covering, holds the columns summed)
        without a sort."""
        spec = self.tables[table]
        p, q = self.dialect.param, self.dialect.quote
        clauses, params = [], []
        for k, v in (where or {}).items():
            clauses.append(f"{q(k)} = {p}")
            params.append(to_db(spec.column(k), v))
        for k, (lo, hi) in (ranges or {}).items():
            # A weighted scan on SQLite leaves the range out of index choice (unary +): the
            # index that orders the groups serves it better than one that finds the range.
            on_range = f"+{q(k)}" if weighted is not None and self.dialect is SQLITE else q(k)
            clauses.append(f"{on_range} BETWEEN {p} AND {p}")
            params += [to_db(spec.column(k), lo), to_db(spec.column(k), hi)]
        for k, values in (within or {}).items():
            if not values:
                return []
            clauses.append(f"{q(k)} IN ({', '.join([p] * len(values))})")
            params += [to_db(spec.column(k), v) for v in values]
        groups = ", ".join(q(g) for g in group_by)
        source = self._q(self.table_name(table))
        sums = [f"SUM({q(c)}) AS {q(c)}" for c in columns]
        names: list[str] = []
        factors: list[tuple[Any, list[int]]] = []
        if weighted is not None:
            on, sets = weighted
            names = list(sets)
            values = sorted({v for f in sets.values() for v in f})
            factors = [
                (to_db(spec.column(on), v), [int(sets[n].get(v, 0)) for n in names]) for v in values
            ]
            sums += [
                f"SUM({q(c)} * f.{q(f'k{i}')}) AS {q(f'{c}_w{i}')}"
                for c in columns
                for i in range(len(names))
            ]
        sql = f"SELECT {groups + ', ' if groups else ''}{', '.join(sums)}, COUNT(*) AS {q('rows')}"
        with self._transaction(commit=False) as c:
            if weighted is not None:
                if not factors:
                    return []
                join, join_params = self._factors_join(c, weighted[0], factors, len(names))
                source += join
                params = [*join_params, *params]
            sql += f" FROM {source}"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            if groups:
                sql += f" GROUP BY {groups} ORDER BY {groups}"
            try:
                c.execute(sql, params)
                fetched = c.fetchall()
            finally:
                if weighted is not None and self.dialect is SQLITE:
                    c.execute(f"DROP TABLE IF EXISTS temp.{q(self._factors_table)}")
        out = []
        for r in fetched:
            row = {g: from_db(spec.column(g), r[g]) for g in group_by}
            for col in columns:
                row[col] = from_db(spec.column(col), r[col] or 0)
                for i, n in enumerate(names):
                    row[f"{col}*{n}"] = from_db(spec.column(col), r[f"{col}_w{i}"] or 0)
            row["rows"] = int(r["rows"])
            out.append(row)
        return out

    # A temporary table lives in its connection only: two weighted sums never share one.
    _factors_table = "muni_weighted_factors"

    def _factors_join(
        self, c: Any, on: str, factors: Sequence[tuple[Any, Sequence[int]]], width: int
    ) -> tuple[str, list[Any]]:
        """The JOIN of a weighted sum and its parameters: a keyed temporary table on SQLite (a
        joined VALUES list is scanned for every row there), a VALUES list on PostgreSQL."""
        q, p = self.dialect.quote, self.dialect.param
        ks = [q(f"k{i}") for i in range(width)]
        row = f"({', '.join([p] * (width + 1))})"
        if self.dialect is SQLITE:
            name = q(self._factors_table)
            c.execute(f"DROP TABLE IF EXISTS temp.{name}")
            columns = ", ".join(f"{k} INTEGER" for k in ks)
            c.execute(f"CREATE TEMP TABLE {name} (v PRIMARY KEY, {columns}) WITHOUT ROWID")
            c.executemany(f"INSERT INTO temp.{name} VALUES {row}", [(v, *k) for v, k in factors])
            # CROSS JOIN: SQLite keeps the table as the outer loop (its group-ordered scan).
            return f" CROSS JOIN temp.{name} AS f ON f.v = {q(on)}", []
        rows = ", ".join(row for _ in factors)
        params = [x for v, k in factors for x in (v, *k)]
        return f" JOIN (VALUES {rows}) AS f (v, {', '.join(ks)}) ON f.v = {q(on)}", params

    def rows_of_generation(self, table: str, generation: int) -> list[Row]:
        """Every row of one generation's table, in key order (rebuild checks, tests)."""
        spec = self.tables[table]
        order = ", ".join(self.dialect.quote(k) for k in spec.key)
        with self._transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self._q(self.table_name(table, generation))} ORDER BY {order}"
            )
            fetched = c.fetchall()
        return [self._row(spec, r) for r in fetched]

    @staticmethod
    def _row(spec: Table, r: Any) -> Row:
        return {col.name: from_db(col, r[col.name]) for col in spec.columns}

    # -- transactions ---------------------------------------------------------------------------
    def _transaction(self, *, commit: bool = True) -> AbstractContextManager[Any]:
        if commit and self.dialect is SQLITE:
            return self._sqlite_write()
        found: AbstractContextManager[Any] = self.datastore.transaction(commit=commit)
        return found

    @contextlib.contextmanager
    def _sqlite_write(self) -> Iterator[Any]:
        """A SQLite write transaction that takes the write lock at BEGIN (IMMEDIATE), waiting
        for it up to the lock timeout: a deferred one that read first could not upgrade once
        another writer had committed, and would fail at once with 'database is locked'."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                conn.commit()
            except sqlite3.OperationalError as exc:
                conn.rollback()
                raise OperationalError(exc) from exc
            except BaseException:
                conn.rollback()
                raise
            finally:
                cursor.sqlite_cursor.close()

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction on the view's datastore (rebuild's switch)."""
        return self._transaction()


def _rowcount(cursor: Any) -> int:
    inner = getattr(cursor, "sqlite_cursor", cursor)
    return int(inner.rowcount)
