"""The ValueFlows vocabulary a service uses to say what its events contribute, as data.

ValueFlows (valueflo.ws, used by hREA and Sensorica's NRP) names an economic event by its
*action* (work, use, consume, transfer), the *resource* it acts on and the *unit* it is counted
in. Muni types every contribution this way, so two cities' ledgers add up type by type: a city's
`work/driving` hours and another's are the same thing.

A service declares, in its spec, which of its published events credit a contribution and how
(`ContributionRule`): the event type and major version, the contribution type, the payload field
naming the member credited and the field holding the quantity. The contributions service reads
the rules of every service and applies them; adding a contribution type is a rule in the new
service's spec, never a change to the ledger's code. Rules are data: nothing in them is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

_RESOURCE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_UNIT = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")
_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


class Action(StrEnum):
    """The ValueFlows actions a contribution can be (the subset Muni credits)."""

    WORK = "work"  # time given: driving, hosting, care, code, a meeting
    USE = "use"  # a resource lent for use and given back: a tool, a vehicle
    CONSUME = "consume"  # a resource used up: materials for a repair
    TRANSFER = "transfer"  # a resource given: an item donated, money


@dataclass(frozen=True)
class ContributionType:
    """One kind of contribution: `<action>/<resource>`, counted in `unit` (HOUR, NIGHT, ITEM)."""

    action: Action
    resource: str
    unit: str

    def __post_init__(self) -> None:
        if not _RESOURCE.match(self.resource):
            raise ValueError(f"resource {self.resource!r} must be lower-case, digits or dashes")
        if not _UNIT.match(self.unit):
            raise ValueError(f"unit {self.unit!r} must be upper-case, like HOUR or NIGHT")

    @property
    def key(self) -> str:
        return f"{self.action.value}/{self.resource}"

    @classmethod
    def parse(cls, key: str, unit: str) -> ContributionType:
        """`work/driving` back to a type (raises ValueError for anything else)."""
        action, sep, resource = key.partition("/")
        if not sep:
            raise ValueError(f"contribution type {key!r} must look like '<action>/<resource>'")
        try:
            return cls(Action(action), resource, unit)
        except ValueError as exc:
            known = ", ".join(a.value for a in Action)
            raise ValueError(f"contribution type {key!r}: {exc} (actions: {known})") from None


@dataclass(frozen=True)
class ContributionRule:
    """Published event (type, major version) -> one economic event crediting one member.

    The member is the payload's `provider` field; the quantity is its `quantity` field divided by
    `per` (minutes to hours: 60) and rounded half-even to `places`. `purpose` names the ledger
    entry (unique per rule for one source event); `account` is the member's account kind for
    the type (default `contrib:<action>/<resource>`).
    """

    event: str
    version: int
    type: ContributionType
    provider: str
    quantity: str
    per: Decimal = Decimal(1)
    places: int = 2
    purpose: str = ""
    account: str = ""

    def __post_init__(self) -> None:
        for name in (self.provider, self.quantity):
            if not _FIELD.match(name):
                raise ValueError(f"payload field {name!r} is not a field name")
        if self.per <= 0 or not 0 <= self.places <= 4:
            raise ValueError("per must be positive and places between 0 and 4")
        if not self.purpose:
            object.__setattr__(self, "purpose", self.type.key.replace("/", "-"))
        if not self.account:
            object.__setattr__(self, "account", f"contrib:{self.type.key}")

    @property
    def reads(self) -> tuple[str, int]:
        return (self.event, self.version)
