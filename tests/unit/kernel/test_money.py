"""Money: exact amounts, no mixing currencies, splits that sum exactly (largest remainder)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.money import Money, MoneyError, minor_units

CURRENCIES = ["EUR", "JPY", "KWD"]

ratios = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8).filter(
    lambda ws: sum(ws) > 0
)
decimal_ratios = st.lists(
    st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=6,
).filter(lambda ws: sum(ws) > 0)


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(CURRENCIES),
    weights=st.one_of(ratios, decimal_ratios),
)
def test_allocate_sums_exactly_and_each_part_is_within_one_minor_unit(
    minor: int, currency: str, weights: list[int | Decimal]
) -> None:
    whole = Money.from_minor(minor, currency)
    parts = whole.allocate(dict(enumerate(weights)))

    assert list(parts) == list(range(len(weights)))
    assert sum((p.minor for p in parts.values()), 0) == minor
    assert all(p.currency == currency for p in parts.values())
    total_weight = sum(Fraction(Decimal(w)) for w in weights)
    for i, w in enumerate(weights):
        exact = Fraction(minor) * Fraction(Decimal(w)) / total_weight
        assert abs(Fraction(parts[i].minor) - exact) < 1
        if w == 0:
            assert parts[i].minor == 0


@given(minor=st.integers(min_value=-(10**9), max_value=10**9), weights=ratios)
def test_negative_amounts_split_as_the_mirror_of_the_positive(
    minor: int, weights: list[int]
) -> None:
    keyed = dict(enumerate(weights))
    positive = Money.from_minor(abs(minor), "EUR").allocate(keyed)
    negative = Money.from_minor(-abs(minor), "EUR").allocate(keyed)
    assert {k: -v.minor for k, v in positive.items()} == {k: v.minor for k, v in negative.items()}


def test_leftover_cents_go_to_the_largest_remainders_first() -> None:
    # 0.10 over 1:1:1 is 3.33..c each: the one left-over cent goes to the first (a tie).
    parts = Money.of("0.10", "EUR").allocate({"a": 1, "b": 1, "c": 1})
    assert [p.amount for p in parts.values()] == [Decimal("0.04"), Decimal("0.03"), Decimal("0.03")]
    # 1.00 over 85:10:4:1 is exact.
    split = Money.of("1.00", "EUR").allocate({"d": 85, "c": 10, "f": 4, "p": 1})
    assert {k: v.amount for k, v in split.items()} == {
        "d": Decimal("0.85"),
        "c": Decimal("0.10"),
        "f": Decimal("0.04"),
        "p": Decimal("0.01"),
    }


@pytest.mark.parametrize("ratios", [{}, {"a": 0}, {"a": 1, "b": -1}, {"a": -1}])
def test_allocation_rejects_empty_zero_or_negative_ratios(ratios: dict[str, int]) -> None:
    with pytest.raises(MoneyError):
        Money.of("1.00", "EUR").allocate(ratios)


def test_mixing_currencies_raises() -> None:
    eur, usd = Money.of("1.00", "EUR"), Money.of("1.00", "USD")
    with pytest.raises(MoneyError, match="cannot combine EUR with USD"):
        _ = eur + usd
    with pytest.raises(MoneyError, match="cannot combine"):
        _ = eur - usd
    with pytest.raises(MoneyError, match="cannot combine"):
        _ = eur < usd


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.001", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD")],
)
def test_amounts_more_precise_than_the_currency_raise(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="more precision"):
        Money(Decimal(amount), currency)


@pytest.mark.parametrize("currency", ["eur", "EU", "EURO", "E1R"])
def test_bad_currency_codes_raise(currency: str) -> None:
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money(Decimal("1.00"), currency)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "abc"])
def test_non_numbers_and_non_finite_amounts_raise(amount: str) -> None:
    with pytest.raises(MoneyError):
        Money.of(amount, "EUR")


def test_of_rounds_half_even_to_the_minor_unit() -> None:
    assert Money.of("0.125", "EUR").amount == Decimal("0.12")
    assert Money.of("0.135", "EUR").amount == Decimal("0.14")
    assert Money.of("2.5", "JPY").amount == Decimal(2)
    assert minor_units("KWD") == 3


@given(a=st.integers(-(10**9), 10**9), b=st.integers(-(10**9), 10**9))
def test_addition_and_subtraction_are_exact(a: int, b: int) -> None:
    x, y = Money.from_minor(a, "EUR"), Money.from_minor(b, "EUR")
    assert (x + y).minor == a + b
    assert (x - y).minor == a - b
    assert (-x).minor == -a
    assert (x <= y) == (a <= b)
