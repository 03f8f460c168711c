"""What the rides read models' queries share: a page with its position, and the one `IN` read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kernel.readside.dialect import from_db, to_db

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kernel.paging import Page
    from kernel.readside import Row, TableView

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list and the position of the log its read model had applied (`asOf`)."""

    page: Page[T]
    as_of: str


def rows_with(view: TableView, table: str, column: str, values: Sequence[Any]) -> list[Row]:
    """The rows whose `column` is one of `values`, in one read (a DataLoader's batch).

    `TableView.select` filters by equality and ranges only; this is the one `IN` query the
    rides read side needs, written against the view's public pieces (its dialect, schema,
    table name and datastore) until the kernel's view grows one.
    """
    if not values:
        return []
    spec = view.tables[table]
    q, p = view.dialect.quote, view.dialect.param
    name = q(view.table_name(table))
    if view.schema:
        name = f"{q(view.schema)}.{name}"
    marks = ", ".join([p] * len(values))
    params = [to_db(spec.column(column), v) for v in values]
    with view.datastore.transaction(commit=False) as c:
        c.execute(f"SELECT * FROM {name} WHERE {q(column)} IN ({marks})", params)  # noqa: S608
        fetched = c.fetchall()
    return [{col.name: from_db(col, r[col.name]) for col in spec.columns} for r in fetched]
