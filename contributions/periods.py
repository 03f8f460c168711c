"""Accounting periods (a month, a quarter): opened, closed with shares frozen, then distributed.

A period's key is `2026-11` (a month) or `2026-Q4` (a quarter); it runs over whole days of the
city's own calendar (its `timezone`), from local midnight on its first day to local midnight after
its last: a credit at 23:30 in Brussels on 30 November is November's, whatever the UTC date, and a
day around a change of daylight saving time is 23 or 25 hours long. At close the shares are computed
under the equation in force on its last day and frozen into the period's own events (in chunks, so
no event grows with the number of members); closing twice is refused. A distribution follows at most
once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from contributions.domain import ContributionsError

if TYPE_CHECKING:
    from contributions.distribution import Distribution
from kernel.ids import stable_uuid

_KEY = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])))?$")
CHUNK = 2_000  # members per frozen-shares event


class InvalidPeriod(ContributionsError):
    """Not a period key: a month is `2026-11`, a quarter `2026-Q4`, a year `2026`."""


class PeriodNotOpen(ContributionsError):
    """The period was never opened, or is closed already (closing twice is refused)."""

    def __init__(self, key: str, state: str) -> None:
        super().__init__(f"period {key} is {state}")
        self.key = key
        self.state = state


class PeriodAlreadyOpen(ContributionsError):
    def __init__(self, key: str) -> None:
        super().__init__(f"period {key} was opened already")
        self.key = key


class PeriodNotClosed(ContributionsError):
    """A distribution needs a closed period that was not distributed yet."""

    def __init__(self, key: str, state: str) -> None:
        super().__init__(f"period {key} is {state}: a surplus is distributed once, after close")
        self.key = key
        self.state = state


class PeriodState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DISTRIBUTED = "distributed"


@dataclass(frozen=True)
class PeriodSpan:
    key: str
    kind: str  # month | quarter | year
    first_day: date
    last_day: date

    @classmethod
    def parse(cls, key: str) -> PeriodSpan:
        match = _KEY.match(key)
        if match is None:
            raise InvalidPeriod(
                f"{key!r} is not a period: write a month 2026-11, a quarter 2026-Q4 or a year 2026"
            )
        year = int(match["year"])
        if match["month"]:
            start_month, months, kind = int(match["month"]), 1, "month"
        elif match["quarter"] is None:
            start_month, months, kind = 1, 12, "year"
        else:
            start_month, months, kind = 3 * int(match["quarter"]) - 2, 3, "quarter"
        first = date(year, start_month, 1)
        end_month = start_month + months
        after = date(year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
        return cls(key, kind, first, after - timedelta(days=1))

    def starts(self, zone: tzinfo) -> datetime:
        """The first instant of the period: local midnight of its first day in `zone`."""
        return local_midnight(self.first_day, zone)

    def ends(self, zone: tzinfo) -> datetime:
        """The last instant of the period in `zone` (inclusive; SQL ranges are BETWEEN)."""
        return local_midnight(self.last_day + timedelta(days=1), zone) - timedelta(microseconds=1)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant `day` begins in `zone` (wall-clock midnight; zoneinfo gives its offset)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last instant of `day` in `zone`."""
    return local_midnight(day + timedelta(days=1), zone) - timedelta(microseconds=1)


class Period(Aggregate):
    """One period of one city. Its id is its key, so it is opened once."""

    @staticmethod
    def create_id(city: str, key: str) -> Any:
        return stable_uuid("period", city, key)

    class Opened(Aggregate.Created):
        city: str
        key: str
        opened_at: datetime

    @event(Opened)
    def __init__(self, city: str, key: str, opened_at: datetime) -> None:
        self.city = city
        self.key = key
        self.opened_at = opened_at
        self.state = PeriodState.OPEN
        self.equation_version: int | None = None

    @property
    def span(self) -> PeriodSpan:
        return PeriodSpan.parse(self.key)

    class Closed(Aggregate.Event):
        key: str
        at: datetime
        equation_version: int
        total_points: Decimal
        members: int
        chunks: int

    class SharesFrozen(Aggregate.Event):
        """Rows `[member_id, type, points]` of one chunk of members."""

        key: str
        chunk: int
        rows: list[list[str]]

    @event(Closed)
    def _closed(
        self,
        key: str,
        at: datetime,
        equation_version: int,
        total_points: Decimal,
        members: int,
        chunks: int,
    ) -> None:
        self.state = PeriodState.CLOSED
        self.equation_version = equation_version
        self.total_points = total_points

    @event(SharesFrozen)
    def _frozen(self, key: str, chunk: int, rows: list[list[str]]) -> None:
        pass  # the rows live in the event and the read model, not in the aggregate's state

    def close(
        self,
        at: datetime,
        equation_version: int,
        points: dict[str, dict[str, Decimal]],
    ) -> None:
        """Freeze `points` (member -> type -> points) computed under `equation_version`."""
        if self.state is not PeriodState.OPEN:
            raise PeriodNotOpen(self.key, self.state.value)
        members = sorted(points)
        chunks = [members[i : i + CHUNK] for i in range(0, len(members), CHUNK)]
        total = sum((p for m in members for p in points[m].values()), Decimal(0))
        self._closed(
            key=self.key,
            at=at,
            equation_version=equation_version,
            total_points=total,
            members=len(members),
            chunks=len(chunks),
        )
        for i, chunk in enumerate(chunks):
            rows = [[m, kind, str(p)] for m in chunk for kind, p in sorted(points[m].items())]
            self._frozen(key=self.key, chunk=i, rows=rows)

    class Distributed(Aggregate.Event):
        key: str
        at: datetime
        surplus: Decimal
        currency: str
        levy: Decimal
        levy_percent: Decimal
        unclaimed: Decimal
        chunks: int

    class DividendsFrozen(Aggregate.Event):
        """Rows `[member_id, amount]` of one chunk of members."""

        key: str
        chunk: int
        rows: list[list[str]]

    @event(Distributed)
    def _distributed(
        self,
        key: str,
        at: datetime,
        surplus: Decimal,
        currency: str,
        levy: Decimal,
        levy_percent: Decimal,
        unclaimed: Decimal,
        chunks: int,
    ) -> None:
        self.state = PeriodState.DISTRIBUTED

    @event(DividendsFrozen)
    def _dividends(self, key: str, chunk: int, rows: list[list[str]]) -> None:
        pass

    def distribute(self, at: datetime, distribution: Distribution, levy_percent: Decimal) -> None:
        if self.state is not PeriodState.CLOSED:
            raise PeriodNotClosed(self.key, self.state.value)
        members = sorted(distribution.dividends)
        chunks = [members[i : i + CHUNK] for i in range(0, len(members), CHUNK)]
        self._distributed(
            key=self.key,
            at=at,
            surplus=distribution.surplus.amount,
            currency=distribution.surplus.currency,
            levy=distribution.levy.amount,
            levy_percent=levy_percent,
            unclaimed=distribution.to_commons_unclaimed.amount,
            chunks=len(chunks),
        )
        for i, chunk in enumerate(chunks):
            rows = [[m, str(distribution.dividends[m].amount)] for m in chunk]
            self._dividends(key=self.key, chunk=i, rows=rows)
