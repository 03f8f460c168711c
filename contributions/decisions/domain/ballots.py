"""Who counts: `Ballot` (one per member and decision), `Proxy` (who votes for a member) and
`Backing` (one per member and proposal). Each id is the pair it is unique for."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from contributions.decisions.domain.errors import AlreadyVoted, Choice, InvalidProxy
from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class Ballot(Aggregate):
    """One member's vote on one decision. Invariant: one per member and decision (its id);
    cast by the member or by the holder of their proxy; the member's own vote replaces their
    proxy's, once, and nothing replaces the member's own vote."""

    class Cast(Aggregate.Created):
        decision_id: str
        member_id: str
        choice: str
        cast_by: str
        at: datetime

    class Overridden(Aggregate.Event):
        decision_id: str
        member_id: str
        choice: str
        previous_choice: str
        previous_cast_by: str
        at: datetime

    @staticmethod
    def create_id(decision_id: UUID | str, member_id: str) -> UUID:
        return stable_uuid("ballot", str(decision_id), member_id)

    @event(Cast)
    def __init__(
        self, decision_id: str, member_id: str, choice: str, cast_by: str, at: datetime
    ) -> None:
        self.decision_id = decision_id
        self.member_id = member_id
        self.choice = choice
        self.cast_by = cast_by

    @property
    def by_proxy(self) -> bool:
        return self.cast_by != self.member_id

    def override(self, choice: Choice, *, by: str, now: datetime) -> None:
        """The member votes themself over their proxy's vote."""
        if by != self.member_id or not self.by_proxy:
            raise AlreadyVoted(self.decision_id, self.member_id)
        self._overridden(
            decision_id=self.decision_id,
            member_id=self.member_id,
            choice=choice.value,
            previous_choice=self.choice,
            previous_cast_by=self.cast_by,
            at=now,
        )

    @event(Overridden)
    def _overridden(
        self,
        decision_id: str,
        member_id: str,
        choice: str,
        previous_choice: str,
        previous_cast_by: str,
        at: datetime,
    ) -> None:
        self.choice = choice
        self.cast_by = self.member_id


STANDING = "standing"


class Proxy(Aggregate):
    """A member's proxy: who may vote for them, for one decision or until withdrawn.

    Invariants: never to oneself; given and withdrawn only with the member's consent (by the
    member, or recorded by the desk for them with their consent: the application checks it);
    at most one holder at a time per scope (giving it again moves it).
    """

    class Given(Aggregate.Created):
        member_id: str
        scope: str  # a decision id, or STANDING
        holder_id: str
        recorded_by: str
        at: datetime

    class Moved(Aggregate.Event):
        member_id: str
        scope: str
        holder_id: str
        recorded_by: str
        at: datetime

    class Withdrawn(Aggregate.Event):
        member_id: str
        scope: str
        recorded_by: str
        at: datetime

    @staticmethod
    def create_id(member_id: str, scope: str) -> UUID:
        return stable_uuid("proxy", member_id, scope)

    @event(Given)
    def __init__(
        self, member_id: str, scope: str, holder_id: str, recorded_by: str, at: datetime
    ) -> None:
        self.member_id = member_id
        self.scope = scope
        self.holder_id: str | None = holder_id

    @classmethod
    def give(
        cls, *, member_id: str, scope: str, holder_id: str, recorded_by: str, now: datetime
    ) -> Proxy:
        _check_holder(member_id, holder_id)
        return cls(
            member_id=member_id, scope=scope, holder_id=holder_id, recorded_by=recorded_by, at=now
        )

    def move(self, holder_id: str, *, recorded_by: str, now: datetime) -> None:
        _check_holder(self.member_id, holder_id)
        if holder_id == self.holder_id:
            raise InvalidProxy("to", f"{holder_id} already holds this proxy")
        self._moved(
            member_id=self.member_id,
            scope=self.scope,
            holder_id=holder_id,
            recorded_by=recorded_by,
            at=now,
        )

    @event(Moved)
    def _moved(
        self, member_id: str, scope: str, holder_id: str, recorded_by: str, at: datetime
    ) -> None:
        self.holder_id = holder_id

    def withdraw(self, *, recorded_by: str, now: datetime) -> None:
        if self.holder_id is None:
            raise InvalidProxy("proxy", "this proxy was already withdrawn")
        self._withdrawn(member_id=self.member_id, scope=self.scope, recorded_by=recorded_by, at=now)

    @event(Withdrawn)
    def _withdrawn(self, member_id: str, scope: str, recorded_by: str, at: datetime) -> None:
        self.holder_id = None


def _check_holder(member_id: str, holder_id: str) -> None:
    if holder_id == member_id:
        raise InvalidProxy("to", "a member cannot give their proxy to themself")


class Backing(Aggregate):
    """One member's backing of one proposal. Its id is the pair: a member backs once."""

    class Given(Aggregate.Created):
        decision_id: str
        member_id: str
        at: datetime

    @staticmethod
    def create_id(decision_id: UUID | str, member_id: str) -> UUID:
        return stable_uuid("backing", str(decision_id), member_id)

    @event(Given)
    def __init__(self, decision_id: str, member_id: str, at: datetime) -> None:
        self.decision_id = decision_id
        self.member_id = member_id
