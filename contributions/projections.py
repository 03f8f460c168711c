"""The ledger's read side: tables projected from `JournalEntry.Posted`, and the queries on them.

Four tables, each kept by exact increments so no row is read back to be rewritten:

    lines     one row per posting (entry, account, member, amount, unit, memo, at), indexed by
              member and time (a member's credits), by account and time (an account's history)
              and by time (every line, for the board)
    balances  one row per (unit, account): the sum of its postings, debits positive
    units     one row per unit: total debits and credits (as magnitudes) and entries posting in it
    counts    the number of journal entries

A fact is one entry (the write side's id is the fact), and the runner applies each event once, so
the increments never count an entry twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from contributions.domain import AMOUNT_PLACES, HOUR, JournalEntry, member_account, member_of
from kernel.money import minor_units
from kernel.paging import fetch_page
from kernel.readside import Add, Column, Op, ReadModel, Table, Upsert

if TYPE_CHECKING:
    from datetime import datetime

    from kernel.paging import Page, PageRequest
    from kernel.readside import Row


def _amount(name: str) -> Column:
    return Column(name, "decimal", nullable=False, scale=AMOUNT_PLACES)


LINE_ORDER = ("at", "entry_id", "line")
ACCOUNT_ORDER = ("unit", "account")
ENTRIES = "entries"

LINES = Table(
    "lines",
    (
        Column("entry_id", nullable=False),
        Column("line", "int", nullable=False),  # the posting's place in its entry
        Column("account", nullable=False),
        Column("member_id"),  # the member whose account it is, else NULL
        _amount("amount"),
        Column("unit", nullable=False),
        Column("memo", nullable=False),
        Column("at", "timestamp", nullable=False),
    ),
    key=("entry_id", "line"),
    # LINE_ORDER alone: the board's page of every line, newest first (`lines_page`).
    indexes=(("member_id", *LINE_ORDER), ("account", *LINE_ORDER), LINE_ORDER),
)
BALANCES = Table(
    "balances",
    (
        Column("unit", nullable=False),
        Column("account", nullable=False),
        Column("member_id"),
        _amount("balance"),
    ),
    key=ACCOUNT_ORDER,
)
UNITS = Table(
    "units",
    (
        Column("unit", nullable=False),
        _amount("debits"),
        _amount("credits"),
        Column("entries", "int", nullable=False),
    ),
    key=("unit",),
)
COUNTS = Table("counts", (Column("name"), Column("value", "int", nullable=False)), key=("name",))


@dataclass(frozen=True)
class LedgerLine:
    entry_id: str
    line: int
    account: str
    member_id: str | None
    amount: Decimal  # debit > 0, credit < 0
    unit: str
    memo: str
    at: datetime


@dataclass(frozen=True)
class AccountBalance:
    unit: str
    account: str
    member_id: str | None
    balance: Decimal  # debits positive, credits negative


@dataclass(frozen=True)
class UnitTotal:
    unit: str
    debits: Decimal
    credits: Decimal  # as a magnitude
    entries: int

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


@dataclass(frozen=True)
class MemberTotals:
    """What a member has been credited: hours driving and earnings (credits as positive)."""

    hours_driving: Decimal
    earnings: Decimal


class Ledger(ReadModel):
    """The city's ledger as tables: a member's lines, account balances, the trial balance."""

    name = "contributions_ledger"
    tables = (LINES, BALANCES, UNITS, COUNTS)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: JournalEntry.Posted) -> list[Op]:
        entry_id = str(event.originator_id)
        ops: list[Op] = [Add("counts", {"name": ENTRIES}, {"value": 1})]
        per_unit: dict[str, tuple[Decimal, Decimal]] = {}
        for line, posting in enumerate(event.postings):
            member = member_of(posting.account)
            ops.append(
                Upsert(
                    "lines",
                    {
                        "entry_id": entry_id,
                        "line": line,
                        "account": posting.account,
                        "member_id": member,
                        "amount": posting.amount,
                        "unit": posting.unit,
                        "memo": event.memo,
                        "at": event.at,
                    },
                )
            )
            ops.append(
                Add(
                    "balances",
                    {"unit": posting.unit, "account": posting.account},
                    {"balance": posting.amount},
                    defaults={"member_id": member},
                )
            )
            debits, credits = per_unit.get(posting.unit, (Decimal(0), Decimal(0)))
            if posting.amount > 0:
                debits += posting.amount
            else:
                credits -= posting.amount
            per_unit[posting.unit] = (debits, credits)
        for unit, (debits, credits) in per_unit.items():
            ops.append(
                Add("units", {"unit": unit}, {"debits": debits, "credits": credits, "entries": 1})
            )
        return ops

    # -- queries --------------------------------------------------------------------------------
    def member_lines(self, member_id: str, request: PageRequest) -> Page[LedgerLine]:
        """A member's lines, newest first."""
        return fetch_page(
            self.view,
            "lines",
            request,
            order_by=LINE_ORDER,
            to_item=_line,
            where={"member_id": member_id},
            descending=True,
        )

    def lines_page(self, request: PageRequest, *, account: str | None = None) -> Page[LedgerLine]:
        """Every line of the ledger, or one account's, newest first (the board's)."""
        return fetch_page(
            self.view,
            "lines",
            request,
            order_by=LINE_ORDER,
            to_item=_line,
            where=None if account is None else {"account": account},
            descending=True,
        )

    def member_totals(self, member_id: str, currency: str) -> MemberTotals:
        hours = -self.balance(member_account(member_id, "hours:driving"), HOUR)
        earnings = -self.balance(member_account(member_id, "earnings"), currency)
        return MemberTotals(tidy(hours, HOUR), tidy(earnings, currency))

    def balance(self, account: str, unit: str) -> Decimal:
        """An account's balance in one unit (0 if nothing was ever posted to it)."""
        found = self.account(account, unit)
        return Decimal(0) if found is None else found.balance

    def account(self, account: str, unit: str) -> AccountBalance | None:
        row = self.view.get("balances", {"unit": unit, "account": account})
        return None if row is None else _balance(row)

    def accounts(self, request: PageRequest) -> Page[AccountBalance]:
        """Every account's balance, by unit then account."""
        return fetch_page(
            self.view,
            "balances",
            request,
            order_by=ACCOUNT_ORDER,
            to_item=_balance,
        )

    def units(self) -> list[UnitTotal]:
        return [
            UnitTotal(
                unit=row["unit"],
                debits=tidy(row["debits"], row["unit"]),
                credits=tidy(row["credits"], row["unit"]),
                entries=row["entries"],
            )
            for row in self.view.select("units", order_by=("unit",))
        ]

    def entries(self) -> int:
        row = self.view.get("counts", {"name": ENTRIES})
        return 0 if row is None else int(row["value"])


def tidy(amount: Decimal, unit: str) -> Decimal:
    """An amount as kept (to `AMOUNT_PLACES`) shown to the unit's minor units, never dropping a
    digit that is not zero: 10.4900 EUR is 10.49, 1500.0000 JPY is 1500, 0.1250 HOUR 0.125."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(minor_units(unit), -exponent if isinstance(exponent, int) else 0)
    return amount.quantize(Decimal(1).scaleb(-places))


def _line(row: Row) -> LedgerLine:
    return LedgerLine(**{**row, "amount": tidy(row["amount"], row["unit"])})


def _balance(row: Row) -> AccountBalance:
    return AccountBalance(**{**row, "balance": tidy(row["balance"], row["unit"])})
