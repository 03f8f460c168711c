"""The services this gateway runs. Adding a service is its own folder plus one line here."""

from __future__ import annotations

from contributions.crediting import with_contribution_rules
from contributions.decisions.spec import SPEC as DECISIONS
from contributions.spec import SPEC as CONTRIBUTIONS
from services.members.spec import SPEC as MEMBERS
from services.rides.spec import SPEC as RIDES

# Contributions reads every event a service's contribution rules name (contributions/crediting.py).
SPECS = with_contribution_rules((MEMBERS, RIDES, CONTRIBUTIONS, DECISIONS))
SERVICES = {spec.name: spec for spec in SPECS}
