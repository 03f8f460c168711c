"""The two SQL dialects a read model is kept in: SQLite (embedded, and in memory for unit tests)
and PostgreSQL (at scale). Only what differs between them lives here."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernel.readside.tables import Column


class ValueOutOfScale(ValueError):
    """A decimal has more digits after the point than its column keeps."""


@dataclass(frozen=True)
class Dialect:
    name: str
    param: str  # placeholder for one parameter
    types: dict[str, str]

    def quote(self, identifier: str) -> str:
        return _quote(identifier)

    def column_type(self, column: Column) -> str:
        null = "" if column.nullable else " NOT NULL"
        return f"{self.types[column.kind]}{null}"


@functools.lru_cache(maxsize=4096)
def _quote(identifier: str) -> str:
    """A declared name, checked and quoted (names come from code, never from input)."""
    if not identifier.replace("_", "").isalnum():
        raise ValueError(f"not a safe SQL identifier: {identifier!r}")
    return f'"{identifier}"'


SQLITE = Dialect(
    "sqlite",
    "?",
    {
        "text": "TEXT",
        "int": "INTEGER",
        "float": "REAL",
        "bool": "INTEGER",
        "decimal": "INTEGER",
        "timestamp": "TEXT",
        "json": "TEXT",
    },
)
POSTGRES = Dialect(
    "postgres",
    "%s",
    {
        "text": "TEXT",
        "int": "BIGINT",
        "float": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "decimal": "BIGINT",
        "timestamp": "TEXT",
        "json": "TEXT",
    },
)


def to_db(column: Column, value: Any) -> Any:
    """A Python value as the column keeps it."""
    if value is None:
        return None
    kind = column.kind
    if kind == "decimal":
        units = Decimal(value).scaleb(column.scale)
        if units != units.to_integral_value():
            raise ValueOutOfScale(
                f"{column.name}: {value} has more than {column.scale} digits after the point"
            )
        return int(units)
    if kind == "timestamp":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{column.name}: expected an aware datetime, got {value!r}")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind == "json":
        return json.dumps(value, sort_keys=True, default=str)
    if kind == "bool":
        return bool(value)
    if kind == "text":
        return str(value)
    return value


def from_db(column: Column, value: Any) -> Any:
    """A kept value back as the Python value the projection wrote."""
    if value is None:
        return None
    kind = column.kind
    if kind == "decimal":
        return Decimal(int(value)).scaleb(-column.scale)
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    if kind == "json":
        return json.loads(value)
    if kind == "bool":
        return bool(value)
    return value
