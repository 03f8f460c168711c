"""What a read model's rows look like, and the row operations a projection returns.

A projection declares its tables (`Table`, `Column`) and turns each event into a list of
operations (`Upsert`, `Update`, `Delete`, `Add`). It never writes SQL: the view (`TableView`)
applies the operations and the tracking position in one transaction, on SQLite (a file, or in
memory for unit tests) and PostgreSQL alike.

Column kinds, and how they are kept (so both databases sort and sum them the same way):

    text       TEXT
    int        BIGINT
    float      DOUBLE PRECISION / REAL (coordinates; never money)
    bool       BOOLEAN / INTEGER 0-1
    decimal    BIGINT in units of 10**-scale: exact, summable in SQL, refused if finer than scale
    timestamp  TEXT, ISO 8601 in UTC with microseconds (sorts as time)
    json       TEXT holding JSON
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

Kind = Literal["text", "int", "float", "bool", "decimal", "timestamp", "json"]
Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    nullable: bool = True
    scale: int = 2  # for decimal columns: digits kept after the point

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"column name {self.name!r} must be a lower-case identifier")


@dataclass(frozen=True)
class Table:
    """A read-model table. `key` is its primary key; `indexes` serve its queries."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: a column is declared twice")
        for cols in (self.key, *self.indexes):
            missing = set(cols) - set(names)
            if missing:
                raise ValueError(f"table {self.name}: unknown columns {sorted(missing)}")
        # Looked up for every value written and read: a dict, not a scan.
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        try:
            found: Column = self._by_name[name]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"table {self.name} has no column {name!r}") from None
        return found

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Upsert:
    """Insert the row, or replace the columns given if a row with its key exists."""

    table: str
    row: Mapping[str, Any]


@dataclass(frozen=True)
class Update:
    """Change some columns of the row with this key (nothing if there is no such row)."""

    table: str
    key: Mapping[str, Any]
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class Delete:
    table: str
    key: Mapping[str, Any]


@dataclass(frozen=True)
class Add:
    """Add `amounts` to numeric columns of the row with this key, creating it from `defaults`
    (plus the key and zeros) if it does not exist. Exact for decimal columns."""

    table: str
    key: Mapping[str, Any]
    amounts: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)


Op = Upsert | Update | Delete | Add
