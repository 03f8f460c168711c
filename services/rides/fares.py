"""Fares and charges: the co-op's rules (never surge) and their exact splits.

Two fare modes, from the city config:

- formula: base + per km + per minute;
- cost recovery: the vehicle's operating cost for the trip (per km and per hour) over the riders
  it is expected to carry (the Cantua Creek van: its running cost, shared).

A member the co-op names for a solidarity fare pays `solidarity_percent` less; the common fund
pays the difference, so the driver's and everyone's parts are those of the full fare. Charges
(a late cancellation, a no-show) follow the same split. Every fare and charge names the rule
and its version. Pure domain: no I/O, no clock. Amounts are `kernel.money.Money`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


@dataclass(frozen=True)
class FarePolicy:
    """The co-op's fare rules: shares of the split sum to 100 (co-op policy, never surge)."""

    base: Decimal
    per_km: Decimal
    per_minute: Decimal
    currency: str
    split: Mapping[str, int]
    mode: str = "formula"  # or "cost_recovery"
    cost_per_km: Decimal = Decimal(0)
    cost_per_hour: Decimal = Decimal(0)
    expected_riders: Decimal = Decimal(1)
    rules_version: str = "1"
    solidarity_percent: int = 50
    # The city's policy version these rules are (kernel.policies: the file is 1).
    policy_version: int = 1

    def shares(self) -> dict[str, Decimal]:
        return {k: Decimal(v) for k, v in self.split.items()}


@dataclass(frozen=True)
class Fare:
    """A fare, its split and what it is made of. Invariants: the split sums exactly to the
    total, so do the breakdown's components, and so do what the rider and the common fund pay."""

    total: Money
    split: dict[str, Money]
    breakdown: dict[str, Money] = field(default_factory=dict)
    rule: str = ""
    common_fund_pays: Money | None = None

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def fund_pays(self) -> Money:
        return self.common_fund_pays or Money.zero(self.currency)

    @property
    def rider_pays(self) -> Money:
        return self.total - self.fund_pays


def price(
    policy: FarePolicy, *, distance_km: Decimal, minutes: Decimal, solidarity: bool = False
) -> Fare:
    """The fare, its exact split (largest remainder) and its breakdown, under the policy's mode.

    `solidarity`: the rider is one the co-op named; the common fund pays its share of the fare.
    """
    if policy.mode == "cost_recovery":
        components = {
            "vehicle_km": policy.cost_per_km * distance_km / policy.expected_riders,
            "vehicle_time": policy.cost_per_hour * minutes / 60 / policy.expected_riders,
        }
        rule = (
            f"cost recovery: ({policy.cost_per_km}/km x {distance_km} km + "
            f"{policy.cost_per_hour}/h x {minutes} min) / {policy.expected_riders} expected riders"
        )
    else:
        components = {
            "base": policy.base,
            "distance": policy.per_km * distance_km,
            "time": policy.per_minute * minutes,
        }
        rule = (
            f"formula: {policy.base} + {policy.per_km}/km x {distance_km} km + "
            f"{policy.per_minute}/min x {minutes} min"
        )
    total = Money.of(sum(components.values(), Decimal(0)), policy.currency)
    # The components of the rounded total, apportioned exactly (they may differ from their own
    # roundings by a cent, never in sum).
    weights = {k: v for k, v in components.items() if v > 0}
    breakdown = total.allocate(weights) if weights and total.amount > 0 else {}
    fund = None
    if solidarity and policy.solidarity_percent > 0:
        fund = Money.of(total.amount * policy.solidarity_percent / 100, policy.currency)
        rule += f"; solidarity fare: the common fund pays {policy.solidarity_percent} %"
    return Fare(
        total,
        total.allocate(policy.shares()),
        breakdown,
        f"{rule} (rules {policy.rules_version})",
        fund,
    )


# -- charges: cancellations and no-shows ---------------------------------------------------------
@dataclass(frozen=True)
class ChargeRules:
    """The city's cancellation and no-show rules (kernel.cities.CancellationRule, NoShowRule)."""

    cancel_free_minutes: int
    cancel_fee: Decimal
    no_show_wait_minutes: int
    no_show_fee: Decimal
    currency: str
    split: Mapping[str, int]
    rules_version: str = "1"
    policy_version: int = 1


@dataclass(frozen=True)
class Charge:
    """What a rider owes for a cancellation or a no-show (possibly nothing), and the rule that
    decided it, in words. Invariant: the split sums exactly to the amount."""

    kind: str  # "cancellation" or "no_show"
    amount: Money
    split: dict[str, Money]
    rule: str


def _charge(rules: ChargeRules, kind: str, amount: Decimal, rule: str) -> Charge:
    money = Money.of(amount, rules.currency)
    split = (
        money.allocate({k: Decimal(v) for k, v in rules.split.items()})
        if money.amount > 0
        else {k: Money.zero(rules.currency) for k in rules.split}
    )
    return Charge(
        kind,
        money,
        split,
        f"{rule} (rules {rules.rules_version}, policy version {rules.policy_version})",
    )


def cancellation_charge(
    rules: ChargeRules, *, accepted_at: datetime | None, now: datetime, by_rider: bool
) -> Charge:
    """Free before a driver accepted, within the free minutes after, or when the driver (or the
    desk for the driver) cancels; the fee once a driver has been on the way longer."""
    free = rules.cancel_free_minutes
    if not by_rider:
        return _charge(rules, "cancellation", Decimal(0), "free: cancelled by the driver")
    if accepted_at is None:
        return _charge(rules, "cancellation", Decimal(0), "free: no driver had accepted yet")
    minutes = Decimal((now - accepted_at).total_seconds() / 60).quantize(Decimal("0.1"))
    if minutes <= free:
        return _charge(
            rules,
            "cancellation",
            Decimal(0),
            f"free: cancelled {minutes} min after the driver accepted (free within {free} min)",
        )
    return _charge(
        rules,
        "cancellation",
        rules.cancel_fee,
        f"late cancellation: {minutes} min after the driver accepted (free within {free} min), "
        f"fee {rules.cancel_fee}",
    )


def no_show_charge(rules: ChargeRules, *, waited_minutes: Decimal) -> Charge:
    return _charge(
        rules,
        "no_show",
        rules.no_show_fee,
        f"no-show: the driver waited {waited_minutes} min at the pickup "
        f"(at least {rules.no_show_wait_minutes} min), fee {rules.no_show_fee}",
    )
