"""Shares, simulations, participation and the protocol's share, computed on the read-model tables.

Everything here is a SQL aggregate over `member_days` (contributions.accounting) or the ledger's
`lines` for a range of days, then the equation applied to the grouped rows in Python: closing a
month or simulating a year reads each member day of the period once (weighted by each equation's
decay in the same scan) and brings back one row per member and type, never an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from contributions.equations import FACTOR_PLACES, MemberPoints, share_of
from kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, tzinfo

    from contributions.accounting import ContributionDays
    from contributions.equations import EquationVersion, ValueEquation
    from contributions.periods import PeriodSpan
    from contributions.projections import Ledger
    from kernel.cities import ProtocolAgreement


def period_points(
    days: ContributionDays, equation: ValueEquation, span: PeriodSpan
) -> dict[str, MemberPoints]:
    """Every member's points in `span` under `equation` (members with no credits are absent)."""
    return points_under(days, {"equation": equation}, span)["equation"]


def points_under(
    days: ContributionDays, equations: Mapping[str, ValueEquation], span: PeriodSpan
) -> dict[str, dict[str, MemberPoints]]:
    """Every member's points in `span` under each of `equations` (by name), from one scan of the
    period's member days: `decayed_quantities` weighs each day once per equation."""
    quantities = decayed_quantities(days, equations, span)
    return {
        name: equation.points(quantities[name], span.last_day)
        for name, equation in equations.items()
    }


def decayed_quantities(
    days: ContributionDays, equations: Mapping[str, ValueEquation], span: PeriodSpan
) -> dict[str, list[tuple[str, str, date, Decimal]]]:
    """Per equation, (member, type, last day, decayed quantity): each day's quantity times the
    equation's decay factor for that day (1 without decay), summed in SQL as exact integers
    (factors scaled by 10**FACTOR_PLACES), a row per member and type.

    One aggregate reads every member day of the period once, in member and type order (the
    table's covering index, no sort), and sums it under every equation at once: a simulation
    costs one scan, not one per equation."""
    weights = {
        name: {
            day.isoformat(): int(f.scaleb(FACTOR_PLACES))
            for day, f in equation.factors(span.first_day, span.last_day).items()
        }
        for name, equation in equations.items()
    }
    rows = days.view.sums(
        "member_days",
        ("quantity",),
        group_by=("member_id", "type"),
        ranges={"day": (span.first_day.isoformat(), span.last_day.isoformat())},
        weighted=("day", weights),
    )
    return {
        name: [
            (r["member_id"], r["type"], span.last_day, r[f"quantity*{name}"].scaleb(-FACTOR_PLACES))
            for r in rows
        ]
        for name in equations
    }


@dataclass(frozen=True)
class SimulatedShare:
    member_id: str
    current_points: Decimal
    current_share: Decimal
    proposed_points: Decimal
    proposed_share: Decimal

    @property
    def change(self) -> Decimal:
        return self.proposed_share - self.current_share


@dataclass(frozen=True)
class Simulation:
    period: str
    current_version: int
    current_total: Decimal
    proposed_total: Decimal
    rows: list[SimulatedShare]  # by member id


def simulate(
    days: ContributionDays, current: EquationVersion, proposed: ValueEquation, span: PeriodSpan
) -> Simulation:
    """Every member's points and share under the current and the proposed equation, side by
    side (both from the same scan of the period's member days)."""
    both = points_under(days, {"current": current.equation, "proposed": proposed}, span)
    now, then = both["current"], both["proposed"]
    now_total = sum((p.total for p in now.values()), Decimal(0))
    then_total = sum((p.total for p in then.values()), Decimal(0))
    zero = Decimal(0)
    rows = []
    for member in sorted(set(now) | set(then)):
        a = now[member].total if member in now else zero
        b = then[member].total if member in then else zero
        rows.append(SimulatedShare(member, a, share_of(a, now_total), b, share_of(b, then_total)))
    return Simulation(span.key, current.version, now_total, then_total, rows)


@dataclass(frozen=True)
class Participation:
    """How many members contributed in a period, and how often."""

    contributors: int
    credits: int  # contributions credited (rides driven, logged work counted, ...)
    active_days: int  # member-days with a contribution
    by_frequency: dict[str, int]  # contributors by credits in the period: 1, 2-5, 6-20, 21+
    by_type: dict[str, int]  # contributors per contribution type

    @property
    def credits_per_contributor(self) -> Decimal:
        if not self.contributors:
            return Decimal(0)
        return (Decimal(self.credits) / self.contributors).quantize(Decimal("0.01"))


BUCKETS = (("1", 1, 1), ("2-5", 2, 5), ("6-20", 6, 20), ("21+", 21, 10**12))


def participation(days: ContributionDays, span: PeriodSpan) -> Participation:
    day_range = {"day": (span.first_day.isoformat(), span.last_day.isoformat())}
    per_member = days.view.sums(
        "member_days", ("credits",), group_by=("member_id",), ranges=day_range
    )
    per_type = days.view.sums(
        "member_days", ("credits",), group_by=("type", "member_id"), ranges=day_range
    )
    active = [r for r in per_member if r["credits"] > 0]
    frequency = {name: 0 for name, _, _ in BUCKETS}
    for r in active:
        for name, lo, hi in BUCKETS:
            if lo <= r["credits"] <= hi:
                frequency[name] += 1
    by_type: dict[str, int] = {}
    for r in per_type:
        if r["credits"] > 0:
            by_type[r["type"]] = by_type.get(r["type"], 0) + 1
    return Participation(
        contributors=len(active),
        credits=sum(int(r["credits"]) for r in active),
        active_days=sum(int(r["rows"]) for r in active),
        by_frequency=frequency,
        by_type=dict(sorted(by_type.items())),
    )


@dataclass(frozen=True)
class ProtocolShare:
    """What the city owes the protocol co-op for a period, from its own ledger."""

    period: str
    revenue: Money
    percent: Decimal
    owed: Money
    set_aside: Money  # what the ledger's postings already credited the protocol's accounts

    @property
    def difference(self) -> Money:
        return self.owed - self.set_aside


def protocol_share(
    ledger: Ledger, agreement: ProtocolAgreement, span: PeriodSpan, currency: str, zone: tzinfo
) -> ProtocolShare:
    """The share of the period's revenue in the city's own calendar (`zone`)."""
    at = {"at": (span.starts(zone), span.ends(zone))}

    def total(accounts: tuple[str, ...]) -> Decimal:
        rows = ledger.view.sums(
            "lines",
            ("amount",),
            group_by=(),
            where={"unit": currency},
            ranges=at,
            within={"account": accounts},
        )
        return rows[0]["amount"] if rows else Decimal(0)

    revenue = Money.of(total(agreement.revenue_accounts), currency)
    owed = Money.of(revenue.amount * agreement.percent / 100, currency)  # half-even, to cents
    set_aside = Money.of(-total(agreement.set_aside_accounts), currency)
    return ProtocolShare(span.key, revenue, agreement.percent, owed, set_aside)
