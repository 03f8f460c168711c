"""What rides reads from other services: its own tolerant models, never their classes.

From decisions: the policy versions (`kernel.policies.PolicyChanged`, kept by `PolicyLog`) and a
driver's standing (`DriverSuspended`, `SuspensionLifted`): a suspended driver is taken off duty
and cannot go on duty again until the suspension is lifted.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from typing import ClassVar

from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel
from kernel.policies import PolicyChanged


class DriverSuspended(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("decisions.DriverSuspended", 1)

    driver_id: str
    decision_id: str
    reason: str
    suspended_at: datetime


class SuspensionLifted(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("decisions.SuspensionLifted", 1)

    driver_id: str
    decision_id: str
    lifted_at: datetime


INBOUND = Inbound.of(
    [PolicyChanged, DriverSuspended, SuspensionLifted], ignores=["decisions.DecisionClosed"]
)
