"""What contributions reads from other services: its own tolerant models, never their classes."""

from __future__ import annotations

from decimal import Decimal  # noqa: TC003 (pydantic needs it at runtime)
from typing import ClassVar
from uuid import UUID  # noqa: TC003

from pydantic import model_validator

from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel
from kernel.money import Money, MoneyError
from kernel.policies import PolicyChanged


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
    # What the common fund pays of a solidarity fare (added within v1; absent: nothing).
    common_fund_pays: Decimal | None = None

    @model_validator(mode="after")
    def _exact_split(self) -> RideCompleted:
        try:
            total = sum(self.split_money().values(), Money.zero(self.currency))
            fare = self.fare_money()
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if total != fare:
            raise ValueError(f"the split sums to {total}, not to the fare {fare}")
        if not Money.zero(self.currency) <= self.fund_money() <= fare:
            raise ValueError("the common fund's part is not within the fare")
        return self

    def fare_money(self) -> Money:
        return Money(self.fare, self.currency)

    def fund_money(self) -> Money:
        if self.common_fund_pays is None:
            return Money.zero(self.currency)
        return Money(self.common_fund_pays, self.currency)

    def split_money(self) -> dict[str, Money]:
        return {part: Money(amount, self.currency) for part, amount in self.split.items()}


class RideFeeCharged(TolerantModel):
    """A rider's fee (late cancellation, no-show), split exactly like a fare."""

    reads: ClassVar[tuple[str, int]] = ("rides.RideFeeCharged", 1)

    ride_id: UUID
    rider_id: str
    driver_id: str | None
    kind: str
    amount: Decimal
    currency: str
    split: dict[str, Decimal]
    rule: str

    @model_validator(mode="after")
    def _exact_split(self) -> RideFeeCharged:
        try:
            total = sum(self.split_money().values(), Money.zero(self.currency))
            amount = self.amount_money()
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if total != amount:
            raise ValueError(f"the split sums to {total}, not to the fee {amount}")
        return self

    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)

    def split_money(self) -> dict[str, Money]:
        return {part: Money(amount, self.currency) for part, amount in self.split.items()}


INBOUND = Inbound.of(
    # Policy versions (kept by the PolicyLog read model); a ratified value equation among their
    # changes is adopted (Contributions.when_an_equation_is_ratified_adopt_it).
    [RideCompleted, RideFeeCharged, PolicyChanged],
    ignores=[
        "rides.RideRequested",
        "rides.RideCancelled",
        "members.MemberJoined",
        "decisions.DecisionClosed",
        "decisions.DriverSuspended",
        "decisions.SuspensionLifted",
        # incidents on a ride are the safety team's, not a contribution
        "rides.IncidentReported",
        "rides.IncidentResolved",
    ],
)
