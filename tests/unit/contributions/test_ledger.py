"""Contributions: a double-entry ledger that balances, rebuilds from its events, and takes
each completed ride exactly once."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.application import Contributions
from contributions.domain import (
    HOUR,
    JournalEntry,
    Posting,
    TrialBalance,
    UnbalancedEntry,
    check_balanced,
)
from contributions.inbound import RideCompleted
from kernel.cities import load_city
from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.money import Money

CITY = load_city("demo")
DRIVERS = [new_member_id("demo") for _ in range(3)]  # type: ignore[arg-type]
AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def new_app() -> Contributions:
    return Contributions(Settings(persistence="popo"), city=CITY)


def completed(driver: str, fare_cents: int, driver_minutes: Decimal) -> RideCompleted:
    fare = Money.from_minor(fare_cents, CITY.currency)
    split = {k: v.amount for k, v in fare.allocate(CITY.rides.split).items()}
    ride_id = uuid.uuid4()
    return RideCompleted(
        event_id=uuid.uuid4(),
        city=CITY.id,
        occurred_at=AT,
        aggregate_id=ride_id,
        ride_id=ride_id,
        driver_id=driver,
        distance_km=Decimal("3.40"),
        driver_minutes=driver_minutes,
        fare=fare.amount,
        currency=fare.currency,
        split=split,
    )


def tracking(event: RideCompleted, position: int) -> Tracking:
    return Tracking(f"{event.city}/rides/{event.aggregate_id}", position)


def per_unit(balances: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for (unit, _), amount in balances.items():
        sums[unit] += amount
    return dict(sums)


rides_strategy = st.lists(
    st.tuples(
        st.sampled_from(range(len(DRIVERS))),
        st.integers(min_value=250, max_value=50_000),  # fares in cents
        st.decimals(min_value=1, max_value=240, places=1),  # minutes driving
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(rides=rides_strategy)
def test_every_unit_balances_and_members_earn_their_driver_parts(
    rides: list[tuple[int, int, Decimal]],
) -> None:
    app = new_app()
    earnings: dict[str, Decimal] = defaultdict(Decimal)
    hours: dict[str, Decimal] = defaultdict(Decimal)
    for position, (who, cents, minutes) in enumerate(rides, start=1):
        event = completed(DRIVERS[who], cents, minutes)
        app.process_event(event, tracking(event, position))  # type: ignore[arg-type]
        earnings[event.driver_id] += event.split["driver"]
        hours[event.driver_id] += (minutes / 60).quantize(Decimal("0.01"))

    balance = app.trial_balance()
    assert balance is not None
    assert len(balance.entries) == 2 * len(rides)  # a fare split and driving hours per ride
    assert set(per_unit(balance.balance()).values()) == {Decimal(0)}
    for driver in DRIVERS:
        account = app.account_of(driver)
        if driver not in earnings:
            assert account is None
            continue
        assert account is not None
        assert account.total("earnings", CITY.currency) == earnings[driver]
        assert account.total("hours:driving", HOUR) == hours[driver]
    # Fares collected equal what riders paid in total.
    paid = sum(Money.from_minor(c, CITY.currency).amount for _, c, _ in rides)
    assert balance.balance()[(CITY.currency, "rides:fares-collected")] == paid


def _replay_journal(app: Contributions) -> dict[tuple[str, str], Decimal]:
    """Balances rebuilt from nothing but the JournalEntry events in the notification log."""
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    start = 1
    while True:
        section = app.notification_log.select(start=start, limit=500)
        for notification in section:
            domain_event = app.mapper.to_domain_event(notification)
            if isinstance(domain_event, JournalEntry.Posted):  # type: ignore[attr-defined]
                for p in domain_event.postings:
                    balances[(p["unit"], p["account"])] += Decimal(p["amount"])
        if len(section) < 500:
            return dict(balances)
        start = section[-1].id + 1


def test_replaying_the_journal_entries_rebuilds_the_trial_balance() -> None:
    app = new_app()
    for position, (who, cents, minutes) in enumerate(
        [(0, 1234, Decimal("17.5")), (1, 999, Decimal(9)), (0, 40_001, Decimal("61.3"))], start=1
    ):
        event = completed(DRIVERS[who], cents, minutes)
        app.process_event(event, tracking(event, position))  # type: ignore[arg-type]

    balance = app.trial_balance()
    assert balance is not None
    assert _replay_journal(app) == balance.balance()
    # And the aggregate itself replays to the same balances from its own events.
    rebuilt: TrialBalance = app.repository.get(balance.id)
    assert rebuilt.balance() == balance.balance()


def test_the_same_ride_completed_with_the_same_tracking_changes_nothing() -> None:
    app = new_app()
    event = completed(DRIVERS[0], 2000, Decimal(20))
    app.process_event(event, tracking(event, 5))  # type: ignore[arg-type]
    before_id = app.recorder.max_notification_id()
    before = app.trial_balance()
    assert before is not None

    with pytest.raises(IntegrityError):
        app.process_event(event, tracking(event, 5))  # type: ignore[arg-type]

    assert app.already_applied(tracking(event, 5))
    assert app.recorder.max_notification_id() == before_id
    after = app.trial_balance()
    assert after is not None
    assert after.balance() == before.balance()
    account = app.account_of(DRIVERS[0])
    assert account is not None
    assert account.total("earnings", "EUR") == Decimal("17.00")  # 85 % of 20.00, once


def test_an_unknown_split_part_is_kept_visible_not_lost() -> None:
    app = new_app()
    event = completed(DRIVERS[0], 1000, Decimal(10))
    odd = event.model_copy(
        update={"split": {**event.split, "driver": Decimal("8.00"), "x": Decimal("0.50")}}
    )
    app.process_event(odd, tracking(odd, 1))  # type: ignore[arg-type]
    balance = app.trial_balance()
    assert balance is not None
    assert balance.balance()[("EUR", "unallocated:x")] == Decimal("-0.50")
    assert set(per_unit(balance.balance()).values()) == {Decimal(0)}


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


def test_a_balanced_entry_records_its_postings() -> None:
    postings = [Posting("a", Decimal("2.50"), "EUR"), Posting("b", Decimal("-2.50"), "EUR")]
    check_balanced(postings)
    entry = JournalEntry.post(source="s", purpose="p", memo="m", at=AT, postings=postings)
    assert entry.id == JournalEntry.create_id("s", "p")
    assert entry.typed_postings() == postings
    events = entry.collect_events()
    assert [type(e).__name__ for e in events] == ["Posted"]


def test_the_same_ride_under_another_source_position_is_posted_once() -> None:
    """A restored source store can renumber its notifications: the fact, not the position,
    decides whether an entry exists."""
    app = new_app()
    ride = completed(new_member_id("demo"), 1234, Decimal("15"))  # type: ignore[arg-type]
    # integration events are pydantic models, not domain events; the consumer passes them alike
    app.process_event(ride, tracking(ride, 7))  # type: ignore[arg-type]
    app.process_event(ride, tracking(ride, 70))  # type: ignore[arg-type]
    balance = app.trial_balance()
    assert balance is not None
    assert len(balance.entries) == 2  # one fare split and one hours entry, not two of each
