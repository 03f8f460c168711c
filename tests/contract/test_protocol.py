"""The published contract in protocol/ matches the code, and breaking changes are caught."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

from gateway import protocol

if TYPE_CHECKING:
    from pathlib import Path


def test_protocol_folder_matches_the_code() -> None:
    assert protocol.check() == []


def test_a_removed_property_is_reported_as_breaking(tmp_path: Path) -> None:
    protocol.export(tmp_path)
    path = tmp_path / "events" / "rides.RideCompleted.v1.json"
    schema = json.loads(path.read_text())
    schema["properties"]["tip"] = {"type": "string"}  # the committed file had a field
    path.write_text(json.dumps(schema))  # ... which the code no longer produces
    problems = protocol.check(tmp_path)
    assert any("BREAKING" in p and "'tip' was removed" in p for p in problems), problems


def test_an_added_property_is_compatible_but_must_be_exported(tmp_path: Path) -> None:
    protocol.export(tmp_path)
    path = tmp_path / "events" / "rides.RideCompleted.v1.json"
    schema = json.loads(path.read_text())
    older = copy.deepcopy(schema)
    del older["properties"]["driver_minutes"]  # the committed file predates driver_minutes
    older["required"].remove("driver_minutes")
    path.write_text(json.dumps(older))
    problems = protocol.check(tmp_path)
    assert problems == [
        "events/rides.RideCompleted.v1.json changed compatibly: run `muni protocol export` "
        "and commit it"
    ]


def test_an_event_no_longer_produced_is_reported(tmp_path: Path) -> None:
    protocol.export(tmp_path)
    (tmp_path / "events" / "rides.RideVanished.v1.json").write_text("{}")
    assert any("RideVanished" in p for p in protocol.check(tmp_path))
