"""What contributions reads from other services: its own tolerant models, never their classes."""

from __future__ import annotations

from decimal import Decimal  # noqa: TC003 (pydantic needs it at runtime)
from typing import ClassVar
from uuid import UUID  # noqa: TC003

from pydantic import model_validator

from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel
from kernel.money import Money, MoneyError


class RideCompleted(TolerantModel):
    """A ride's end: its fare and the fare's split are exact amounts of one currency.

    A payload whose amounts do not fit the currency, or whose split does not sum to the fare, is
    rejected here (and so parked by the consumer): the ledger could not post it balanced.
    """

    reads: ClassVar[tuple[str, int]] = ("rides.RideCompleted", 1)

    ride_id: UUID
    driver_id: str
    distance_km: Decimal
    driver_minutes: Decimal
    fare: Decimal
    currency: str
    split: dict[str, Decimal]

    @model_validator(mode="after")
    def _exact_split(self) -> RideCompleted:
        try:
            total = sum(self.split_money().values(), Money.zero(self.currency))
            fare = self.fare_money()
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if total != fare:
            raise ValueError(f"the split sums to {total}, not to the fare {fare}")
        return self

    def fare_money(self) -> Money:
        return Money(self.fare, self.currency)

    def split_money(self) -> dict[str, Money]:
        return {part: Money(amount, self.currency) for part, amount in self.split.items()}


INBOUND = Inbound.of(
    [RideCompleted],
    ignores=["rides.RideRequested", "rides.RideCancelled", "members.MemberJoined"],
)
