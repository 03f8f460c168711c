"""Fares: the co-op's formula (base + per km + per minute, never surge) and its exact split.

Pure domain: no I/O, no clock. A fare and each part of its split are `kernel.money.Money`, from
the quote to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class FarePolicy:
    """Base + per km + per minute, split by shares that sum to 100 (co-op policy, never surge)."""

    base: Decimal
    per_km: Decimal
    per_minute: Decimal
    currency: str
    split: Mapping[str, int]


@dataclass(frozen=True)
class Fare:
    """A fare and its split. Invariant: the parts sum exactly to the total."""

    total: Money
    split: dict[str, Money]

    @property
    def currency(self) -> str:
        return self.total.currency


def price(policy: FarePolicy, *, distance_km: Decimal, minutes: Decimal) -> Fare:
    """The fare and its exact split (largest remainder: the parts sum to the total)."""
    total = Money.of(
        policy.base + policy.per_km * distance_km + policy.per_minute * minutes, policy.currency
    )
    return Fare(total, total.allocate({k: Decimal(v) for k, v in policy.split.items()}))
