"""GraphQL for what the desk reads about a member it acts for: whether their consent is in force.

`memberConsent` answers a member's own consent, or, for a dispatcher or librarian, that of the
member who phoned (found with `findMember`), so the desk sees it before booking for them and
after recording it. Reading is not acting for them, so it is not audited.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, NoConsent, NotAuthenticated, NotAuthorized, UnknownMember
from kernel.permissions import DESK
from services.members.accounts_api import ConsentView, _call, _members
from services.members.consent import Consent

MemberConsentResult = Annotated[
    ConsentView | NoConsent | UnknownMember | NotAuthenticated | NotAuthorized,
    strawberry.union("MemberConsentResult"),
]


@strawberry.type
class MembersDeskQuery:
    @strawberry.field(
        description="Whether consent to the desk acting for a member is in force, who recorded "
        "it and how. Without memberId, the caller's own; with it, for a dispatcher or "
        "librarian. NoConsent if none was ever recorded."
    )
    async def member_consent(
        self, info: Info[Context, None], member_id: str | None = None
    ) -> MemberConsentResult:
        who = info.context.caller
        member = member_id or who.member_id
        if member != who.member_id and who.roles.isdisjoint(DESK):
            return NotAuthorized(
                message="reading another member's consent needs the 'dispatcher' or "
                "'librarian' role",
                required_role="dispatcher",
            )
        members = _members(info)

        def read() -> Consent | None:
            found = members.accounts.account(member)  # UnknownMember for nobody of this city
            return members.consents.consent(found.member_id)

        result = await _call(read)
        if isinstance(result, Consent):
            return ConsentView.of(result)
        if result is None:
            return NoConsent(
                message=f"member {member} has not recorded consent to bookings on their behalf",
                member_id=member,
            )
        return result  # type: ignore[return-value]
