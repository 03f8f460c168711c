"""Kernel value types validated at the edge: ids, points, city configs."""

from __future__ import annotations

import re
import tomllib
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from kernel.cities import CITIES_DIR, UnknownCity, load_city
from kernel.geo import InvalidPoint, Point, great_circle_km
from kernel.ids import (
    InvalidId,
    city_id,
    home_city,
    member_id,
    new_member_id,
    parse_uuid,
    stable_uuid,
)

if TYPE_CHECKING:
    from pathlib import Path


# -- ids ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["demo", "ghent-2", "ab"])
def test_city_ids_accept_slugs(value: str) -> None:
    assert city_id(value) == value


@pytest.mark.parametrize("value", ["", "a", "Demo", "2demo", "de mo", "de_mo", "x" * 41])
def test_city_ids_reject_anything_else(value: str) -> None:
    with pytest.raises(InvalidId, match="city id"):
        city_id(value)


def test_member_ids_are_city_colon_uuid() -> None:
    made = new_member_id(city_id("demo"))
    assert member_id(made) == made
    assert home_city(made) == "demo"
    assert str(uuid.UUID(made.split(":", 1)[1])) == made.split(":", 1)[1]


@pytest.mark.parametrize(
    "value",
    [
        "",
        # fixed values: random ones would differ between xdist workers' collections
        "0b9e7c1e-3f7a-4a52-9d4f-2f8a1c3e5b6d",
        "Demo:0b9e7c1e-3f7a-4a52-9d4f-2f8a1c3e5b6d",
        "demo:0b9e7c1e-3f7a-4a52-9d4f-2f8a1c3e5b6d:x",
        "demo:not-a-uuid",
        "demo:" + "-" * 36,  # the right shape but not a uuid
    ],
)
def test_member_ids_reject_malformed_values(value: str) -> None:
    with pytest.raises(InvalidId, match="member id"):
        member_id(value)


def test_parse_uuid_names_what_it_should_identify() -> None:
    ride = uuid.uuid4()
    assert parse_uuid(str(ride), what="ride") == ride
    with pytest.raises(InvalidId, match="ride id 'nope' is not a valid uuid"):
        parse_uuid("nope", what="ride")


def test_stable_uuids_are_deterministic_and_distinct() -> None:
    assert stable_uuid("driver", "a") == stable_uuid("driver", "a")
    assert stable_uuid("driver", "a") != stable_uuid("driver", "b")
    assert stable_uuid("a/b") == stable_uuid("a", "b")  # parts are joined with "/"


# -- geo ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lat", "lon", "problem"),
    [
        (91.0, 0.0, "latitude"),
        (-90.5, 0.0, "latitude"),
        (0.0, 200.0, "longitude"),
        (0.0, -180.1, "longitude"),
        (float("nan"), 0.0, "latitude"),
        (0.0, float("inf"), "longitude"),
    ],
)
def test_points_out_of_range_raise_invalid_point(lat: float, lon: float, problem: str) -> None:
    with pytest.raises(InvalidPoint, match=problem):
        Point(lat, lon)


def test_great_circle_distance() -> None:
    assert great_circle_km(Point(51.05, 3.72), Point(51.05, 3.72)) == 0
    # One degree of latitude is ~111.2 km anywhere.
    assert great_circle_km(Point(0, 0), Point(1, 0)) == pytest.approx(111.19, abs=0.01)
    assert Point(90, 180) == Point(90.0, 180.0)  # the boundaries are valid


# -- city config ---------------------------------------------------------------------------------
def _demo_config() -> dict[str, Any]:
    with (CITIES_DIR / "demo.toml").open("rb") as fh:
        return tomllib.load(fh)


def _write_city(tmp_path: Path, config: dict[str, Any]) -> None:
    rides = config["rides"]
    split = ", ".join(f"{k} = {v}" for k, v in rides["split"].items())
    lines = [
        f'id = "{config["id"]}"',
        f'name = "{config["name"]}"',
        f'currency = "{config["currency"]}"',
        f'timezone = "{config["timezone"]}"',
        f"centre = {{ lat = {config['centre']['lat']}, lon = {config['centre']['lon']} }}",
        "[rides]",
        *(f'{k} = "{v}"' for k, v in rides.items() if isinstance(v, str)),
        *(f"{k} = {v}" for k, v in rides.items() if isinstance(v, int)),
        f"split = {{ {split} }}",
    ]
    if "scheduled" in rides:
        # [rides.scheduled]: scalars, then each vehicle as an array-of-tables entry.
        scheduled = rides["scheduled"]
        lines += [
            "[rides.scheduled]",
            *(f'{k} = "{v}"' for k, v in scheduled.items() if isinstance(v, str)),
            *(f"{k} = {v}" for k, v in scheduled.items() if isinstance(v, int)),
        ]
        for vehicle in scheduled.get("vehicles", []):
            depot = vehicle["depot"]
            lines += [
                "[[rides.scheduled.vehicles]]",
                *(f'{k} = "{v}"' for k, v in vehicle.items() if isinstance(v, str)),
                *(f"{k} = {v}" for k, v in vehicle.items() if isinstance(v, int)),
                f"depot = {{ lat = {depot['lat']}, lon = {depot['lon']} }}",
            ]
    (tmp_path / f"{config['id']}.toml").write_text("\n".join(lines) + "\n")


def test_the_demo_city_loads() -> None:
    city = load_city("demo")
    assert city.id == "demo"
    assert sum(city.rides.split.values()) == 100


def test_a_valid_copy_loads_from_another_dir(tmp_path: Path) -> None:
    # The demo file itself under another id: every section (matching, scheduled, fees, ...).
    text = (CITIES_DIR / "demo.toml").read_text(encoding="utf-8")
    copy = re.sub(r'^id = "demo"$', 'id = "copy"', text, count=1, flags=re.MULTILINE)
    (tmp_path / "copy.toml").write_text(copy, encoding="utf-8")
    assert load_city("copy", cities_dir=tmp_path).rides == load_city("demo").rides


def test_a_split_that_does_not_sum_to_100_is_rejected(tmp_path: Path) -> None:
    config = _demo_config()
    config["rides"]["split"] = {"driver": 80, "coop": 10, "common_fund": 4, "protocol": 1}
    _write_city(tmp_path, config)
    with pytest.raises(ValidationError, match="sum to 100"):
        load_city("demo", cities_dir=tmp_path)


def test_a_split_with_unknown_parts_is_rejected(tmp_path: Path) -> None:
    config = _demo_config()
    config["rides"]["split"] = {"driver": 90, "coop": 10}
    _write_city(tmp_path, config)
    with pytest.raises(ValidationError, match="split must name exactly"):
        load_city("demo", cities_dir=tmp_path)


def test_an_unknown_timezone_is_rejected(tmp_path: Path) -> None:
    config = {**_demo_config(), "timezone": "Europe/Atlantis"}
    _write_city(tmp_path, config)
    with pytest.raises(ValidationError, match="unknown timezone 'Europe/Atlantis'"):
        load_city("demo", cities_dir=tmp_path)


def test_a_missing_city_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(UnknownCity, match="no city config"):
        load_city("demo", cities_dir=tmp_path)
