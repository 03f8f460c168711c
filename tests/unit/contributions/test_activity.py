"""The city's activity per day (contributions/activity.py): given entries, the rows; the days
of a range with zeros between; the city's local dates; a plain fold of random entries in any
order with repeats; a rebuild equals the kept tables; bad ranges refused."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.activity import MAX_DAYS, ActivityDay, BadRange, CityActivity, RangeTooLong
from contributions.domain import HOUR, Posting, member_account
from kernel.ids import new_member_id
from kernel.readside import rebuild
from tests.support.ledger import AT, completed, consume, new_app

if TYPE_CHECKING:
    from contributions.application import Contributions

DRIVERS = [new_member_id("demo") for _ in range(2)]  # type: ignore[arg-type]
DAY = date(2026, 11, 28)  # AT's date, in Brussels too (09:30 UTC is 10:30 there)


def activity(app: Contributions, first: date = DAY, last: date = DAY) -> list[ActivityDay]:
    model, _ = app.activity()
    return model.days(first, last, currency="EUR")


def rows(app: Contributions) -> list[dict[str, Any]]:
    model, _ = app.activity()
    return model.view.rows_of_generation("days", model.view.generation)


def test_a_completed_ride_counts_its_fare_and_credits_on_its_day() -> None:
    app = new_app()
    consume(app, completed(DRIVERS[0], 1000, Decimal(30)), 1)  # 10.00 EUR, half an hour

    assert rows(app) == [
        {
            "unit": "EUR",
            "day": "2026-11-28",
            "entries": 1,
            "rides": 1,
            "fares": Decimal("10.00"),
            "credited": Decimal("8.50"),  # the driver's 85 %; the funds are not members
        },
        {
            "unit": HOUR,
            "day": "2026-11-28",
            "entries": 1,
            "rides": 0,
            "fares": Decimal(0),
            "credited": Decimal("0.50"),
        },
    ]
    assert activity(app) == [
        ActivityDay(
            DAY, rides=1, fares=Decimal("10.00"), earnings=Decimal("8.50"), hours=Decimal("0.50")
        )
    ]


def test_a_range_holds_every_day_in_order_with_zeros_where_nothing_happened() -> None:
    app = new_app()
    consume(app, completed(DRIVERS[0], 1000, Decimal(30)), 1)
    consume(app, completed(DRIVERS[1], 2345, Decimal(12)), 2)
    consume(app, completed(DRIVERS[0], 700, Decimal(6), at=AT + timedelta(days=2)), 3)

    days = activity(app, DAY - timedelta(days=1), DAY + timedelta(days=3))

    assert [(d.day, d.rides, d.fares, d.earnings, d.hours) for d in days] == [
        (date(2026, 11, 27), 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        (date(2026, 11, 28), 2, Decimal("33.45"), Decimal("28.43"), Decimal("0.70")),
        (date(2026, 11, 29), 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        (date(2026, 11, 30), 1, Decimal("7.00"), Decimal("5.95"), Decimal("0.10")),
        (date(2026, 12, 1), 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]


def test_the_day_is_the_citys_local_date() -> None:
    app = new_app()
    # 23:30 UTC on 28 November is 00:30 on the 29th in Brussels (the demo city's zone).
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    consume(app, completed(DRIVERS[0], 1000, Decimal(30), at=late), 1)

    days = activity(app, DAY, DAY + timedelta(days=1))

    assert [(d.day, d.rides) for d in days] == [(DAY, 0), (date(2026, 11, 29), 1)]


def test_an_adjusting_entry_lowers_what_was_credited_that_day() -> None:
    app = new_app()
    consume(app, completed(DRIVERS[0], 1000, Decimal(30)), 1)
    app.post_entry(
        source="demo/contests/1",
        purpose="adjustment",
        memo="half an hour too many",
        at=AT + timedelta(hours=1),
        postings=[
            Posting(member_account(DRIVERS[0], "hours:driving"), Decimal("0.25"), HOUR),
            Posting("contributions:recognised", Decimal("-0.25"), HOUR),
        ],
    )

    [day] = activity(app)

    assert (day.rides, day.hours) == (1, Decimal("0.25"))


def test_a_range_past_a_year_or_backwards_is_refused() -> None:
    model, _ = new_app().activity()
    year = DAY + timedelta(days=MAX_DAYS - 1)

    assert len(model.days(DAY, year, currency="EUR")) == MAX_DAYS
    with pytest.raises(RangeTooLong) as too_long:
        model.days(DAY, year + timedelta(days=1), currency="EUR")
    assert too_long.value.days == MAX_DAYS + 1
    with pytest.raises(BadRange) as backwards:
        model.days(DAY, DAY - timedelta(days=1), currency="EUR")
    assert backwards.value.field == "to"


ENTRY = st.tuples(
    st.sampled_from(["fare-split", "driving-hours", "adjustment"]),
    st.integers(0, 4),  # the ride
    st.integers(0, 3 * 24 - 1),  # hours after a midnight UTC: three days and their edges
    st.decimals(min_value=Decimal("-50"), max_value=Decimal("50"), places=2),
    st.sampled_from(["EUR", HOUR]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(ENTRY, min_size=1, max_size=12, unique_by=lambda e: e[:2]), data=st.data())
def test_the_rows_are_a_plain_fold_of_the_entries_whatever_the_order_and_repeats(
    entries: list[tuple[str, int, int, Decimal, str]], data: st.DataObject
) -> None:
    # given facts posted in random order, some of them several times
    repeats = data.draw(st.lists(st.sampled_from(entries), max_size=5))
    feed = data.draw(st.permutations([*entries, *repeats]))
    app = new_app()
    start = datetime(2026, 11, 27, tzinfo=UTC)

    def post(entry: tuple[str, int, int, Decimal, str]) -> None:
        purpose, ride, hours, amount, unit = entry
        app.post_entry(
            source=f"demo/rides/{ride}",
            purpose=purpose,
            memo="",
            at=start + timedelta(hours=hours),
            postings=[
                Posting("rides:fares-collected", amount, unit),
                Posting(member_account(DRIVERS[ride % 2], "earnings"), -amount, unit),
            ],
        )

    for entry in feed:
        post(entry)

    # then each (unit, local day) row sums the distinct facts of that day
    expected: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"entries": 0, "rides": 0, "fares": Decimal(0), "credited": Decimal(0)}
    )
    brussels = app.read_model(CityActivity).zone
    for purpose, _, hours, amount, unit in entries:
        day = (start + timedelta(hours=hours)).astimezone(brussels).date().isoformat()
        row = expected[(unit, day)]
        row["entries"] += 1
        if purpose == "fare-split":
            row["rides"] += 1
            row["fares"] += abs(amount)  # the entry's debits: its one positive posting
        row["credited"] += amount
    assert {
        (r["unit"], r["day"]): {k: r[k] for k in expected[(r["unit"], r["day"])]} for r in rows(app)
    } == dict(expected)


def test_a_rebuilt_activity_equals_the_incrementally_kept_one() -> None:
    app = new_app()
    for i in range(30):
        at = AT + timedelta(hours=7 * i)  # across a week, some after midnight in Brussels
        consume(app, completed(DRIVERS[i % 2], 500 + 37 * i, Decimal(5 + i), at=at), i + 1)
    kept = rows(app)
    model = app.read_model(CityActivity)

    done = rebuild(app, model, batch_size=7)

    assert done.events == 60
    assert model.view.generation == done.generation == 2
    assert rows(app) == kept
    assert sum(r["rides"] for r in kept) == 30
