"""Keyset paging over read-model tables: page requests, opaque cursors, pages.

A list is ordered by columns that end in a unique key (`("requested_at", "ride_id")`). A cursor is
the ordering values of a page's last row, so the next page starts strictly after it: rows added
while a client pages never make it skip or repeat a row (they land on a later page, or before the
first). Cursors are opaque to clients (base64 of JSON) and checked when they come back.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from kernel.readside import Row, TableView

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class InvalidPage(ValueError):
    """`first` out of range, or an `after` cursor that is not one of this list's."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[Any, ...] | None


def page_request(first: int | None, after: str | None, *, arity: int) -> PageRequest:
    """Validate a client's `first` and `after` for a list ordered by `arity` columns."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidPage("first", f"ask for 1 to {MAX_PAGE_SIZE} rows, got {size}")
    return PageRequest(size, None if after is None else decode_cursor(after, arity=arity))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _hook(obj: dict[str, Any]) -> Any:
    if set(obj) == {"t"}:
        return datetime.fromisoformat(obj["t"])
    if set(obj) == {"d"}:
        return Decimal(obj["d"])
    return obj


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()), object_hook=_hook)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidPage("after", "is not a cursor from this list") from None
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidPage("after", "is not a cursor from this list")
    return tuple(values)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: the items, each item's cursor, and whether more follow."""

    items: list[T]
    cursors: list[str]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def fetch_page(
    view: TableView,
    table: str,
    request: PageRequest,
    *,
    order_by: Sequence[str],
    to_item: Callable[[Row], T],
    where: Mapping[str, Any] | None = None,
    descending: bool = False,
) -> Page[T]:
    """Read one page (one row more than asked, to know if another page follows)."""
    rows = view.select(
        table,
        where=where,
        order_by=order_by,
        descending=descending,
        after=request.after,
        limit=request.first + 1,
    )
    shown = rows[: request.first]
    return Page(
        items=[to_item(r) for r in shown],
        cursors=[encode_cursor([r[c] for c in order_by]) for r in shown],
        has_next=len(rows) > request.first,
    )
