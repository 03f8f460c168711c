"""The members domain: one aggregate per member, keyed by the uuid part of `<city>:<uuid>`."""

from __future__ import annotations

from typing import TYPE_CHECKING
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


class Member(Aggregate):
    """A member of a city co-op. Invariant: the display name is 1-60 printable characters."""

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return aggregate_id(member_id)

    @event("Joined")
    def __init__(self, member_id: str, city: str, display_name: str, joined_at: datetime) -> None:
        self.member_id = member_id
        self.city = city
        self.display_name = display_name
        self.joined_at = joined_at

    @classmethod
    def join(cls, member_id: str, city: str, display_name: str, now: datetime) -> Member:
        name = display_name.strip()
        if not 1 <= len(name) <= 60 or not name.isprintable():
            raise InvalidMembership("displayName", "use 1 to 60 printable characters")
        return cls(member_id=member_id, city=city, display_name=name, joined_at=now)
