"""What contributions reads from other services: its own tolerant models, never their classes."""

from __future__ import annotations

from decimal import Decimal  # noqa: TC003 (pydantic needs it at runtime)
from typing import ClassVar
from uuid import UUID  # noqa: TC003

from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel


class RideCompleted(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("rides.RideCompleted", 1)

    ride_id: UUID
    driver_id: str
    distance_km: Decimal
    driver_minutes: Decimal
    fare: Decimal
    currency: str
    split: dict[str, Decimal]


INBOUND = Inbound.of(
    [RideCompleted],
    ignores=["rides.RideRequested", "rides.RideCancelled", "members.MemberJoined"],
)
