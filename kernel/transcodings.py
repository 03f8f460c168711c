"""How the kernel's value types are stored in events: typed in the domain, typed when read back.

Every service's application registers these (FederationApplication does), so a fare is a
`Money` from the domain to the ledger and never a string parsed back by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from eventsourcing.persistence import Transcoding

from kernel.money import Money
from kernel.time import Interval


class MoneyAsDict(Transcoding):
    type = Money
    name = "kernel.Money"

    def encode(self, obj: Money) -> dict[str, str]:
        return {"amount": str(obj.amount), "currency": obj.currency}

    def decode(self, data: dict[str, str]) -> Money:
        return Money.of(Decimal(data["amount"]), data["currency"])


class IntervalAsDict(Transcoding):
    type = Interval
    name = "kernel.Interval"

    def encode(self, obj: Interval) -> dict[str, str]:
        return {"start": obj.start.isoformat(), "end": obj.end.isoformat()}

    def decode(self, data: dict[str, str]) -> Interval:
        return Interval(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))


KERNEL_TRANSCODINGS: tuple[Transcoding, ...] = (MoneyAsDict(), IntervalAsDict())
