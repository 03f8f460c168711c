"""A member's consent to the co-op's desk (dispatchers, librarians) acting on their behalf.

Given by the member in the app, or recorded by a dispatcher during the call (or a librarian at
the branch) with what the member said; withdrawable the same ways. The events name who
recorded it and how (app, phone, in person); the member's own words are personal data and go
to the personal-data port, never into an event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

CHANNELS = ("app", "phone", "in_person")


class Consent(Aggregate):
    """Invariant: `given` alternates: it is given again only after a withdrawal, and withdrawn
    only while given (the application turns a no-op into a typed answer)."""

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("consent", member_id)

    @event("Given")
    def __init__(self, member_id: str, recorded_by: str, channel: str, at: datetime) -> None:
        self.member_id = member_id
        self.given = True
        self.recorded_by = recorded_by
        self.channel = channel
        self.changed_at = at

    def give(self, *, recorded_by: str, channel: str, now: datetime) -> bool:
        """Give consent again; False (nothing recorded) if it is in force already."""
        if self.given:
            return False
        self._given_again(recorded_by=recorded_by, channel=channel, at=now)
        return True

    def withdraw(self, *, recorded_by: str, channel: str, now: datetime) -> bool:
        """Withdraw; False (nothing recorded) if there was no consent in force."""
        if not self.given:
            return False
        self._withdrawn(recorded_by=recorded_by, channel=channel, at=now)
        return True

    @event("GivenAgain")
    def _given_again(self, recorded_by: str, channel: str, at: datetime) -> None:
        self.given, self.recorded_by, self.channel, self.changed_at = True, recorded_by, channel, at

    @event("Withdrawn")
    def _withdrawn(self, recorded_by: str, channel: str, at: datetime) -> None:
        self.given, self.recorded_by, self.channel, self.changed_at = (
            False,
            recorded_by,
            channel,
            at,
        )
