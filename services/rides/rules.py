"""The fare and charge rules of one version of the city's policy (kernel.policies).

The city config file is policy version 1; each decision that changes `rides.*` makes the next.
A ride's fare is priced by the rules in force when it ends, and names that version.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from services.rides.fares import ChargeRules, FarePolicy

if TYPE_CHECKING:
    from kernel.cities import CityConfig


def fare_policy(city: CityConfig, *, policy_version: int = 1) -> FarePolicy:
    """The fare rules of `city` (one version of its config), naming that version."""
    policy = city.rides
    cost = policy.cost_recovery
    return FarePolicy(
        base=policy.fare_base,
        per_km=policy.fare_per_km,
        per_minute=policy.fare_per_minute,
        currency=city.currency,
        split=policy.split,
        mode=policy.fare_mode,
        cost_per_km=cost.cost_per_km if cost else Decimal(0),
        cost_per_hour=cost.cost_per_hour if cost else Decimal(0),
        expected_riders=cost.expected_riders if cost else Decimal(1),
        rules_version=policy.rules_version,
        solidarity_percent=policy.solidarity_percent,
        policy_version=policy_version,
    )


def charge_rules(city: CityConfig, *, policy_version: int = 1) -> ChargeRules:
    """The cancellation and no-show rules of `city` (one version of its config)."""
    policy = city.rides
    return ChargeRules(
        cancel_free_minutes=policy.cancellation.free_minutes,
        cancel_fee=policy.cancellation.fee,
        no_show_wait_minutes=policy.no_show.wait_minutes,
        no_show_fee=policy.no_show.fee,
        currency=city.currency,
        split=policy.split,
        rules_version=policy.rules_version,
        policy_version=policy_version,
    )
