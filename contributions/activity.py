"""The city's activity per day: rides completed, fares collected and credits to members, for the
board's chart and the regulator (totals only: no account, no member).

    days   one row per (unit, day): the day is the city's local date (its `timezone`) of the
           entry's time; `entries` posting in the unit, `rides` (the fare entries: one per
           completed ride), `fares` (what those entries collected) and `credited` (the net
           amount posted to members' accounts: drivers' earnings in the currency, hours of
           contribution in HOUR; an adjusting entry lowers it)

Kept from `JournalEntry.Posted` by exact increments, like the ledger's own tables, so a chart of a
year reads at most 366 rows per unit, never the entries. The ledger is the one place a completed
ride's fare and credits are recorded exactly (the fare, its split, the driver's hours, each a
balanced entry), so the chart's figures are the trial balance's, day by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from contributions.accounting import LocalDays
from contributions.domain import AMOUNT_PLACES, HOUR, MEMBER_PREFIX, JournalEntry
from contributions.projections import tidy
from kernel.readside import Add, Column, Op, ReadModel, Table

if TYPE_CHECKING:
    from collections.abc import Iterator

# The purpose of the entry that splits a completed ride's fare (contributions.application).
FARE_SPLIT = "fare-split"
# A chart's range: a year, leap day included.
MAX_DAYS = 366
DAY_ORDER = ("unit", "day")

DAYS = Table(
    "days",
    (
        Column("unit", nullable=False),
        Column("day", nullable=False),  # YYYY-MM-DD, the city's local date: sorts as a date
        Column("entries", "int", nullable=False),
        Column("rides", "int", nullable=False),
        Column("fares", "decimal", nullable=False, scale=AMOUNT_PLACES),
        Column("credited", "decimal", nullable=False, scale=AMOUNT_PLACES),
    ),
    key=DAY_ORDER,
)


class RangeTooLong(ValueError):
    """More days asked for than one read may hold (`MAX_DAYS`)."""

    def __init__(self, days: int) -> None:
        super().__init__(f"ask for at most {MAX_DAYS} days at a time, not {days}")
        self.days = days


class BadRange(ValueError):
    """A range that ends before it starts."""

    def __init__(self, first: date, last: date) -> None:
        super().__init__(f"to: {last.isoformat()} is before from: {first.isoformat()}")
        self.field = "to"


@dataclass(frozen=True)
class ActivityDay:
    """One day's figures; days without an entry are zeros."""

    day: date
    rides: int
    fares: Decimal  # in the currency
    earnings: Decimal  # credited to members, in the currency
    hours: Decimal  # credited to members, in HOUR


class CityActivity(LocalDays, ReadModel):
    """Totals per unit and local day: rides, fares and credits over time."""

    name = "contributions_city_activity"
    tables = (DAYS,)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: JournalEntry.Posted) -> list[Op]:
        day = self.day_of(event.at)
        fare = event.purpose == FARE_SPLIT
        totals: dict[str, dict[str, Any]] = {}
        for posting in event.postings:
            unit = totals.setdefault(
                posting.unit,
                {"entries": 1, "rides": 1 if fare else 0, "fares": Decimal(0), "credited": 0},
            )
            if fare and posting.amount > 0:
                unit["fares"] += posting.amount  # the fare is the entry's one debit
            if posting.account.startswith(MEMBER_PREFIX):
                unit["credited"] -= posting.amount  # credits are negative postings
        return [Add("days", {"unit": u, "day": day}, amounts) for u, amounts in totals.items()]

    # -- queries --------------------------------------------------------------------------------
    def days(self, first: date, last: date, *, currency: str) -> list[ActivityDay]:
        """Every day from `first` to `last` (inclusive), zeros where nothing happened.

        Raises `BadRange` if `last` is before `first`, `RangeTooLong` past `MAX_DAYS`."""
        if last < first:
            raise BadRange(first, last)
        count = (last - first).days + 1
        if count > MAX_DAYS:
            raise RangeTooLong(count)
        span = (first.isoformat(), last.isoformat())
        money = {r["day"]: r for r in self._rows(currency, span)}
        hours = {r["day"]: r for r in self._rows(HOUR, span)}
        found = []
        for day in _each_day(first, last):
            key = day.isoformat()
            m, h = money.get(key), hours.get(key)
            found.append(
                ActivityDay(
                    day=day,
                    rides=0 if m is None else m["rides"],
                    fares=tidy(Decimal(0) if m is None else m["fares"], currency),
                    earnings=tidy(Decimal(0) if m is None else m["credited"], currency),
                    hours=tidy(Decimal(0) if h is None else h["credited"], HOUR),
                )
            )
        return found

    def _rows(self, unit: str, span: tuple[str, str]) -> list[dict[str, Any]]:
        return self.view.select(
            "days", where={"unit": unit}, ranges={"day": span}, order_by=DAY_ORDER
        )


def _each_day(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
