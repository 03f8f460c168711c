"""The domain's enums as GraphQL enums (`RideState`, `DriverStatus`).

Import them from here in every GraphQL module: strawberry must register an enum before any type
that names it is made, or it makes a second, clashing definition of its own.
"""

from __future__ import annotations

import strawberry

from services.rides.domain import DriverStatus, RideState
from services.rides.incidents import IncidentKind, IncidentOutcome, IncidentState, ReporterRole

strawberry.enum(RideState, description="Where a ride is in its life.")
strawberry.enum(DriverStatus, description="Whether a driver can take a ride.")
strawberry.enum(IncidentKind, description="What happened on a ride.")
strawberry.enum(IncidentOutcome, description="How the safety team resolved an incident.")
strawberry.enum(IncidentState, description="Whether the safety team has resolved it.")
strawberry.enum(ReporterRole, description="Whose account an incident is: the rider's or driver's.")

__all__ = [
    "DriverStatus",
    "IncidentKind",
    "IncidentOutcome",
    "IncidentState",
    "ReporterRole",
    "RideState",
]
