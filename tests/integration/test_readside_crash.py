"""A read model's runner killed between writing its rows and committing them applies every event
exactly once after a restart; two runners on PostgreSQL at once never double or skip. Real
processes on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import subprocess
import sys
import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from kernel.config import PostgresDsn, Settings
from tests.support.readside_toy import Pot, Pots, Toy

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


def _settings(kind: str, tmp_path: Path, dsn: str, prefix: str) -> Settings:
    if kind == "sqlite":
        return Settings(persistence="sqlite", data_dir=tmp_path)
    return Settings(persistence="postgres", postgres=PostgresDsn.parse(dsn), schema_prefix=prefix)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Settings, list[str]]:
    kind = request.param
    if kind == "sqlite":
        return kind, _settings(kind, tmp_path, "", ""), ["sqlite", str(tmp_path), "-"]
    dsn = request.getfixturevalue("postgres_dsn")
    prefix = request.getfixturevalue("pg_schema_prefix")
    return kind, _settings(kind, tmp_path, dsn, prefix), ["postgres", dsn, prefix]


def _runner(args: list[str], *, die: bool) -> subprocess.CompletedProcess[bytes]:
    env = {"MUNI_FAULT_EXIT_BEFORE_VIEW_COMMIT": Pots.name} if die else {}
    import os

    return subprocess.run(
        [sys.executable, "-m", "tests.support.readside_toy", *args],
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_a_runner_killed_before_commit_applies_each_event_once_after_restart(
    store: tuple[str, Settings, list[str]],
) -> None:
    _, settings, args = store
    app = Toy(settings)
    for i in range(12):
        pot = Pot(f"o{i % 3}")
        pot.deposit(Decimal("1.50"))
        pot.deposit(Decimal("0.50"))
        app.save(pot)

    doomed = _runner(args, die=True)
    assert doomed.returncode == 137, doomed.stderr.decode()[-2000:]
    assert app.runners[Pots].position() == 0  # the dying batch left nothing behind
    assert app.read_model(Pots).view.count("pots") == 0

    restarted = _runner(args, die=False)
    assert restarted.returncode == 0, restarted.stderr.decode()[-2000:]
    rows = app.read_model(Pots).view.select("pots", order_by=("pot_id",))
    assert len(rows) == 12
    assert all(r["deposits"] == 2 and r["total"] == Decimal("2.00") for r in rows)
    totals = app.read_model(Pots).view.select("owners", order_by=("owner",))
    assert [t["total"] for t in totals] == [Decimal("8.00")] * 3
    # Run again: nothing left to apply, nothing applied twice.
    assert _runner(args, die=False).returncode == 0
    assert app.read_model(Pots).view.totals("pots", "deposits", group_by=("owner",)) == [
        {"owner": f"o{i}", "deposits": 8} for i in range(3)
    ]
    app.close()


def test_two_runners_on_postgres_apply_every_event_once(
    postgres_dsn: str, pg_schema_prefix: str
) -> None:
    settings = _settings("postgres", None, postgres_dsn, pg_schema_prefix)  # type: ignore[arg-type]
    writer = Toy(settings)
    for i in range(30):
        pot = Pot(f"o{i % 3}")
        for _ in range(4):
            pot.deposit(Decimal("0.25"))
        writer.save(pot)
    runners = [Toy(settings) for _ in range(2)]
    for app in runners:
        app.runners[Pots].batch_size = 5
    start = threading.Barrier(2)

    def run(app: Toy) -> None:
        start.wait()
        for _ in range(100):
            app.runners[Pots].run_once()

    threads = [threading.Thread(target=run, args=(app,)) for app in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    view = writer.read_model(Pots).view
    assert view.totals("pots", "deposits", group_by=("owner",)) == [
        {"owner": f"o{i}", "deposits": 40} for i in range(3)
    ]
    assert sum(app.runners[Pots].applied for app in runners) == 150
    for app in (*runners, writer):
        app.close()
