"""Contributions: a double-entry ledger that balances, stores its postings typed, rebuilds from
its events, and takes each completed ride exactly once."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contributions.domain import (
    HOUR,
    InvalidEntry,
    JournalEntry,
    Posting,
    UnbalancedEntry,
    check_balanced,
    member_account,
    member_of,
)
from contributions.inbound import RideCompleted
from kernel.ids import new_member_id
from kernel.money import Money
from tests.support.gwt import names_and_attrs, replay, state_of
from tests.support.ledger import AT, CITY, completed, consume, new_app, tables, tracking

DRIVERS = [new_member_id("demo") for _ in range(3)]  # type: ignore[arg-type]

rides_strategy = st.lists(
    st.tuples(
        st.sampled_from(range(len(DRIVERS))),
        st.integers(min_value=250, max_value=50_000),  # fares in cents
        st.decimals(min_value=1, max_value=240, places=1),  # minutes driving
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rides=rides_strategy)
def test_every_unit_balances_and_members_earn_their_driver_parts(
    rides: list[tuple[int, int, Decimal]],
) -> None:
    app = new_app()
    earnings: dict[str, Decimal] = defaultdict(Decimal)
    hours: dict[str, Decimal] = defaultdict(Decimal)
    for position, (who, cents, minutes) in enumerate(rides, start=1):
        event = completed(DRIVERS[who], cents, minutes)
        consume(app, event, position)
        earnings[event.driver_id] += event.split["driver"]
        hours[event.driver_id] += (minutes / 60).quantize(Decimal("0.01"))

    ledger, _ = app.ledger()
    assert ledger.entries() == 2 * len(rides)  # a fare split and driving hours per ride
    assert {u.unit: u.balanced for u in ledger.units()} == {CITY.currency: True, HOUR: True}
    for driver in DRIVERS:
        totals = ledger.member_totals(driver, CITY.currency)
        assert (totals.earnings, totals.hours_driving) == (earnings[driver], hours[driver])
    # Fares collected equal what riders paid in total.
    paid = sum(Money.from_minor(c, CITY.currency).amount for _, c, _ in rides)
    assert ledger.balance("rides:fares-collected", CITY.currency) == paid


def _replay_journal(app: object) -> dict[tuple[str, str], Decimal]:
    """Balances from nothing but the JournalEntry events in the notification log."""
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for notification in app.notification_log.select(start=1, limit=500):  # type: ignore[attr-defined]
        domain_event = app.mapper.to_domain_event(notification)  # type: ignore[attr-defined]
        if isinstance(domain_event, JournalEntry.Posted):
            for p in domain_event.postings:
                balances[(p.unit, p.account)] += p.amount
    return dict(balances)


def test_replaying_the_journal_entries_gives_the_balances_in_the_tables() -> None:
    app = new_app()
    for position, (who, cents, minutes) in enumerate(
        [(0, 1234, Decimal("17.5")), (1, 999, Decimal(9)), (0, 40_001, Decimal("61.3"))], start=1
    ):
        consume(app, completed(DRIVERS[who], cents, minutes), position)

    kept = {(r["unit"], r["account"]): r["balance"] for r in tables(app)["balances"]}
    assert kept == _replay_journal(app)
    assert len(kept) == 9  # fares, 2 x (earnings, hours), 3 funds, hours recognised


def test_the_same_ride_completed_with_the_same_tracking_changes_nothing() -> None:
    app = new_app()
    event = completed(DRIVERS[0], 2000, Decimal(20))
    consume(app, event, 5)
    before_id = app.recorder.max_notification_id()
    before = tables(app)

    with pytest.raises(IntegrityError):
        consume(app, event, 5)

    assert app.already_applied(tracking(event, 5))
    assert app.recorder.max_notification_id() == before_id
    assert tables(app) == before
    ledger, _ = app.ledger()
    assert ledger.member_totals(DRIVERS[0], "EUR").earnings == Decimal("17.00")  # 85 %, once


def test_the_same_ride_under_another_source_position_is_posted_once() -> None:
    """A restored source store can renumber its notifications: the fact, not the position,
    decides whether an entry exists."""
    app = new_app()
    ride = completed(new_member_id("demo"), 1234, Decimal("15"))  # type: ignore[arg-type]
    consume(app, ride, 7)
    before = tables(app)

    consume(app, ride, 70)

    assert tables(app) == before
    ledger, _ = app.ledger()
    assert ledger.entries() == 2  # one fare split and one hours entry, not two of each


def test_an_unknown_split_part_is_kept_visible_not_lost() -> None:
    app = new_app()
    event = completed(DRIVERS[0], 1000, Decimal(10))
    odd = event.model_copy(
        update={"split": {**event.split, "driver": Decimal("8.00"), "x": Decimal("0.50")}}
    )
    consume(app, odd, 1)
    ledger, _ = app.ledger()
    assert ledger.balance("unallocated:x", "EUR") == Decimal("-0.50")
    assert all(u.balanced for u in ledger.units())


def test_a_ride_whose_split_does_not_sum_to_its_fare_is_rejected_by_the_inbound_model() -> None:
    good = completed(DRIVERS[0], 1000, Decimal(10)).model_dump()
    with pytest.raises(ValidationError, match="the split sums to"):
        RideCompleted.model_validate({**good, "split": {**good["split"], "driver": "1.00"}})
    with pytest.raises(ValidationError, match="more precision than EUR"):
        RideCompleted.model_validate({**good, "fare": "10.001"})


@pytest.mark.parametrize(
    ("postings", "unit"),
    [
        ([Posting("a", Decimal("1.00"), "EUR"), Posting("b", Decimal("-0.99"), "EUR")], "EUR"),
        ([Posting("a", Decimal(1), "EUR"), Posting("b", Decimal(-1), HOUR)], "EUR"),
        (
            [
                Posting("a", Decimal(1), "EUR"),
                Posting("b", Decimal(-1), "EUR"),
                Posting("c", Decimal("0.5"), HOUR),
            ],
            HOUR,
        ),
    ],
)
def test_an_unbalanced_entry_is_refused(postings: list[Posting], unit: str) -> None:
    with pytest.raises(UnbalancedEntry, match=f"does not balance in {unit}"):
        JournalEntry.post(source="s", purpose="p", memo="m", at=AT, postings=postings)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Posting("a", Decimal("0.00001"), "EUR"), "more than 4 decimal places"),
        (lambda: Posting("a", Decimal("NaN"), "EUR"), "not a finite Decimal"),
        (lambda: Posting("", Decimal(1), "EUR"), "needs an account and a unit"),
        (
            lambda: JournalEntry.post(source="s", purpose="p", memo="m", at=AT, postings=[]),
            "at least one posting",
        ),
        (
            lambda: JournalEntry.post(
                source="s",
                purpose="p",
                memo="m",
                at=datetime(2026, 11, 28, 9, 30),  # noqa: DTZ001 (the point of the test)
                postings=[Posting("a", Decimal(1), "EUR"), Posting("b", Decimal(-1), "EUR")],
            ),
            "no time zone",
        ),
    ],
)
def test_an_entry_the_ledger_cannot_keep_exactly_is_refused(make: object, match: str) -> None:
    with pytest.raises(InvalidEntry, match=match):
        make()  # type: ignore[operator]


def test_a_balanced_entry_records_its_postings_typed() -> None:
    postings = [Posting("a", Decimal("2.50"), "EUR"), Posting("b", Decimal("-2.50"), "EUR")]
    check_balanced(postings)

    entry = JournalEntry.post(source="s", purpose="p", memo="m", at=AT, postings=postings)

    assert entry.id == JournalEntry.create_id("s", "p")
    events = entry.collect_events()
    assert names_and_attrs(events) == [
        ("Posted", {"source": "s", "purpose": "p", "memo": "m", "at": AT, "postings": postings})
    ]
    assert state_of(replay(events)) == state_of(entry)
    assert entry.postings == tuple(postings)


def test_postings_are_stored_typed_and_read_back_as_postings() -> None:
    app = new_app()
    money = Money.of("12.30", "EUR")
    app.post_entry(
        source="s",
        purpose="p",
        memo="m",
        at=AT,
        postings=[Posting.of("a", money), Posting.of("b", -money)],
    )
    [stored] = app.recorder.select_notifications(start=1, limit=10)

    state = json.loads(stored.state)
    assert state["class_version"] == 2
    assert state["postings"][0] == {
        "_type_": "contributions.Posting",
        "_data_": {
            "account": "a",
            "amount": {"_type_": "decimal_str", "_data_": "12.30"},
            "unit": "EUR",
        },
    }
    entry: JournalEntry = app.repository.get(JournalEntry.create_id("s", "p"))
    assert entry.postings == (
        Posting("a", Decimal("12.30"), "EUR"),
        Posting("b", -money.amount, "EUR"),
    )


def test_an_entry_stored_before_postings_were_typed_is_read_as_postings() -> None:
    app = new_app()
    entry_id = JournalEntry.create_id("demo/rides/1", "fare-split")
    v1 = {  # what the ledger stored before JournalEntry.Posted v2: amounts as strings
        "timestamp": {"_type_": "datetime_iso", "_data_": AT.isoformat()},
        "originator_topic": "contributions.domain:JournalEntry",
        "source": "demo/rides/1",
        "purpose": "fare-split",
        "memo": "fare",
        "at": {"_type_": "datetime_iso", "_data_": AT.isoformat()},
        "postings": [
            {"account": "rides:fares-collected", "amount": "10.00", "unit": "EUR"},
            {"account": member_account(DRIVERS[0], "earnings"), "amount": "-10.00", "unit": "EUR"},
        ],
    }
    stored = StoredEvent(
        originator_id=entry_id,
        originator_version=1,
        topic="contributions.domain:JournalEntry.Posted",
        state=json.dumps(v1).encode(),
    )

    event = app.mapper.to_domain_event(stored)

    assert isinstance(event, JournalEntry.Posted)
    assert event.postings == [
        Posting("rides:fares-collected", Decimal("10.00"), "EUR"),
        Posting(member_account(DRIVERS[0], "earnings"), Decimal("-10.00"), "EUR"),
    ]
    assert replay([event]).postings == tuple(event.postings)


@pytest.mark.parametrize(
    ("account", "member"),
    [
        (
            member_account("demo:" + str(uuid.UUID(int=1)), "earnings"),
            "demo:" + str(uuid.UUID(int=1)),
        ),
        (
            member_account("demo:" + str(uuid.UUID(int=2)), "hours:driving"),
            "demo:" + str(uuid.UUID(int=2)),
        ),
        ("coop:fund", None),
        ("member:demo", None),
    ],
)
def test_a_member_account_names_its_member(account: str, member: str | None) -> None:
    assert member_of(account) == member
