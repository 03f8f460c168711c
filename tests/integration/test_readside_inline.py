"""On SQLite a save keeps its service's read models in its own transaction: the rows are there
when the save returns, with no catch-up and no second commit; a read model whose rows fail, or
that is far behind, is left to its runner and the save goes on. A real SQLite file."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from kernel.config import Settings
from kernel.readside import inline
from tests.support.readside_toy import Pot, Pots, Toy

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


class InlineToy(Toy):
    inline_read_models = True


def _pot(owner: str, *amounts: str) -> Pot:
    pot = Pot(owner)
    for amount in amounts:
        pot.deposit(Decimal(amount))
    return pot


def test_a_save_leaves_its_rows_and_position_committed_with_it(tmp_path: Path) -> None:
    app = InlineToy(Settings(persistence="sqlite", data_dir=tmp_path))
    app.save(_pot("ada", "1.50", "0.50"))
    app.save(_pot("ada", "2.00"))

    # read straight from the tables, without any catch-up: already there
    view = app.read_model(Pots).view
    assert view.totals("pots", "deposits", group_by=("owner",)) == [{"owner": "ada", "deposits": 3}]
    assert app.runners[Pots].position() == app.head()
    assert app.catch_up(Pots) == 0  # nothing left for the runner
    # a second process's view of the same file agrees (it was committed)
    other = Toy(Settings(persistence="sqlite", data_dir=tmp_path))
    assert other.read_model(Pots).view.select("owners", order_by=("owner",)) == [
        {"owner": "ada", "total": Decimal("4.00")}
    ]
    app.close()
    other.close()


def test_rows_that_fail_leave_the_save_standing_and_the_runner_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = InlineToy(Settings(persistence="sqlite", data_dir=tmp_path))
    model = app.read_model(Pots)
    rows = model.rows

    def broken(event: Any) -> Any:
        raise RuntimeError("a projection bug")

    monkeypatch.setattr(model, "rows", broken)
    app.save(_pot("bram", "1.00"))  # no error: the events are stored

    assert app.head() == 2
    assert model.view.count("pots") == 0  # rolled back to the savepoint: nothing half-written
    assert app.runners[Pots].position() == 0
    monkeypatch.setattr(model, "rows", rows)
    assert app.catch_up(Pots) == 2  # the runner applies them, once
    assert model.view.select("owners", order_by=("owner",)) == [
        {"owner": "bram", "total": Decimal("1.00")}
    ]
    app.close()


def test_a_read_model_far_behind_is_left_to_its_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    behind = Toy(settings)  # saves without inline rows: the read model falls behind
    behind.save(*[_pot(f"o{i}", "1.00") for i in range(6)])
    monkeypatch.setattr(inline, "MOST_BEHIND", 5)
    app = InlineToy(settings)
    app.save(_pot("late", "1.00"))

    assert app.runners[Pots].position() == 0  # 14 events behind: not in a save
    assert app.catch_up(Pots) == 14
    assert app.read_model(Pots).view.count("pots") == 7
    behind.close()
    app.close()
