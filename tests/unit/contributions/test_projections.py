"""The Ledger read model: the rows an entry makes, the tables against a plain fold of the
entries (random entries, random order, duplicates), paging, rebuild, redelivery."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.domain import HOUR, JournalEntry, Posting, member_account, member_of
from contributions.projections import Ledger
from kernel.ids import new_member_id
from kernel.paging import page_request
from kernel.readside import rebuild
from tests.support.ledger import AT, completed, consume, new_app, tables

if TYPE_CHECKING:
    from contributions.application import Contributions
    from contributions.projections import LedgerLine

MEMBERS = [new_member_id("demo") for _ in range(3)]  # type: ignore[arg-type]
ACCOUNTS = [
    *(member_account(m, kind) for m in MEMBERS for kind in ("earnings", "hours:driving")),
    "coop:fund",
    "commons:fund",
    "rides:fares-collected",
]


@dataclass(frozen=True)
class Entry:
    source: str
    purpose: str
    memo: str
    at: datetime
    postings: tuple[Posting, ...]


@st.composite
def balanced_postings(draw: st.DrawFn) -> tuple[Posting, ...]:
    """Postings in one to three units, each unit's closed by a posting that balances it."""
    postings: list[Posting] = []
    for unit, places in draw(
        st.lists(
            st.sampled_from([("EUR", 2), (HOUR, 2), ("JPY", 0), ("BHD", 3)]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        amounts = draw(
            st.lists(
                st.decimals(min_value=-10_000, max_value=10_000, places=places),
                min_size=1,
                max_size=3,
            )
        )
        accounts = draw(
            st.lists(
                st.sampled_from(ACCOUNTS), min_size=len(amounts) + 1, max_size=len(amounts) + 1
            )
        )
        for account, amount in zip(accounts, amounts, strict=False):
            postings.append(Posting(account, amount, unit))
        postings.append(Posting(accounts[-1], -sum(amounts, Decimal(0)), unit))
    return tuple(postings)


entries_strategy = st.lists(
    st.builds(
        Entry,
        source=st.sampled_from([f"demo/rides/{i}" for i in range(6)]),
        purpose=st.sampled_from(["fare-split", "driving-hours", "adjustment"]),
        memo=st.text(max_size=20),
        at=st.datetimes(
            min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
            max_value=datetime(2026, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        postings=balanced_postings(),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda e: (e.source, e.purpose),  # one entry per fact; repeats come below
)


def post(app: Contributions, entry: Entry) -> None:
    app.post_entry(
        source=entry.source,
        purpose=entry.purpose,
        memo=entry.memo,
        at=entry.at,
        postings=entry.postings,
    )


def all_lines(app: Contributions, member: str, page_size: int) -> list[LedgerLine]:
    """A member's lines, page by page through the cursors."""
    ledger, _ = app.ledger()
    got: list[LedgerLine] = []
    after: str | None = None
    while True:
        page = ledger.member_lines(member, page_request(page_size, after, arity=3))
        got += page.items
        if not page.has_next:
            return got
        after = page.end_cursor


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=entries_strategy, data=st.data())
def test_the_tables_equal_a_plain_fold_of_the_entries_whatever_the_order_and_repeats(
    entries: list[Entry], data: st.DataObject
) -> None:
    # given the same facts posted in random order, some of them several times
    repeats = data.draw(st.lists(st.sampled_from(entries), max_size=6))
    feed = data.draw(st.permutations([*entries, *repeats]))
    app = new_app()

    # when they are posted and the ledger catches up
    for entry in feed:
        post(app, entry)

    # then the balances, unit totals, entry count and lines are a plain fold of the facts
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    debits: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    per_unit_entries: dict[str, int] = defaultdict(int)
    lines: dict[str | None, list[tuple[Any, ...]]] = defaultdict(list)
    for entry in entries:
        entry_id = str(JournalEntry.create_id(entry.source, entry.purpose))
        for unit in {p.unit for p in entry.postings}:
            per_unit_entries[unit] += 1
        for i, p in enumerate(entry.postings):
            balances[(p.unit, p.account)] += p.amount
            if p.amount > 0:
                debits[p.unit] += p.amount
            else:
                credits[p.unit] -= p.amount
            lines[member_of(p.account)].append(
                (entry.at, entry_id, i, p.account, p.amount, p.unit, entry.memo)
            )
    rows = tables(app)
    assert {(r["unit"], r["account"]): r["balance"] for r in rows["balances"]} == balances
    assert {(r["unit"], r["member_id"]) for r in rows["balances"]} == {
        (unit, member_of(account)) for unit, account in balances
    }
    ledger, _ = app.ledger()
    assert ledger.entries() == len(entries)
    assert [(u.unit, u.debits, u.credits, u.entries, u.balanced) for u in ledger.units()] == [
        (unit, debits[unit], credits[unit], per_unit_entries[unit], True)
        for unit in sorted(per_unit_entries)
    ]
    assert sorted(
        (r["at"], r["entry_id"], r["line"], r["account"], r["amount"], r["unit"], r["memo"])
        for r in rows["lines"]
    ) == sorted(line for member_lines in lines.values() for line in member_lines)
    # and a member's lines, paged, come newest first without a skip or a repeat
    for member in MEMBERS:
        paged = all_lines(app, member, page_size=data.draw(st.integers(1, 4)))
        assert [(x.at, x.entry_id, x.line, x.account, x.amount, x.unit, x.memo) for x in paged] == (
            sorted(lines[member], key=lambda line: line[:3], reverse=True)
        )


def test_a_fare_split_entry_makes_a_line_per_posting_and_adds_to_balances_and_totals() -> None:
    app = new_app()
    driver = MEMBERS[0]
    consume(app, completed(driver, 1000, Decimal(30)), 1)  # 10.00 EUR, half an hour

    rows = tables(app)

    fare_entry = str(JournalEntry.create_id(f"demo/rides/{_ride_of(app)}", "fare-split"))
    mine = [r for r in rows["lines"] if r["member_id"] == driver]
    assert sorted((r["entry_id"] == fare_entry, r["account"], r["amount"]) for r in mine) == [
        (False, member_account(driver, "hours:driving"), Decimal("-0.5")),
        (True, member_account(driver, "earnings"), Decimal("-8.5")),
    ]
    assert {(r["unit"], r["account"]): r["balance"] for r in rows["balances"]} == {
        ("EUR", "rides:fares-collected"): Decimal("10.00"),
        ("EUR", member_account(driver, "earnings")): Decimal("-8.50"),
        ("EUR", "coop:fund"): Decimal("-1.00"),
        ("EUR", "commons:fund"): Decimal("-0.40"),
        ("EUR", "protocol:rides"): Decimal("-0.10"),
        (HOUR, "contributions:recognised"): Decimal("0.50"),
        (HOUR, member_account(driver, "hours:driving")): Decimal("-0.50"),
    }
    assert rows["units"] == [
        {"unit": "EUR", "debits": Decimal(10), "credits": Decimal(10), "entries": 1},
        {"unit": HOUR, "debits": Decimal("0.5"), "credits": Decimal("0.5"), "entries": 1},
    ]
    assert rows["counts"] == [{"name": "entries", "value": 2}]


def _ride_of(app: Contributions) -> str:
    [entry] = [
        app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=1)
    ]
    assert isinstance(entry, JournalEntry.Posted)
    return entry.source.rsplit("/", 1)[1]


def test_a_redelivered_ride_completed_changes_nothing_in_the_tables() -> None:
    app = new_app()
    ride = completed(MEMBERS[1], 2345, Decimal(12))
    consume(app, ride, 3)
    before = tables(app)
    position = app.head()

    consume(app, ride, 30)  # the same fact again, under another position of its source

    assert app.head() == position  # no new entry was stored
    assert tables(app) == before


def test_a_rebuilt_ledger_equals_the_incrementally_kept_one() -> None:
    app = new_app()
    for i in range(30):
        consume(app, completed(MEMBERS[i % 3], 500 + 37 * i, Decimal(5 + i)), i + 1)
    kept = tables(app)
    ledger = app.read_model(Ledger)

    done = rebuild(app, ledger, batch_size=7)

    assert done.events == 60
    assert ledger.view.generation == done.generation == 2
    assert tables(app) == kept


def test_entries_at_the_same_time_page_by_entry_and_line() -> None:
    app = new_app()
    member = MEMBERS[2]
    for i in range(5):
        app.post_entry(
            source=f"s{i}",
            purpose="p",
            memo=str(i),
            at=AT,
            postings=[
                Posting(member_account(member, "earnings"), Decimal(-i), "EUR"),
                Posting("coop:fund", Decimal(i), "EUR"),
            ],
        )

    paged = all_lines(app, member, page_size=2)

    ids = sorted((str(JournalEntry.create_id(f"s{i}", "p")) for i in range(5)), reverse=True)
    assert [line.entry_id for line in paged] == ids
    assert {line.at for line in paged} == {AT}
    assert uuid.UUID(paged[0].entry_id)  # entry ids are the facts' uuids
