"""GraphQL for members: see yourself. Joining is `signUp` (services/members/accounts_api.py)."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, NotAuthenticated, NotAuthorized, NotFound
from services.members.application import ERASED, Members
from services.members.domain import Member, MemberNotFound


@strawberry.type(name="Member")
class MemberView:
    id: str
    city: str
    display_name: str = strawberry.field(
        description=f"The name the member chose, or {ERASED!r} once their data is erased."
    )
    joined_at: datetime

    @classmethod
    def from_member(cls, member: Member, display_name: str) -> MemberView:
        return cls(
            id=member.member_id,
            city=member.city,
            display_name=display_name,
            joined_at=member.joined_at,
        )


MeResult = Annotated[
    MemberView | NotAuthenticated | NotAuthorized | NotFound, strawberry.union("MeResult")
]


@strawberry.type
class MembersQuery:
    @strawberry.field(description="The calling member.")
    async def me(self, info: Info[Context, None]) -> MeResult:
        who = info.context.caller
        members = info.context.app(Members)
        try:
            member = await run_in_threadpool(members.member, who.member_id)
        except MemberNotFound as exc:
            return NotFound(message=str(exc))
        name = await run_in_threadpool(members.display_name, member)
        return MemberView.from_member(member, name)
