"""What the rides read models' queries share: a page with its position, the one `IN` read, and
one keyset page over several equality filters (`merged_page`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kernel.paging import Page, encode_cursor
from kernel.readside.dialect import from_db, to_db

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from kernel.paging import PageRequest
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


def merged_page(
    view: TableView,
    table: str,
    request: PageRequest,
    *,
    wheres: Sequence[Mapping[str, Any]],
    order_by: Sequence[str],
    to_item: Callable[[Row], T],
    ranges: Mapping[str, tuple[Any, Any]] | None = None,
) -> Page[T]:
    """One keyset page of the rows matching any one of `wheres` (equality filters, such as one
    per ride state), in `order_by` order (which ends in a unique key).

    Each filter is read on its own index, strictly after the cursor and one row more than
    asked, and the reads are merged: the page is exactly what one `WHERE a OR b` query ordered
    the same way would give, with `TableView.select`'s public pieces only, and each read is
    bounded by the page size, never by the table.
    """
    found: list[Row] = []
    for where in wheres:
        found += view.select(
            table,
            where=where,
            ranges=ranges,
            order_by=order_by,
            after=request.after,
            limit=request.first + 1,
        )
    found.sort(key=lambda r: tuple(r[c] for c in order_by))
    shown = found[: request.first]
    return Page(
        items=[to_item(r) for r in shown],
        cursors=[encode_cursor([r[c] for c in order_by]) for r in shown],
        has_next=len(found) > request.first,
    )
