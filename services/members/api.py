"""GraphQL for members: see yourself. Joining is `signUp` (services/members/accounts_api.py)."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from kernel.connections import Connection, connection
from kernel.paging import InvalidPage, page_request
from kernel.readside.freshness import position_token
from services.members.application import ERASED, Members
from services.members.domain import Member, MemberNotFound
from services.members.projections import REQUEST_ORDER, RoleRequests


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


@strawberry.type(name="RoleRequest")
class RoleRequestView:
    member_id: str
    role: str
    requested_at: datetime


RoleRequestsResult = Annotated[
    Connection[RoleRequestView] | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("RoleRequestsResult"),
]


@strawberry.type
class MembersQuery:
    @strawberry.field(description="Roles members asked for, oldest first, for the board to grant.")
    async def role_requests(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> RoleRequestsResult:
        members = info.context.app(Members)

        def read() -> Connection[RoleRequestView]:
            request = page_request(first, after, arity=len(REQUEST_ORDER))
            members.catch_up(RoleRequests)
            page = members.read_model(RoleRequests).waiting(request)
            as_of = position_token(members.service, members.runners[RoleRequests].position())
            return connection(
                page,
                lambda r: RoleRequestView(
                    member_id=r.member_id, role=r.role, requested_at=r.requested_at
                ),
                as_of=as_of,
                after=after,
            )

        try:
            return await run_in_threadpool(read)
        except InvalidPage as exc:
            return InvalidInput(message=str(exc), field=exc.field)

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
