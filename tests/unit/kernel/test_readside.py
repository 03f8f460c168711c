"""The read side: rows from events, exactly once, in any interleaving, rebuilt equal, paged
without skips or repeats. On the in-memory store (an in-memory SQLite database for the tables)
and on a SQLite file; tests/integration/test_readside_postgres.py runs the crash and the two
runners on PostgreSQL."""

from __future__ import annotations

import threading
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.config import Settings
from kernel.paging import InvalidPage, fetch_page, page_request
from kernel.readside import PositionMoved, ProjectionRunner, rebuild
from kernel.readside.dialect import ValueOutOfScale
from kernel.readside.freshness import read_after, written
from tests.support.readside_toy import Pot, Pots, Toy

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def toy() -> Toy:
    return Toy(Settings(persistence="popo"))


def pots(app: Toy) -> list[dict[str, object]]:
    return app.read_model(Pots).view.select("pots", order_by=("pot_id",))


def owners(app: Toy) -> dict[str, Decimal]:
    rows = app.read_model(Pots).view.select("owners", order_by=("owner",))
    return {str(r["owner"]): Decimal(str(r["total"])) for r in rows}


def test_given_events_the_rows(toy: Toy) -> None:
    pot = Pot("ada")
    pot.deposit(Decimal("2.50"))
    pot.deposit(Decimal("0.25"))
    toy.save(pot)

    assert toy.catch_up() == 3
    [row] = pots(toy)
    assert (row["owner"], row["total"], row["deposits"]) == ("ada", Decimal("2.75"), 2)
    assert row["opened_at"] == pot.created_on
    assert owners(toy) == {"ada": Decimal("2.75")}
    assert toy.runners[Pots].reading().lag == 0


def test_a_redelivered_event_changes_nothing(toy: Toy) -> None:
    pot = Pot("ada")
    pot.deposit(Decimal(1))
    toy.save(pot)
    toy.catch_up()
    model = toy.read_model(Pots)
    [first, second] = toy.recorder.select_notifications(start=1, limit=10, topics=Pots.topics)
    deposit = toy.mapper.to_domain_event(second)
    from eventsourcing.persistence import Tracking

    with pytest.raises(PositionMoved):
        model.process_event(deposit, Tracking(toy.name, second.id))
    with pytest.raises(PositionMoved):
        model.process_event(deposit, Tracking(toy.name, first.id))
    assert pots(toy)[0]["deposits"] == 1


def test_two_runners_at_once_apply_every_event_once(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    writer = Toy(settings)
    for i in range(40):
        pot = Pot(f"o{i % 4}")
        for _ in range(5):
            pot.deposit(Decimal("1.01"))
        writer.save(pot)
    # Two processes' worth of runners: separate applications on the same SQLite file.
    a, b = Toy(settings), Toy(settings)
    for app in (a, b):
        app.runners[Pots].batch_size = 7
    start = threading.Barrier(2)

    def run(app: Toy) -> None:
        start.wait()
        for _ in range(200):
            app.runners[Pots].run_once()

    threads = [threading.Thread(target=run, args=(app,)) for app in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(int(str(r["deposits"])) for r in pots(a)) == 200
    assert owners(a) == {f"o{i}": Decimal("50.50") for i in range(4)}
    assert a.runners[Pots].applied + b.runners[Pots].applied == 240


def test_a_decimal_finer_than_its_column_is_refused_and_nothing_is_written(toy: Toy) -> None:
    pot = Pot("ada")
    pot.deposit(Decimal("0.001"))
    toy.save(pot)
    with pytest.raises(ValueOutOfScale, match="more than 2 digits"):
        toy.catch_up()
    assert pots(toy) == []
    assert toy.runners[Pots].position() == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["ada", "bram", "cleo"]), st.integers(1, 999)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 9),
)
def test_any_interleaving_of_aggregates_gives_the_plain_fold(
    steps: list[tuple[int, str, int]], batch: int
) -> None:
    app = Toy(Settings(persistence="popo"))
    app.runners[Pots].batch_size = batch
    open_pots: dict[int, Pot] = {}
    expected_pots: dict[str, tuple[str, Decimal, int]] = {}
    expected_owners: dict[str, Decimal] = defaultdict(Decimal)
    for slot, owner, cents in steps:
        pot = open_pots.get(slot)
        if pot is None:
            pot = open_pots[slot] = Pot(owner)
        amount = Decimal(cents) / 100
        pot.deposit(amount)
        app.save(pot)  # each step its own save: aggregates interleave in the log
        _, total, n = expected_pots.get(str(pot.id), (pot.owner, Decimal(0), 0))
        expected_pots[str(pot.id)] = (pot.owner, total + amount, n + 1)
        expected_owners[pot.owner] += amount
        if cents % 3 == 0:
            app.catch_up()  # catch up at random moments, as a live runner would
    app.catch_up()
    got = {str(r["pot_id"]): (r["owner"], r["total"], r["deposits"]) for r in pots(app)}
    assert got == expected_pots
    assert owners(app) == dict(expected_owners)


@pytest.mark.parametrize("persistence", ["popo", "sqlite"])
def test_a_rebuild_equals_the_incrementally_kept_tables(persistence: str, tmp_path: Path) -> None:
    app = Toy(Settings(persistence=persistence, data_dir=tmp_path))  # type: ignore[arg-type]
    for i in range(30):
        pot = Pot(f"o{i % 3}")
        pot.deposit(Decimal(i))
        app.save(pot)
        app.catch_up()  # kept incrementally, one save at a time
    view = app.read_model(Pots).view
    before = {t: view.rows_of_generation(t, 1) for t in ("pots", "owners")}
    seen: list[tuple[int, int]] = []

    result = rebuild(
        app, app.read_model(Pots), batch_size=7, progress=lambda a, b: seen.append((a, b))
    )

    assert (result.previous, result.generation, result.events) == (1, 2, 60)
    assert {t: view.rows_of_generation(t, 2) for t in ("pots", "owners")} == before
    assert view.generation == 2
    assert seen[-1][0] == seen[-1][1]
    # Live writes after the switch land in the new generation.
    app.save(Pot("new"))
    app.catch_up()
    assert len(pots(app)) == 31


def test_a_rebuild_while_the_service_writes_loses_nothing(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    app = Toy(settings)
    for i in range(50):
        app.save(Pot(f"o{i % 5}"))
    app.catch_up()
    stop = threading.Event()

    def keep_writing() -> None:
        writer = Toy(settings)
        while not stop.is_set():
            pot = Pot("late")
            pot.deposit(Decimal(1))
            writer.save(pot)
            writer.catch_up()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        rebuilder = Toy(settings)
        rebuild(rebuilder, rebuilder.read_model(Pots), batch_size=5)
    finally:
        stop.set()
        thread.join()
    app.catch_up()
    late = Decimal(
        len([n for n in app.recorder.select_notifications(1, 100_000) if "Deposited" in n.topic])
    )
    assert owners(app)["late"] == late
    assert app.read_model(Pots).view.count("pots") == 50 + int(late)


def test_paging_never_skips_or_repeats_while_rows_are_added(toy: Toy) -> None:
    for _ in range(25):
        toy.save(Pot("ada"))
    toy.catch_up()
    view = toy.read_model(Pots).view
    order = ("owner", "opened_at", "pot_id")
    seen: list[str] = []
    after = None
    existing = {str(r["pot_id"]) for r in pots(toy)}
    while True:
        page = fetch_page(
            view,
            "pots",
            page_request(4, after, arity=3),
            order_by=order,
            to_item=lambda r: str(r["pot_id"]),
        )
        seen += page.items
        for _ in range(3):  # others keep adding pots while this client pages
            toy.save(Pot("ada"))
        toy.catch_up()
        if not page.has_next:
            break
        after = page.end_cursor
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)


@pytest.mark.parametrize(
    ("first", "after", "field"),
    [(0, None, "first"), (101, None, "first"), (5, "not-a-cursor", "after"), (5, "WzFd", "after")],
)
def test_bad_paging_arguments_are_named(first: int, after: str | None, field: str) -> None:
    with pytest.raises(InvalidPage) as refused:
        page_request(first, after, arity=3)
    assert refused.value.field == field


def test_a_reader_waits_for_its_own_write(toy: Toy) -> None:
    toy.save(Pot("ada"))
    token = written(toy)
    assert toy.runners[Pots].position() == 0  # nobody ran the read model yet
    as_of = read_after(toy, Pots, token)
    assert as_of == token
    assert len(pots(toy)) == 1
    with pytest.raises(InvalidPage):
        read_after(toy, Pots, "rides@1")


def test_a_runner_thread_follows_saves(toy: Toy) -> None:
    runner = ProjectionRunner(toy, toy.read_model(Pots))
    stop, wake = threading.Event(), toy.wake_event()
    thread = threading.Thread(target=runner.run, args=(stop, wake), kwargs={"idle_wait_s": 5.0})
    thread.start()
    try:
        toy.save(Pot("ada"))
        runner.wait_for(toy.head(), timeout_s=5.0)  # woken by the save, not by the 5 s poll
    finally:
        stop.set()
        wake.set()
        thread.join()
    assert len(pots(toy)) == 1
