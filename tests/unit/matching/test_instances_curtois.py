"""The Curtois & Qu reader against the shared benchmark files."""

from __future__ import annotations

from datetime import date

import pytest

from bench.common import SHARED_BENCHMARKS
from matching.instances.curtois import parse_curtois, read_curtois
from matching.status import InvalidProblem
from tests.support.benchmarks import benchmark_files_required

FOLDER = SHARED_BENCHMARKS / "shift-scheduling" / "curtois-qu"
pytestmark = benchmark_files_required(FOLDER)


@pytest.mark.parametrize(
    ("name", "employees", "shift_types", "days", "on", "off", "cover"),
    [
        ("Instance1", 8, 1, 14, 21, 5, 14),
        ("Instance3", 20, 3, 14, 39, 25, 42),
        ("Instance5", 16, 2, 28, 79, 27, 56),
        ("Instance7", 20, 3, 28, 104, 64, 84),
    ],
)
def test_counts(
    name: str, employees: int, shift_types: int, days: int, on: int, off: int, cover: int
) -> None:
    inst = read_curtois(FOLDER / f"{name}.ros")
    assert inst.name == name
    assert len(inst.employees) == employees
    assert len(inst.shift_types) == shift_types
    assert inst.num_days == days
    assert (len(inst.on_requests), len(inst.off_requests), len(inst.cover)) == (on, off, cover)
    assert len(inst.fixed) == employees * (2 if days == 28 else 1)


def test_known_values_instance3() -> None:
    inst = read_curtois(FOLDER / "Instance3.ros")
    assert inst.start_date == date(2014, 1, 6)
    assert inst.end_date == date(2014, 1, 19)
    assert [(t.id, t.start_minute, t.duration) for t in inst.shift_types] == [
        ("E", 360, 480),
        ("D", 540, 480),
        ("L", 840, 480),
    ]
    a = inst.employees[0]
    assert a.id == "A"
    assert a.contract_ids == ("All", "A")
    c = a.contract
    assert c.min_rest_minutes == 840
    assert (c.max_consecutive_shifts, c.min_consecutive_shifts, c.min_consecutive_days_off) == (
        5,
        2,
        2,
    )
    assert (c.min_total_minutes, c.max_total_minutes, c.max_weekends) == (3360, 4320, 1)
    assert c.valid_shifts == frozenset({"E", "D"})
    assert dict(inst.employees[1].contract.max_shifts_per_type) == {"L": 5}
    assert inst.fixed[0].employee == "A"
    assert inst.fixed[0].day == 0
    assert inst.fixed[0].shift == "-"
    first_off = inst.off_requests[0]
    assert (first_off.employee, first_off.day, first_off.shift, first_off.weight) == (
        "A",
        9,
        "E",
        2,
    )
    first_cover = inst.cover[0]
    assert (first_cover.day, first_cover.shift, first_cover.min, first_cover.min_weight) == (
        0,
        "E",
        2,
        100,
    )
    assert (first_cover.max, first_cover.max_weight) == (2, 1)
    assert inst.weekends() == ((5, 6), (12, 13))


def test_unknown_elements_are_refused() -> None:
    text = (
        (FOLDER / "Instance1.ros")
        .read_text()
        .replace("<MinRestTime", "<MaxRestTime")
        .replace("</MinRestTime>", "</MaxRestTime>")
    )
    with pytest.raises(InvalidProblem, match="unsupported element MaxRestTime"):
        parse_curtois(text)


def test_crlf_and_lf_read_the_same() -> None:
    text = (FOLDER / "Instance1.ros").read_text()
    assert parse_curtois(text.replace("\r\n", "\n")) == parse_curtois(
        text.replace("\n", "\r\n").replace("\r\r", "\r")
    )
