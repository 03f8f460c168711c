"""Solidarity fares: the members the co-op names pay less, and the common fund pays the rest.

One small aggregate per member (`Solidarity.create_id(member)`), named and withdrawn by a board
member's recorded decision; the fare at drop-off reads it. Why the co-op named someone is not
recorded here (it may be about their income or health): the event records the act, who and
when, as role grants do.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (eventsourcing reads event annotations at runtime)
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class Solidarity(Aggregate):
    """Whether the co-op names this member for solidarity fares. Bounded: a flag and who set it."""

    class Named(Aggregate.Created):
        member_id: str
        by: str
        at: datetime

    class Renamed(Aggregate.Event):
        by: str
        at: datetime

    class Withdrawn(Aggregate.Event):
        by: str
        at: datetime

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("solidarity", member_id)

    @event(Named)
    def __init__(self, member_id: str, by: str, at: datetime) -> None:
        self.member_id = member_id
        self.named = True
        self.by = by

    def name_again(self, by: str, at: datetime) -> None:
        if not self.named:
            self._renamed(by=by, at=at)

    @event(Renamed)
    def _renamed(self, by: str, at: datetime) -> None:
        self.named = True
        self.by = by

    def withdraw(self, by: str, at: datetime) -> None:
        if self.named:
            self._withdrawn(by=by, at=at)

    @event(Withdrawn)
    def _withdrawn(self, by: str, at: datetime) -> None:
        self.named = False
        self.by = by
