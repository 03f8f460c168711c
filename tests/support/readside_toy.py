"""A toy service for the read-side tests: accounts that receive deposits, and a read model that
keeps each account's row, its deposit count (an `Add`, so applying an event twice shows) and a
per-owner total. Importable by a subprocess, so a crash test can kill a real runner."""

from __future__ import annotations

import sys
from decimal import Decimal
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, event

from kernel.config import Settings
from kernel.eventstore import FederationApplication
from kernel.readside import Add, Column, Op, ReadModel, Table, Upsert


class Pot(Aggregate):
    class Opened(Aggregate.Created):
        owner: str

    class Deposited(Aggregate.Event):
        owner: str
        amount: Decimal

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.total = Decimal(0)

    def deposit(self, amount: Decimal) -> None:
        self._deposited(owner=self.owner, amount=amount)

    @event(Deposited)
    def _deposited(self, owner: str, amount: Decimal) -> None:
        self.total += amount


class Pots(ReadModel):
    name = "toy_pots"
    tables = (
        Table(
            "pots",
            (
                Column("pot_id"),
                Column("owner"),
                Column("opened_at", "timestamp"),
                Column("total", "decimal"),
                Column("deposits", "int"),
            ),
            key=("pot_id",),
            indexes=(("owner", "opened_at", "pot_id"),),
        ),
        Table("owners", (Column("owner"), Column("total", "decimal")), key=("owner",)),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Pot.Opened) -> list[Op]:
        return [
            Upsert(
                "pots",
                {
                    "pot_id": str(event.originator_id),
                    "owner": event.owner,
                    "opened_at": event.timestamp,
                    "total": Decimal(0),
                    "deposits": 0,
                },
            )
        ]

    @rows.register
    def _(self, event: Pot.Deposited) -> list[Op]:
        return [
            Add(
                "pots", {"pot_id": str(event.originator_id)}, {"total": event.amount, "deposits": 1}
            ),
            Add("owners", {"owner": event.owner}, {"total": event.amount}),
        ]


class Toy(FederationApplication):
    service = "toy"
    read_models = (Pots,)
    # What this toy shows is the runner's guarantees: saves leave the read model to it.
    inline_read_models = False


def main(argv: list[str]) -> None:
    """`python -m tests.support.readside_toy <persistence> <data dir or dsn> <schema prefix>`:
    catch the read model up once (a crash test runs this with fault injection on)."""
    persistence, where, prefix = argv
    settings = (
        Settings(persistence="sqlite", data_dir=Path(where))
        if persistence == "sqlite"
        else Settings.from_env(
            {
                "MUNI_PERSISTENCE": "postgres",
                "MUNI_POSTGRES_DSN": where,
                "MUNI_SCHEMA_PREFIX": prefix,
            }
        )
    )
    app = Toy(settings)
    app.catch_up(Pots)
    app.close()


if __name__ == "__main__":
    # Through the module's own name: run as __main__, the classes here would have other topics
    # (`__main__:Pot.Opened`) than the stored events.
    from tests.support.readside_toy import main as run

    run(sys.argv[1:])
