"""`muni rebuild`: a service's read models rebuilt from its store equal the kept ones, with a
progress bar; unknown services and read models are named."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.cli import main
from gateway.services import SERVICES
from kernel.config import Settings
from kernel.parking import Parked, ParkedMessages
from kernel.service import ServiceSpec

if TYPE_CHECKING:
    from pathlib import Path


def test_rebuild_makes_the_same_rows_in_a_new_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    app = SERVICES["contributions"].application(settings)
    from eventsourcing.persistence import Tracking

    for i in range(5):
        parked = Parked(reason=f"r{i}", topic="t", partition=0, offset=i, raw="{}")
        app.process_event(parked, Tracking("malformed:t#0", i + 1))  # type: ignore[arg-type]
    kept = app.parked_messages()
    assert len(kept) == 5

    assert main(["rebuild", "contributions", ParkedMessages.name]) == 0

    out = capsys.readouterr()
    assert "generation 1 -> 2, 5 events" in out.out
    assert "parked_messages" in out.err  # the progress bar
    view = app.read_model(ParkedMessages).view
    assert view.refresh_generation() == 2
    assert app.parked_messages() == kept
    app.close()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["rebuild", "nowhere"], "unknown service 'nowhere'"),
        (["rebuild", "rides", "nothing"], "has no read model 'nothing'"),
    ],
)
def test_rebuild_names_what_it_does_not_know(
    args: list[str],
    complaint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))
    assert main(args) == 2
    assert complaint in capsys.readouterr().err


def test_the_registered_services_consume_only_registered_services() -> None:
    for name, spec in SERVICES.items():
        assert spec.application.service == name
        assert set(spec.consumes) <= set(SERVICES) - {name}


def test_a_spec_that_does_not_hold_together_is_refused_by_name() -> None:
    rides = SERVICES["rides"]
    with pytest.raises(ValueError, match="whose service is 'rides'"):
        ServiceSpec("trains", rides.application)
    with pytest.raises(ValueError, match="publishes events but maps none"):
        ServiceSpec("rides", rides.application, publishes=rides.publishes)
    with pytest.raises(ValueError, match=r"consumes .* but reads nothing"):
        ServiceSpec("rides", rides.application, consumes=("members",))
