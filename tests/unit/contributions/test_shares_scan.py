"""Shares from one scan of the member days, on every store the read models use (the in-memory
and file SQLite of embedded mode, PostgreSQL at scale): closing and simulating weigh each day
once per equation in the same aggregate, and the result is exactly the equations applied day by
day to the rows (kernel TableView.sums(weighted=...))."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from contributions.application import Contributions
from contributions.equations import ValueEquation
from contributions.periods import PeriodSpan
from contributions.shares import decayed_quantities, points_under
from kernel.config import PostgresDsn, Settings
from kernel.ids import new_member_id
from kernel.time import FixedClock
from tests.support.ledger import CITY, completed, consume

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

A, B, C = (new_member_id("demo") for _ in range(3))  # type: ignore[arg-type]
EQUATIONS = {
    "flat": ValueEquation.of({"work/driving": "2"}),
    "decaying": ValueEquation.of({"work/driving": "1.5"}, {"work/driving": "3"}, half_life_days=7),
    "fast": ValueEquation.of({"work/driving": "1"}, half_life_days=1),
}


@pytest.fixture(params=["popo", "sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Contributions]:
    settings = Settings(persistence="popo")
    if request.param == "sqlite":
        settings = Settings(persistence="sqlite", data_dir=tmp_path)
    elif request.param == "postgres":
        dsn: str = request.getfixturevalue("postgres_dsn")
        prefix: str = request.getfixturevalue("pg_schema_prefix")
        settings = Settings(
            persistence="postgres", postgres=PostgresDsn.parse(dsn), schema_prefix=prefix
        )
    found = Contributions(settings, city=CITY, clock=FixedClock(datetime(2026, 12, 5, tzinfo=UTC)))
    # Rides over November and its edges: days in and out of the period, several a day.
    rides = [
        (A, datetime(2026, 10, 31, 12, tzinfo=UTC), 45),  # October: outside
        (A, datetime(2026, 11, 1, 8, tzinfo=UTC), 60),
        (A, datetime(2026, 11, 1, 18, tzinfo=UTC), 30),
        (B, datetime(2026, 11, 14, 9, tzinfo=UTC), 240),
        (A, datetime(2026, 11, 29, 9, tzinfo=UTC), 7),
        (C, datetime(2026, 11, 30, 20, tzinfo=UTC), 13),
        (B, datetime(2026, 12, 1, 9, tzinfo=UTC), 600),  # December: outside
    ]
    for i, (who, at, minutes) in enumerate(rides, start=1):
        consume(found, completed(who, 1_000, Decimal(minutes), at=at), i)
    yield found
    found.close()


def test_one_scan_gives_each_equation_exactly_as_applied_day_by_day(app: Contributions) -> None:
    span = PeriodSpan.parse("2026-11")
    found = points_under(app.contribution_days(), EQUATIONS, span)

    rows = [
        (r["member_id"], r["type"], date.fromisoformat(r["day"]), r["quantity"])
        for r in app.contribution_days().view.rows_of_generation("member_days", 1)
        if span.first_day.isoformat() <= r["day"] <= span.last_day.isoformat()
    ]
    assert len(rows) == 4  # A's 1 and 29 November, B's 14th, C's 30th
    for name, equation in EQUATIONS.items():
        by_hand = equation.points(rows, span.last_day)
        assert {m: p.total for m, p in found[name].items()} == {
            m: p.total for m, p in by_hand.items()
        }, name
    # and the days outside the period count nowhere
    # (the hours of each ride are credited to two places: 90 minutes 1.5, 7 minutes 0.12)
    assert found["flat"][A].total == 2 * (Decimal("1.5") + Decimal("0.12"))
    assert found["flat"][B].total == Decimal(8)


def test_a_simulation_reads_both_equations_from_the_same_rows(app: Contributions) -> None:
    proposed = EQUATIONS["decaying"]
    simulation = app.simulate_equation(proposed, "2026-11")
    alone = decayed_quantities(
        app.contribution_days(), {"p": proposed}, PeriodSpan.parse("2026-11")
    )
    decayed = {(m, t): q for m, t, _, q in alone["p"]}
    assert {r.member_id for r in simulation.rows} == {A, B, C}
    for row in simulation.rows:
        expected = proposed.weights["work/driving"] * min(
            decayed[(row.member_id, "work/driving")], proposed.caps["work/driving"]
        )
        assert row.proposed_points == expected.quantize(Decimal("0.0001"))
    assert sum(r.proposed_share for r in simulation.rows) == pytest.approx(
        Decimal(1), abs=Decimal("0.00001")
    )
