"""A member's standing as a driver, as rides learned it from the decisions service.

No algorithm suspends a driver (DOMAIN.md): a board member's recorded decision does, and
decisions publishes it (`decisions.DriverSuspended`, `decisions.SuspensionLifted`). Rides keeps
what it was told per member, registered as a driver or not yet, so a member suspended before
registering is suspended once they do. Bounded: only the suspension in force is kept.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class Standing(Aggregate):
    """Whether a member may drive. Idempotent by the fact: the same suspension (its decision
    id) told twice changes nothing, nor does lifting a suspension not in force."""

    class Opened(Aggregate.Created):
        member_id: str

    class Suspended(Aggregate.Event):
        decision_id: str
        reason: str
        at: datetime

    class Lifted(Aggregate.Event):
        decision_id: str
        at: datetime

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("rides-standing", member_id)

    @event(Opened)
    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.decision_id: str | None = None
        self.reason: str | None = None

    @property
    def suspended(self) -> bool:
        return self.decision_id is not None

    def suspend(self, decision_id: str, reason: str, at: datetime) -> bool:
        """Record the suspension; False (nothing recorded) if this one is already in force."""
        if self.decision_id == decision_id:
            return False
        self._suspended(decision_id=decision_id, reason=reason, at=at)
        return True

    @event(Suspended)
    def _suspended(self, decision_id: str, reason: str, at: datetime) -> None:
        self.decision_id = decision_id
        self.reason = reason

    def lift(self, decision_id: str, at: datetime) -> bool:
        """End the suspension in force; False (nothing recorded) if none is."""
        if not self.suspended:
            return False
        self._lifted(decision_id=decision_id, at=at)
        return True

    @event(Lifted)
    def _lifted(self, decision_id: str, at: datetime) -> None:
        self.decision_id = None
        self.reason = None
