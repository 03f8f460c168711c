"""Value equations: how a co-op turns contributions into shares, written as data with a version.

An equation is weights, caps and a decay, never code: nothing a member writes is evaluated.

    points(member) = sum over types t of  weight[t] * min(cap[t], decayed quantity of t)
    decayed quantity = sum over days d in the period of  quantity(d) * 0.5 ** (age(d) / half_life)

where age(d) is the number of days from d to the period's last day (a contribution on the last
day counts fully). A type with no weight counts nothing; a type with no cap is not capped.
A member's share is their points over everyone's points. Points are kept to `POINT_PLACES`
places; a share is exact as the fraction points / total and shown to `SHARE_PLACES` places.

Versions: version 1 is the city config's `[contributions.equation]`; every later version is
adopted by a recorded decision (`Contributions.adopt_equation`) from a stated date. Every
computation names the version it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from contributions.domain import ContributionsError
from kernel.valueflows import ContributionType

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from kernel.cities import StartingEquation

POINT_PLACES = 4
# Decay factors are kept to this many places, so a decayed sum is one exact integer aggregate.
FACTOR_PLACES = 9
SHARE_PLACES = 6
_POINT = Decimal(1).scaleb(-POINT_PLACES)
MAX_WEIGHT = Decimal(1000)


class InvalidEquation(ContributionsError):
    """An equation the co-op cannot adopt: a negative weight or cap, an unknown type's shape,
    a half-life that is not a positive number of days. `field` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ValueEquation:
    """Weights per contribution type, caps per member and period, and a half-life (or none)."""

    weights: Mapping[str, Decimal]
    caps: Mapping[str, Decimal] = field(default_factory=dict)
    half_life_days: int | None = None

    def __post_init__(self) -> None:
        if not self.weights:
            raise InvalidEquation("weights", "an equation needs at least one weight")
        for part, values in (("weights", self.weights), ("caps", self.caps)):
            for key, value in values.items():
                try:
                    ContributionType.parse(key, "HOUR")
                except ValueError as exc:
                    raise InvalidEquation(f"{part}.{key}", str(exc)) from None
                if not isinstance(value, Decimal) or not value.is_finite():
                    raise InvalidEquation(f"{part}.{key}", f"{value!r} is not a number")
                if value < 0:
                    raise InvalidEquation(f"{part}.{key}", f"must not be negative, got {value}")
                if part == "weights" and value > MAX_WEIGHT:
                    raise InvalidEquation(f"{part}.{key}", f"at most {MAX_WEIGHT}, got {value}")
        if self.half_life_days is not None and not (
            isinstance(self.half_life_days, int) and 0 < self.half_life_days <= 3650
        ):
            raise InvalidEquation("halfLifeDays", "must be 1 to 3650 days, or none")

    @classmethod
    def of(
        cls,
        weights: Mapping[str, Any],
        caps: Mapping[str, Any] | None = None,
        half_life_days: int | None = None,
    ) -> ValueEquation:
        """From loosely typed input (strings, numbers): each value read as a Decimal."""

        def number(part: str, key: str, value: Any) -> Decimal:
            try:
                found = Decimal(str(value))
            except ArithmeticError:
                raise InvalidEquation(f"{part}.{key}", f"{value!r} is not a number") from None
            return found

        return cls(
            weights={k: number("weights", k, v) for k, v in weights.items()},
            caps={k: number("caps", k, v) for k, v in (caps or {}).items()},
            half_life_days=half_life_days,
        )

    @classmethod
    def starting(cls, config: StartingEquation) -> ValueEquation:
        return cls(dict(config.weights), dict(config.caps), config.half_life_days)

    def as_data(self) -> dict[str, Any]:
        """As stored in events and shown to members (amounts as strings, keys sorted)."""
        return {
            "weights": {k: str(v) for k, v in sorted(self.weights.items())},
            "caps": {k: str(v) for k, v in sorted(self.caps.items())},
            "half_life_days": self.half_life_days,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ValueEquation:
        return cls.of(data["weights"], data.get("caps"), data.get("half_life_days"))

    def decay(self, day: date, last_day: date) -> Decimal:
        """What one unit on `day` is worth at the end of a period ending on `last_day`."""
        if self.half_life_days is None:
            return Decimal(1)
        age = max((last_day - day).days, 0)
        with localcontext() as ctx:
            ctx.prec = 28
            exact = Decimal("0.5") ** (Decimal(age) / Decimal(self.half_life_days))
        return exact.quantize(Decimal(1).scaleb(-FACTOR_PLACES), ROUND_HALF_EVEN)

    def factors(self, first_day: date, last_day: date) -> dict[date, Decimal]:
        """Every day's decay factor in a period (to `FACTOR_PLACES` places)."""
        days = (last_day - first_day).days + 1
        return {
            first_day + timedelta(days=i): self.decay(first_day + timedelta(days=i), last_day)
            for i in range(days)
        }

    def points(
        self, quantities: Iterable[tuple[str, str, date, Decimal]], last_day: date
    ) -> dict[str, MemberPoints]:
        """Points per member from (member, type, day, quantity) rows of one period (a row of a
        decayed sum comes dated `last_day`, with factor 1)."""
        decayed: dict[str, dict[str, Decimal]] = {}
        factors: dict[date, Decimal] = {}  # a year has 366 days, a period's rows millions
        for member, kind, day, quantity in quantities:
            factor = factors.get(day)
            if factor is None:
                factor = factors[day] = self.decay(day, last_day)
            per_type = decayed.setdefault(member, {})
            per_type[kind] = per_type.get(kind, Decimal(0)) + quantity * factor
        out: dict[str, MemberPoints] = {}
        for member, per_type in decayed.items():
            by_type: dict[str, Decimal] = {}
            for kind, quantity in per_type.items():
                weight = self.weights.get(kind, Decimal(0))
                cap = self.caps.get(kind)
                counted = quantity if cap is None else min(quantity, cap)
                by_type[kind] = (weight * counted).quantize(_POINT, rounding=ROUND_HALF_EVEN)
            out[member] = MemberPoints(member, by_type)
        return out


@dataclass(frozen=True)
class MemberPoints:
    member_id: str
    by_type: Mapping[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_type.values(), Decimal(0))


@dataclass(frozen=True)
class EquationVersion:
    """An equation as adopted: its version, from when, and the decision that adopted it."""

    version: int
    equation: ValueEquation
    effective_from: datetime | None  # None: version 1, from the start
    decision_id: str | None  # None: version 1, the city config


def share_of(points: Decimal, total: Decimal) -> Decimal:
    """A member's share to `SHARE_PLACES` places (0 when nobody has points)."""
    if total == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 34
        return (points / total).quantize(Decimal(1).scaleb(-SHARE_PLACES), ROUND_HALF_EVEN)
