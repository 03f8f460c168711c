"""Policies: a change is a typed path and a value, validated against the city config schema;
the config at a time is the file plus the versions in force then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kernel.cities import load_city
from kernel.policies import (
    InvalidPolicyChange,
    Policies,
    PolicyChange,
    PolicyVersion,
    apply_changes,
    canonical,
)

CITY = load_city("demo")
T0 = datetime(2027, 1, 1, tzinfo=UTC)
SPLIT = {"driver": 87, "coop": 8, "common_fund": 4, "protocol": 1}


def test_a_change_is_applied_and_the_whole_config_validated() -> None:
    changed = apply_changes(CITY, [PolicyChange("rides.split", SPLIT)])
    assert changed.rides.split == SPLIT
    assert changed.rides.fare_base == CITY.rides.fare_base  # the rest is the file's


def test_values_are_kept_as_the_config_holds_them() -> None:
    found = canonical(CITY, [PolicyChange("governance.quorum_percent", 25)])
    assert found == (PolicyChange("governance.quorum_percent", "25"),)


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (PolicyChange("rides.split", {"driver": 90, "coop": 20}), "rides.split", "split"),
        (PolicyChange("rides.fare_base", "-1"), "rides.fare_base", "greater than or equal"),
        (PolicyChange("rides.surge", 2), "rides.surge", "no setting 'surge'"),
        (PolicyChange("currency", "USD"), "currency", "not changed by a decision"),
        (PolicyChange("id", "elsewhere"), "id", "not changed by a decision"),
        (PolicyChange("rides..split", 1), "rides..split", "dotted names"),
        (PolicyChange("nowhere.at_all", 1), "nowhere.at_all", "no 'nowhere'"),
    ],
)
def test_a_change_the_config_cannot_hold_is_refused_naming_its_path(
    change: PolicyChange, path: str, words: str
) -> None:
    with pytest.raises(InvalidPolicyChange) as refused:
        canonical(CITY, [change])
    assert refused.value.path == path
    assert words in str(refused.value)


def test_an_equation_with_a_negative_weight_is_refused() -> None:
    equation = {"weights": {"work/driving": "1", "work/care": "-0.5"}}
    with pytest.raises(InvalidPolicyChange, match="must not be negative"):
        canonical(CITY, [PolicyChange("contributions.equation", equation)])


def test_an_equation_is_data_in_the_config() -> None:
    equation = {"weights": {"work/driving": "1", "work/care": "1.5"}}
    changed = apply_changes(CITY, [PolicyChange("contributions.equation", equation)])
    assert changed.contributions.equation is not None
    assert changed.contributions.equation.weights["work/care"] == Decimal("1.5")


def test_one_decision_changes_a_path_once() -> None:
    twice = [PolicyChange("rides.fare_base", "3"), PolicyChange("rides.fare_base", "4")]
    with pytest.raises(InvalidPolicyChange, match="once"):
        canonical(CITY, twice)
    nested = [PolicyChange("rides.split", SPLIT), PolicyChange("rides.split.driver", 87)]
    with pytest.raises(InvalidPolicyChange, match=r"inside rides\.split"):
        canonical(CITY, nested)


def test_no_changes_is_no_decision() -> None:
    with pytest.raises(InvalidPolicyChange):
        canonical(CITY, [])


def test_the_config_at_a_time_is_the_file_plus_the_versions_in_force() -> None:
    policies = Policies(
        CITY,
        [
            PolicyVersion(
                3, T0 + timedelta(days=10), "d2", (PolicyChange("rides.fare_base", "3"),)
            ),
            PolicyVersion(2, T0, "d1", (PolicyChange("rides.split", SPLIT),)),
        ],
    )
    before = policies.at(T0 - timedelta(seconds=1))
    assert (before.version, before.config) == (1, CITY)
    first = policies.at(T0)
    assert first.version == 2
    assert first.config.rides.split == SPLIT
    assert first.config.rides.fare_base == CITY.rides.fare_base
    later = policies.at(T0 + timedelta(days=30))
    assert later.version == 3
    assert (later.config.rides.split, later.config.rides.fare_base) == (SPLIT, Decimal(3))
    assert [v.version for v in policies.history()] == [1, 2, 3]
    assert policies.latest == 3
