"""Demo seeding for `muni up --demo`: a rider, two drivers on duty, a dispatcher, a board member.

Seeds once per data folder. Each person signs up with an email and a random password, kept in
`<data-dir>/demo.json` (mode 0600, beside the folder's keys) so they can be printed again at
the next start; there is no password written in the code. Emre is made the founding board by
the operator ("operator:demo"); Emre then grants the other roles, as a board member would.
Every start prints how to act as each person: the email and password to `signIn` with, and a
fresh access token.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.runtime import Runtime
    from services.members.application import Members
    from services.rides.application import Rides

BOARD = "Emre (board)"
DEMO_PEOPLE = [
    # display name, email, roles beyond member, vehicle (seats, wheelchair), offset from centre
    (BOARD, "emre@demo.example.org", ["board"], None, (0.0, 0.0)),
    ("Ada (rider)", "ada@demo.example.org", [], None, (0.0, 0.0)),
    ("Bram (driver)", "bram@demo.example.org", ["driver"], (4, False), (0.004, -0.006)),
    (
        "Chloe (driver, accessible van)",
        "chloe@demo.example.org",
        ["driver"],
        (6, True),
        (-0.008, 0.01),
    ),
    ("Dina (dispatcher)", "dina@demo.example.org", ["dispatcher"], None, (0.0, 0.0)),
]


def seed(runtime: Runtime, data_dir: Path) -> dict[str, dict[str, str]]:
    """Create the demo people if this data folder has none; return name -> how to act as them."""
    members = cast("Members", runtime.apps["members"])
    rides = cast("Rides", runtime.apps["rides"])
    state_file = data_dir / "demo.json"
    known: dict[str, dict[str, str]] = (
        json.loads(state_file.read_text()) if state_file.exists() else {}
    )
    centre = rides.city.centre
    out: dict[str, dict[str, str]] = {}
    board_id = ""
    for name, email, roles, vehicle, (dlat, dlon) in DEMO_PEOPLE:
        person = known.get(name, {})
        if "password" not in person:  # new, or seeded before there were accounts
            password = secrets.token_urlsafe(12)
            signed = members.accounts.sign_up(display_name=name, password=password, email=email)
            person = {"id": signed.member_id, "email": email, "password": password}
            if name == BOARD:
                members.roles.grant_as_operator(
                    operator="demo", member=signed.member_id, role="board", reason="demo seeding"
                )
            for role in roles:
                if role != "board":
                    members.roles.grant(
                        by=board_id, member=signed.member_id, role=role, reason="demo seeding"
                    )
            if vehicle is not None:
                seats, wheelchair = vehicle
                rides.register_driver(
                    person["id"], seats=seats, wheelchair_accessible=wheelchair, vehicle="demo"
                )
        if name == BOARD:
            board_id = person["id"]
        if vehicle is not None:
            rides.go_on_duty(person["id"], lat=centre.lat + dlat, lon=centre.lon + dlon)
        account = members.accounts.account(person["id"])
        token, _ = members.accounts.access_token(account)
        out[name] = {**person, "roles": ",".join(sorted(account.roles)), "token": token}
    data_dir.mkdir(parents=True, exist_ok=True)
    kept = {
        name: {k: v for k, v in p.items() if k in ("id", "email", "password")}
        for name, p in out.items()
    }
    fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(kept, fh, indent=2)
    return out
