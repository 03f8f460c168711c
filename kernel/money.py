"""Money: a Decimal amount in an ISO 4217 currency. Never float.

Splits allocate by largest remainder, so the parts always sum exactly to the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

K = TypeVar("K")

# Minor units per currency; anything not listed uses 2 decimals (ISO 4217 default for most).
_MINOR_UNITS: dict[str, int] = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "TND": 3}


class MoneyError(ValueError):
    """Money used in a way that would lose or invent value (mixed currencies, bad amounts)."""


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


@dataclass(frozen=True, order=False)
class Money:
    """An exact amount of one currency, held at the currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise MoneyError(f"currency {self.currency!r} is not an ISO 4217 code")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise MoneyError(f"amount {self.amount!r} must be a finite Decimal")
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        if self.amount != self.amount.quantize(quantum):
            raise MoneyError(
                f"amount {self.amount} has more precision than {self.currency} allows ({quantum})"
            )

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from a string/int/Decimal, rounding half-even to the currency's minor unit."""
        try:
            value = Decimal(amount)
        except (InvalidOperation, TypeError):
            raise MoneyError(f"amount {amount!r} is not a number") from None
        if not value.is_finite():
            raise MoneyError(f"amount {amount!r} must be finite")
        quantum = Decimal(1).scaleb(-minor_units(currency))
        return cls(value.quantize(quantum, rounding=ROUND_HALF_EVEN), currency)

    @classmethod
    def stored(cls, amount: Decimal, currency: str) -> Money:
        """A Money read back from an event store, as `MoneyAsDict` wrote it: it was checked when
        it was made, so it is not checked again (a rebuild decodes one per fare, millions)."""
        money = object.__new__(cls)
        object.__setattr__(money, "amount", amount)
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents)."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def allocate(self, ratios: Mapping[K, Decimal | int]) -> dict[K, Money]:
        """Split into parts proportional to `ratios`, summing exactly to self (largest remainder).

        Each part first gets the floor of its exact share in minor units; the minor units left
        over go one each to the parts with the largest remainders (ties: the order of `ratios`).
        Negative amounts are split like their absolute value and negated.
        """
        keys = list(ratios)
        weights = [Decimal(ratios[k]) for k in keys]
        if not keys:
            raise MoneyError("cannot allocate over no parts")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise MoneyError("allocation ratios must be non-negative and sum to more than zero")
        sign = -1 if self.amount < 0 else 1
        minor = abs(self.minor)
        parts = allocate_minor(minor, weights)
        return {
            k: Money.from_minor(sign * p, self.currency) for k, p in zip(keys, parts, strict=True)
        }


def allocate_minor(total: int, weights: Sequence[Decimal]) -> list[int]:
    """Largest-remainder apportionment of a non-negative integer over weights."""
    whole = sum(weights)
    exact = [Decimal(total) * w / whole for w in weights]
    floors = [int(e) for e in exact]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors
