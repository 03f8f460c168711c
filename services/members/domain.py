"""The members domain: one aggregate per member, keyed by the uuid part of `<city>:<uuid>`.

A member's events record membership and nothing personal: the display name (and any contact
detail) is kept by the application in the vault (kernel.personal), where it can be erased.
The member id is a pseudonym that stays, so rides, hours and the ledger keep their history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

if TYPE_CHECKING:
    from datetime import datetime


class MembersError(Exception):
    """Base for expected, user-facing failures in the members context."""


class InvalidMembership(MembersError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class MemberNotFound(MembersError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"no member {member_id}")


def aggregate_id(member_id: str) -> UUID:
    return UUID(member_id.split(":", 1)[1])


def display_name(value: str) -> str:
    """A display name as kept: stripped, 1-60 printable characters (else InvalidMembership)."""
    name = value.strip()
    if not 1 <= len(name) <= 60 or not name.isprintable():
        raise InvalidMembership("displayName", "use 1 to 60 printable characters")
    return name


class Member(Aggregate):
    """A member of a city co-op. Invariant: personal data is erased at most once (a second
    request changes nothing), and once erased the member stays a member, by id."""

    class Joined(Aggregate.Created):
        """Version 2 carries no display name (version 1 did: it is dropped when read)."""

        class_version = 2
        member_id: str
        city: str
        joined_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.pop("display_name", None)

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return aggregate_id(member_id)

    @event(Joined)
    def __init__(self, member_id: str, city: str, joined_at: datetime) -> None:
        self.member_id = member_id
        self.city = city
        self.joined_at = joined_at
        self.erased_at: datetime | None = None
        self.erased_by: str | None = None

    @classmethod
    def join(cls, member_id: str, city: str, now: datetime) -> Member:
        return cls(member_id=member_id, city=city, joined_at=now)

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def erase_personal_data(self, *, requested_by: str, now: datetime) -> bool:
        """Record that the member's personal data is erased, at the request of `requested_by`
        (the member, or a board member for them). False if it already was."""
        if self.erased:
            return False
        self._personal_data_erased(requested_by=requested_by, at=now)
        return True

    @event("PersonalDataErased")
    def _personal_data_erased(self, requested_by: str, at: datetime) -> None:
        self.erased_at = at
        self.erased_by = requested_by
