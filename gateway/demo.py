"""Demo seeding for `muni up --demo`: a few members, drivers on duty and a board member.

Seeds once per data folder (it remembers who it made in `<data-dir>/demo.json`) and prints
ready-to-paste tokens, so a newcomer can try the GraphQL session in the README at once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from kernel.auth import Identity, mint

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.runtime import Runtime
    from services.members.application import Members
    from services.rides.application import Rides

DEMO_PEOPLE = [
    # display name, roles, vehicle (seats, wheelchair) or None, offset from the city centre
    ("Ada (rider)", ["member"], None, (0.0, 0.0)),
    ("Bram (driver)", ["member", "driver"], (4, False), (0.004, -0.006)),
    ("Chloe (driver, accessible van)", ["member", "driver"], (6, True), (-0.008, 0.01)),
    ("Dina (dispatcher)", ["member", "dispatcher"], None, (0.0, 0.0)),
    ("Emre (board)", ["member", "board"], None, (0.0, 0.0)),
]


def seed(runtime: Runtime, data_dir: Path) -> dict[str, dict[str, str]]:
    """Create the demo people if this data folder has none; return name -> {id, token}."""
    members = cast("Members", runtime.apps["members"])
    rides = cast("Rides", runtime.apps["rides"])
    state_file = data_dir / "demo.json"
    known: dict[str, dict[str, str]] = (
        json.loads(state_file.read_text()) if state_file.exists() else {}
    )
    centre = rides.city.centre
    out: dict[str, dict[str, str]] = {}
    for name, roles, vehicle, (dlat, dlon) in DEMO_PEOPLE:
        if name in known:
            member_id = known[name]["id"]
        else:
            member_id = members.join(name).member_id
            if vehicle is not None:
                seats, wheelchair = vehicle
                rides.register_driver(
                    member_id, seats=seats, wheelchair_accessible=wheelchair, vehicle="demo"
                )
        if vehicle is not None:
            rides.go_on_duty(member_id, lat=centre.lat + dlat, lon=centre.lon + dlon)
        identity = Identity(member_id, rides.city.id, frozenset(roles))
        token = mint(identity, runtime.settings.jwt_secret)
        out[name] = {"id": member_id, "roles": ",".join(roles), "token": token}
    data_dir.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({k: {"id": v["id"]} for k, v in out.items()}, indent=2))
    return out
