"""GraphQL for members: see yourself. Joining is `signUp` (services/members/accounts_api.py)."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, NotAuthenticated, NotAuthorized, NotFound
from services.members.application import Members
from services.members.domain import Member, MemberNotFound


@strawberry.type(name="Member")
class MemberView:
    id: str
    city: str
    display_name: str
    joined_at: datetime

    @classmethod
    def from_member(cls, member: Member) -> MemberView:
        return cls(
            id=member.member_id,
            city=member.city,
            display_name=member.display_name,
            joined_at=member.joined_at,
        )


MeResult = Annotated[
    MemberView | NotAuthenticated | NotAuthorized | NotFound, strawberry.union("MeResult")
]


@strawberry.type
class MembersQuery:
    @strawberry.field(description="The calling member.")
    async def me(self, info: Info[Context, None]) -> MeResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        try:
            member = await run_in_threadpool(info.context.app(Members).member, who.member_id)
        except MemberNotFound as exc:
            return NotFound(message=str(exc))
        return MemberView.from_member(member)
