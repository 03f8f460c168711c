"""Read models of open value accounting: contributions per member and day, and the records of
logged work, adopted equations, periods, frozen shares, dividends and contests.

`ContributionDays` (table `member_days`) is what shares are computed from: one row per member,
contribution type, unit and day (the city's local date, its `timezone`), the sum of what that member
was credited of that type on that day, and how many credits it took. It is kept from
`JournalEntry.Posted` by exact increments (an adjusting entry after a contest lowers the day it is
dated on; it is not counted as a credit), so closing a period or simulating an equation is one SQL
aggregate over a range of days, never a replay of events.
`ValueAccounting` keeps the rest, for lists and reports.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any

from contributions.contests import Contest
from contributions.crediting import contribution_type_of
from contributions.domain import AMOUNT_PLACES, MEMBER_PREFIX, JournalEntry
from contributions.logged import LoggedWork
from contributions.periods import Period, PeriodSpan
from contributions.policy import EquationAdoption
from kernel.readside import Add, Column, Op, ReadModel, Row, Table, Update, Upsert


def _amount(name: str) -> Column:
    return Column(name, "decimal", nullable=False, scale=AMOUNT_PLACES)


MEMBER_DAYS = Table(
    "member_days",
    (
        Column("member_id", nullable=False),
        Column("type", nullable=False),
        Column("unit", nullable=False),
        Column("day", nullable=False),  # YYYY-MM-DD, local: sorts and ranges as a date
        _amount("quantity"),
        Column("credits", "int", nullable=False),
    ),
    key=("member_id", "type", "unit", "day"),
    # The day finds a short range (a month's participation); the second, covering, index serves
    # closing and simulating: a period's days read in member and type order, summed without a
    # sort or a lookup into the table (contributions.shares.decayed_quantities).
    indexes=(("day",), ("member_id", "type", "day", "quantity")),
)


def member_and_kind(account: str) -> tuple[str, str] | None:
    """`member:<city>:<uuid>:<kind>` -> (member id, kind), else None."""
    if not account.startswith(MEMBER_PREFIX):
        return None
    city, _, rest = account[len(MEMBER_PREFIX) :].partition(":")
    uuid_part, _, kind = rest.partition(":")
    if not (city and uuid_part and kind):
        return None
    return f"{city}:{uuid_part}", kind


class LocalDays:
    """For a read model whose rows are per day of the city's own calendar: the application sets
    `zone` to its city's (the same zone for the same city, so a rebuild gives the same rows),
    so a period closes at local midnight. UTC until then."""

    zone: tzinfo = UTC

    def day_of(self, at: datetime) -> str:
        """The city's local date of `at`, as the tables keep it (YYYY-MM-DD)."""
        return at.astimezone(self.zone).date().isoformat()


class ContributionDays(LocalDays, ReadModel):
    name = "contributions_days"
    tables = (MEMBER_DAYS,)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: JournalEntry.Posted) -> list[Op]:
        ops: list[Op] = []
        day = self.day_of(event.at)
        for posting in event.postings:
            found = member_and_kind(posting.account)
            if found is None:
                continue
            kind = contribution_type_of(found[1])
            if kind is None:
                continue
            credited = -posting.amount
            ops.append(
                Add(
                    "member_days",
                    {"member_id": found[0], "type": kind, "unit": posting.unit, "day": day},
                    {"quantity": credited, "credits": 1 if credited > 0 else 0},
                )
            )
        return ops


LOGGED = Table(
    "logged",
    (
        Column("id", nullable=False),
        Column("member_id", nullable=False),
        Column("kind", nullable=False),
        _amount("hours"),
        Column("worked_on", nullable=False),
        Column("logged_at", "timestamp", nullable=False),
        Column("required", "int", nullable=False),
        Column("validations", "int", nullable=False),
        Column("validators", "json", nullable=False),
        Column("status", nullable=False),
    ),
    key=("id",),
    indexes=(("status", "logged_at", "id"), ("member_id", "logged_at", "id")),
)
EQUATIONS = Table(
    "equations",
    (
        Column("version", "int", nullable=False),
        Column("equation", "json", nullable=False),
        Column("decision_id", nullable=False),
        Column("effective_from", "timestamp", nullable=False),
        Column("adopted_at", "timestamp", nullable=False),
    ),
    key=("version",),
)
PERIODS = Table(
    "periods",
    (
        Column("period", nullable=False),
        Column("kind", nullable=False),
        Column("first_day", nullable=False),
        Column("last_day", nullable=False),
        Column("state", nullable=False),
        Column("opened_at", "timestamp", nullable=False),
        Column("closed_at", "timestamp"),
        Column("equation_version", "int"),
        _amount("total_points"),
        Column("members", "int", nullable=False),
        Column("distributed_at", "timestamp"),
        Column("currency"),
        _amount("surplus"),
        _amount("levy"),
        _amount("levy_percent"),
        _amount("unclaimed"),
    ),
    key=("period",),
    indexes=(("first_day", "period"),),
)
PERIOD_POINTS = Table(
    "period_points",
    (
        Column("period", nullable=False),
        Column("member_id", nullable=False),
        Column("type", nullable=False),
        _amount("points"),
    ),
    key=("period", "member_id", "type"),
)
PERIOD_MEMBERS = Table(
    "period_members",
    (
        Column("period", nullable=False),
        Column("member_id", nullable=False),
        _amount("points"),
        _amount("dividend"),
    ),
    key=("period", "member_id"),
)
CONTESTS = Table(
    "contests",
    (
        Column("contest_id", nullable=False),
        Column("member_id", nullable=False),
        Column("entry_id", nullable=False),
        Column("line", "int", nullable=False),
        Column("account", nullable=False),
        Column("unit", nullable=False),
        _amount("credited"),
        Column("status", nullable=False),
        Column("opened_at", "timestamp", nullable=False),
        Column("outcome"),
        Column("quantity", "decimal", scale=AMOUNT_PLACES),
        Column("reviewer"),
        Column("reviewed_at", "timestamp"),
    ),
    key=("contest_id",),
    indexes=(("member_id", "opened_at", "contest_id"), ("status", "opened_at", "contest_id")),
)
LOGGED_ORDER = ("logged_at", "id")
CONTEST_ORDER = ("opened_at", "contest_id")
MEMBER_ORDER = ("member_id",)


class ValueAccounting(ReadModel):
    name = "contributions_accounting"
    tables = (LOGGED, EQUATIONS, PERIODS, PERIOD_POINTS, PERIOD_MEMBERS, CONTESTS)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    # -- logged work ----------------------------------------------------------------------------
    @rows.register
    def _(self, event: LoggedWork.Logged) -> list[Op]:
        return [
            Upsert(
                "logged",
                {
                    "id": str(event.originator_id),
                    "member_id": event.member_id,
                    "kind": event.kind,
                    "hours": event.hours,
                    "worked_on": event.worked_on,
                    "logged_at": event.logged_at,
                    "required": event.required,
                    "validations": 0,
                    "validators": [],
                    "status": "pending",
                },
            )
        ]

    @rows.register
    def _(self, event: LoggedWork.Validated) -> list[Op]:
        changes: dict[str, Any] = {
            "validators": event.validators,
            "validations": len(event.validators),
        }
        if event.counts:
            changes["status"] = "counted"
        return [Update("logged", {"id": str(event.originator_id)}, changes)]

    # -- equations ------------------------------------------------------------------------------
    @rows.register
    def _(self, event: EquationAdoption.Adopted) -> list[Op]:
        return [
            Upsert(
                "equations",
                {
                    "version": event.version,
                    "equation": event.equation,
                    "decision_id": event.decision_id,
                    "effective_from": event.effective_from,
                    "adopted_at": event.adopted_at,
                },
            )
        ]

    # -- periods --------------------------------------------------------------------------------
    @rows.register
    def _(self, event: Period.Opened) -> list[Op]:
        span = PeriodSpan.parse(event.key)
        zero = Decimal(0)
        return [
            Upsert(
                "periods",
                {
                    "period": event.key,
                    "kind": span.kind,
                    "first_day": span.first_day.isoformat(),
                    "last_day": span.last_day.isoformat(),
                    "state": "open",
                    "opened_at": event.opened_at,
                    "total_points": zero,
                    "members": 0,
                    "surplus": zero,
                    "levy": zero,
                    "levy_percent": zero,
                    "unclaimed": zero,
                },
            )
        ]

    @rows.register
    def _(self, event: Period.Closed) -> list[Op]:
        return [
            Update(
                "periods",
                {"period": event.key},
                {
                    "state": "closed",
                    "closed_at": event.at,
                    "equation_version": event.equation_version,
                    "total_points": event.total_points,
                    "members": event.members,
                },
            )
        ]

    @rows.register
    def _(self, event: Period.SharesFrozen) -> list[Op]:
        ops: list[Op] = []
        for member, kind, points in event.rows:
            amount = Decimal(points)
            ops.append(
                Upsert(
                    "period_points",
                    {"period": event.key, "member_id": member, "type": kind, "points": amount},
                )
            )
            ops.append(
                Add(
                    "period_members",
                    {"period": event.key, "member_id": member},
                    {"points": amount},
                    defaults={"dividend": Decimal(0)},
                )
            )
        return ops

    @rows.register
    def _(self, event: Period.Distributed) -> list[Op]:
        return [
            Update(
                "periods",
                {"period": event.key},
                {
                    "state": "distributed",
                    "distributed_at": event.at,
                    "currency": event.currency,
                    "surplus": event.surplus,
                    "levy": event.levy,
                    "levy_percent": event.levy_percent,
                    "unclaimed": event.unclaimed,
                },
            )
        ]

    @rows.register
    def _(self, event: Period.DividendsFrozen) -> list[Op]:
        return [
            Add(
                "period_members",
                {"period": event.key, "member_id": member},
                {"dividend": Decimal(amount)},
                defaults={"points": Decimal(0)},
            )
            for member, amount in event.rows
        ]

    # -- contests -------------------------------------------------------------------------------
    @rows.register
    def _(self, event: Contest.Opened) -> list[Op]:
        return [
            Upsert(
                "contests",
                {
                    "contest_id": str(event.originator_id),
                    "member_id": event.member_id,
                    "entry_id": event.entry_id,
                    "line": event.line,
                    "account": event.account,
                    "unit": event.unit,
                    "credited": event.credited,
                    "status": "in_review",
                    "opened_at": event.at,
                },
            )
        ]

    @rows.register
    def _(self, event: Contest.Reviewed) -> list[Op]:
        return [
            Update(
                "contests",
                {"contest_id": str(event.originator_id)},
                {
                    "status": "decided",
                    "outcome": event.outcome,
                    "quantity": event.quantity,
                    "reviewer": event.reviewer,
                    "reviewed_at": event.at,
                },
            )
        ]


VALIDATIONS = Table(
    "validations",
    (
        Column("contribution_id", nullable=False),
        Column("validator_id", nullable=False),
        Column("at", "timestamp", nullable=False),
        Column("counts", "bool", nullable=False),
    ),
    key=("contribution_id", "validator_id"),
    indexes=(("validator_id", "at", "contribution_id"),),
)
VALIDATION_ORDER = ("at", "contribution_id")


class Validations(ReadModel):
    """Who validated which logged work, and when: a member's validations for their export (the
    `logged` table keeps each contribution's validators, but cannot be searched by one)."""

    name = "contributions_validations"
    tables = (VALIDATIONS,)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: LoggedWork.Validated) -> list[Op]:
        return [
            Upsert(
                "validations",
                {
                    "contribution_id": str(event.originator_id),
                    "validator_id": event.by,
                    "at": event.at,
                    "counts": event.counts,
                },
            )
        ]

    def given_by(self, member_id: str) -> list[Row]:
        return self.view.select(
            "validations", where={"validator_id": member_id}, order_by=VALIDATION_ORDER
        )
