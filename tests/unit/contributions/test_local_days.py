"""Days and periods are the city's own calendar (its `timezone`, Europe/Brussels in the demo
city), not UTC: a month closes at local midnight, across changes of daylight saving time too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from contributions.application import Contributions
from contributions.equations import ValueEquation
from contributions.periods import PeriodSpan
from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.paging import page_request
from kernel.time import FixedClock
from tests.support.ledger import CITY, completed, consume

BRUSSELS = ZoneInfo("Europe/Brussels")
DRIVER = new_member_id("demo")  # type: ignore[arg-type]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


def new_app(now: datetime) -> Contributions:
    assert CITY.timezone == "Europe/Brussels"
    return Contributions(Settings(persistence="popo"), city=CITY, clock=FixedClock(now))


def drive(app: Contributions, at: datetime, minutes: int, position: int) -> None:
    """A ride the driver completed at `at`, as the consumer applies it."""
    consume(app, completed(DRIVER, 1_000, Decimal(minutes), at=at), position)


def days(app: Contributions) -> list[tuple[str, Decimal]]:
    rows = app.contribution_days().view.select("member_days", order_by=("day",))
    return [(r["day"], r["quantity"]) for r in rows]


def test_a_period_runs_from_local_midnight_to_local_midnight_across_dst() -> None:
    # October 2026: summer time (UTC+2) until the 25th, winter time (UTC+1) after
    october = PeriodSpan.parse("2026-10")
    assert october.starts(BRUSSELS) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.ends(BRUSSELS) == datetime(2026, 10, 31, 22, 59, 59, 999_999, tzinfo=UTC)
    # March 2026: winter time until the 29th, summer time after
    march = PeriodSpan.parse("2026-03")
    assert march.starts(BRUSSELS) == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert march.ends(BRUSSELS) == datetime(2026, 3, 31, 21, 59, 59, 999_999, tzinfo=UTC)


def test_23_30_local_on_the_last_day_counts_in_that_month_and_00_30_in_the_next() -> None:
    app = new_app(local(2026, 12, 2, 12))
    app.open_period("2026-11")
    # 23:30 in Brussels on 30 November is 22:30 UTC: November's
    drive(app, local(2026, 11, 30, 23, 30), 60, 1)
    # 00:30 in Brussels on 1 December is 23:30 UTC on 30 November: December's, not November's
    drive(app, local(2026, 12, 1, 0, 30), 30, 2)
    assert days(app) == [("2026-11-30", Decimal(1)), ("2026-12-01", Decimal("0.5"))]

    closed = app.close_period("2026-11")
    assert (closed.members, closed.total_points) == (1, Decimal(1))
    # the statement's lines are the local month's too: the fare and the hour of 30 November
    lines = app.statement_lines(DRIVER, "2026-11", page_request(10, None, arity=3)).items
    assert {line.unit for line in lines} == {"EUR", "HOUR"}
    assert all(line.at < datetime(2026, 11, 30, 23, tzinfo=UTC) for line in lines)
    december = app.statement_lines(DRIVER, "2026-12", page_request(10, None, arity=3)).items
    assert sorted(-line.amount for line in december if line.unit == "HOUR") == [Decimal("0.5")]


def test_a_day_around_the_change_to_winter_time_is_one_local_date() -> None:
    app = new_app(local(2026, 11, 2, 12))
    # 25 October has 25 hours in Brussels: 00:30 (UTC+2) and 23:30 (UTC+1) are both that day
    drive(app, local(2026, 10, 25, 0, 30), 60, 1)
    drive(app, local(2026, 10, 25, 23, 30), 60, 2)
    # 00:30 on the 26th is 23:30 UTC on the 25th: the 26th in Brussels
    drive(app, local(2026, 10, 26, 0, 30), 60, 3)
    # and 23:30 on the 31st, the month's last local day, is still October's
    drive(app, local(2026, 10, 31, 23, 30), 60, 4)
    assert days(app) == [
        ("2026-10-25", Decimal(2)),
        ("2026-10-26", Decimal(1)),
        ("2026-10-31", Decimal(1)),
    ]
    # a decaying equation ages each credit by local days to the 31st: 6, 6, 5 and 0 days
    halving = ValueEquation.of({"work/driving": "1"}, half_life_days=1)
    simulated = app.simulate_equation(halving, "2026-10")
    [row] = simulated.rows
    expected = 2 * halving.decay(date(2026, 10, 25), date(2026, 10, 31))
    expected += halving.decay(date(2026, 10, 26), date(2026, 10, 31)) + 1
    assert row.proposed_points == expected.quantize(Decimal("0.0001"))
    assert row.current_points == Decimal(4)


def test_an_equation_adopted_from_local_midnight_is_not_in_force_on_the_day_before() -> None:
    app = new_app(local(2026, 12, 2, 12))
    # in force from 00:00 on 1 December in Brussels (23:00 UTC on 30 November)
    adopted = app.adopt_equation(
        ValueEquation.of({"work/driving": "3"}), "decision-1", local(2026, 12, 1)
    )
    assert app.equation_in_force(date(2026, 11, 30)).version == 1
    assert app.equation_in_force(date(2026, 12, 1)).version == adopted.version == 2
    app.open_period("2026-11")
    drive(app, local(2026, 11, 30, 23, 30), 60, 1)
    assert app.close_period("2026-11").equation_version == 1
