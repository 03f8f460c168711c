"""Fold a batch's row operations before they are written: a row inserted and then changed in
the same batch is written once, as it ends up.

A batch (a runner's, and above all a rebuild's) holds many events of the same rows: a ride is
requested, offered, accepted, picked up and dropped off, one `Upsert` and four `Update`s. Rows
with different keys are independent, so each row's operations are folded on their own and the
rows keep the order they first appeared in. Within a row the fold is exact:

- `Upsert` then `Update` or `Upsert`: one `Upsert` with the later values;
- `Upsert` then `Add`: one `Upsert` with the amounts added (Decimal and int arithmetic);
- `Upsert` then `Delete`: the `Delete` (which also clears a row kept from before the batch);
- anything on a row not inserted in this batch is kept as it was, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kernel.readside.tables import Add, Delete, Update, Upsert

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kernel.readside.tables import Op, Table


def compact(ops: Sequence[Op], tables: Mapping[str, Table]) -> list[Op]:
    rows: dict[tuple[str, tuple[Any, ...]], list[Op]] = {}
    for op in ops:
        key = _key(op, tables[op.table])
        pending = rows.setdefault(key, [])
        last = pending[-1] if pending else None
        if isinstance(last, Upsert):
            pending[-1] = _fold(last, op)
        else:
            pending.append(op)
    return [op for folded in rows.values() for op in folded]


def _key(op: Op, table: Table) -> tuple[str, tuple[Any, ...]]:
    source = op.row if isinstance(op, Upsert) else op.key
    return op.table, tuple(source[k] for k in table.key)


def _fold(upsert: Upsert, op: Op) -> Op:
    row = dict(upsert.row)
    if isinstance(op, Upsert):
        row.update(op.row)
    elif isinstance(op, Update):
        row.update(op.changes)
    elif isinstance(op, Add):
        for column, amount in op.amounts.items():
            row[column] = (row.get(column) or 0) + amount
    elif isinstance(op, Delete):
        return op
    return Upsert(upsert.table, row)
