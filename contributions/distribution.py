"""A distribution of surplus (patronage dividend), exact to the minor unit.

The development levy comes first (`levy_percent` of the surplus, to the commons fund), then the
rest goes to members in proportion to their frozen points. Both steps are largest-remainder
apportionments over integers of minor units (cents), computed with exact fractions, so:

- every amount is a whole number of cents, and the levy plus the dividends equal the surplus;
- each member gets the floor of their exact part, and the cents left over go one each to the
  members with the largest remainders. Ties are broken by member id (ascending), so the same
  points always give the same amounts, whatever order the rows were read in;
- the levy is the floor of its exact part, rounded up only if its remainder is at least a half
  (half-even on the cent): the commons never gets a cent more than its percent rounds to.

Nobody with points: the whole remainder after the levy goes to the commons fund (nothing is
left unallocated) and the distribution says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from contributions.domain import ContributionsError
from kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal


class InvalidSurplus(ContributionsError):
    """A surplus that cannot be distributed: negative, or finer than the currency's cents."""


@dataclass(frozen=True)
class Distribution:
    surplus: Money
    levy: Money
    dividends: dict[str, Money]  # member -> amount, every member with points (0 allowed)
    to_commons_unclaimed: Money  # the rest when nobody had points

    @property
    def total(self) -> Money:
        paid = sum(self.dividends.values(), Money.zero(self.surplus.currency))
        return self.levy + paid + self.to_commons_unclaimed


def largest_remainder(total: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Apportion `total` minor units over `weights` (non-negative, some positive) exactly.

    Floors first; the units left go to the largest remainders, ties by key ascending."""
    whole = sum(weights.values(), Fraction(0))
    if total < 0 or whole <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("apportion a non-negative total over non-negative weights, some > 0")
    exact = {k: total * w / whole for k, w in weights.items()}
    parts = {k: e.numerator // e.denominator for k, e in exact.items()}
    left = total - sum(parts.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - parts[k]), k))
    for k in order[:left]:
        parts[k] += 1
    return parts


def distribute(
    surplus: Money, points: Mapping[str, Decimal], levy_percent: Decimal
) -> Distribution:
    """The levy, then every member's dividend by points, exact and summing to `surplus`."""
    if surplus.amount < 0:
        raise InvalidSurplus(f"a surplus cannot be negative ({surplus})")
    currency = surplus.currency
    total = surplus.minor
    exact_levy = total * Fraction(levy_percent) / 100
    levy = exact_levy.numerator // exact_levy.denominator
    rest = exact_levy - levy
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and levy % 2 == 1):
        levy += 1
    remaining = total - levy
    weights = {m: Fraction(p) for m, p in points.items() if p > 0}
    if not weights:
        return Distribution(
            surplus,
            Money.from_minor(levy, currency),
            {m: Money.zero(currency) for m in points},
            Money.from_minor(remaining, currency),
        )
    parts = largest_remainder(remaining, weights)
    dividends = {m: Money.from_minor(parts.get(m, 0), currency) for m in points}
    return Distribution(surplus, Money.from_minor(levy, currency), dividends, Money.zero(currency))
