"""The services this gateway runs. Adding a service is its own folder plus one line here."""

from __future__ import annotations

from contributions.decisions.spec import SPEC as DECISIONS
from contributions.spec import SPEC as CONTRIBUTIONS
from services.members.spec import SPEC as MEMBERS
from services.rides.spec import SPEC as RIDES

SPECS = (MEMBERS, RIDES, CONTRIBUTIONS, DECISIONS)
SERVICES = {spec.name: spec for spec in SPECS}
