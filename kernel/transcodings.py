"""How the kernel's value types are stored in events: typed in the domain, typed when read back.

Every service's application registers these (FederationApplication does), so a fare is a
`Money` from the domain to the ledger and never a string parsed back by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Transcoding

from kernel.money import Money
from kernel.time import Interval

if TYPE_CHECKING:
    from enum import Enum


class MoneyAsDict(Transcoding):
    type = Money
    name = "kernel.Money"

    def encode(self, obj: Money) -> dict[str, str]:
        return {"amount": str(obj.amount), "currency": obj.currency}

    def decode(self, data: dict[str, str]) -> Money:
        # `str(amount)` of a Money keeps its exponent, so this is the amount that was stored.
        return Money.stored(Decimal(data["amount"]), data["currency"])


class IntervalAsDict(Transcoding):
    type = Interval
    name = "kernel.Interval"

    def encode(self, obj: Interval) -> dict[str, str]:
        return {"start": obj.start.isoformat(), "end": obj.end.isoformat()}

    def decode(self, data: dict[str, str]) -> Interval:
        return Interval(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))


class EnumAsValue(Transcoding):
    """A service's enum, stored by its member's value.

    Aggregate state that holds an enum (a driver's status) is stored in snapshots; a `StrEnum`
    would be written as a bare string and read back as one, so services keep plain enums and
    register one of these per enum class (`EnumAsValue(DriverStatus, "rides.DriverStatus")`).
    """

    def __init__(self, enum: type[Enum], name: str) -> None:
        self.type = enum
        self.name = name

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        member: Enum = self.type(data)
        return member


KERNEL_TRANSCODINGS: tuple[Transcoding, ...] = (MoneyAsDict(), IntervalAsDict())
