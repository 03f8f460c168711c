"""The domain's enums as GraphQL enums (`RideState`, `DriverStatus`).

Import them from here in every GraphQL module: strawberry must register an enum before any type
that names it is made, or it makes a second, clashing definition of its own.
"""

from __future__ import annotations

import strawberry

from services.rides.domain import DriverStatus, RideState

strawberry.enum(RideState, description="Where a ride is in its life.")
strawberry.enum(DriverStatus, description="Whether a driver can take a ride.")

__all__ = ["DriverStatus", "RideState"]
