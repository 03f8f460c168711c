"""What leaves the members context, on `<city>.members.events.v1`. Known consumers: none yet."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from typing import TYPE_CHECKING, Any, Literal

from kernel.events import IntegrationEvent

if TYPE_CHECKING:
    from collections.abc import Callable

SERVICE = "members"


class MemberJoinedV1(IntegrationEvent):
    """A member joined a city co-op. Carries no personal data (the display name stays home)."""

    type: Literal["members.MemberJoined"] = "members.MemberJoined"
    version: Literal[1] = 1
    member_id: str
    city: str
    joined_at: datetime


PUBLISHED: tuple[type[IntegrationEvent], ...] = (MemberJoinedV1,)


def _joined(event: Any) -> IntegrationEvent:
    return MemberJoinedV1(member_id=event.member_id, city=event.city, joined_at=event.joined_at)


_MAPPERS: dict[str, Callable[[Any], IntegrationEvent]] = {"Member.Joined": _joined}


def to_integration(event: object) -> IntegrationEvent | None:
    mapper = _MAPPERS.get(type(event).__qualname__)
    return mapper(event) if mapper else None
