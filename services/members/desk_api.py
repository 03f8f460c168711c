"""GraphQL for the desk and a member it acts for: whether their consent is in force, and a
token to act for them.

`memberConsent` answers a member's own consent, or, for a dispatcher or librarian, that of the
member who phoned (found with `findMember`), so the desk sees it before booking for them and
after recording it. Reading is not acting for them, so it is not audited.

`actForMember` gives a dispatcher a short-lived token for the member (their membership only,
never their other roles; RFC 8693's `act` claim names the dispatcher), so everything the member
can do in the app the desk can do for them, with their consent: every mutation made with it is
audited naming both, and the member's own acts (consent, votes, erasure: kernel.permissions
SELF_ONLY) are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, NoConsent, NotAuthenticated, NotAuthorized, UnknownMember
from kernel.audit import AuditKind
from kernel.auth import Identity, mint
from kernel.permissions import DESK
from services.members.account import MEMBERSHIP
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


# Long enough for a phone call; no refresh token: the desk asks again (and consent is read again).
ACTING_TTL = timedelta(minutes=20)


@strawberry.type(description="A token to act for a member (send it as 'Authorization: Bearer').")
class ActingFor:
    member_id: str
    access_token: str
    access_token_expires_at: datetime


ActForMemberResult = Annotated[
    ActingFor | NoConsent | UnknownMember | NotAuthenticated | NotAuthorized,
    strawberry.union("ActForMemberResult"),
]


@strawberry.type
class MembersDeskMutation:
    @strawberry.mutation(
        description="A dispatcher acts for a member who phoned, with their consent: a token "
        "for minutes, holding the member's membership alone. Everything done with it is in "
        "the audit log; the member's own acts (consent, votes, erasure) are refused."
    )
    async def act_for_member(self, info: Info[Context, None], member_id: str) -> ActForMemberResult:
        who = info.context.caller
        members = _members(info)

        def act() -> str:
            members.consents.check(who, member_id)  # UnknownMember or NoConsent
            return members.accounts.account(member_id).member_id

        result = await _call(act)
        if not isinstance(result, str):
            return result  # type: ignore[return-value]
        now = datetime.now(UTC)  # tokens are checked against the wall clock (kernel/auth.py)
        token = mint(
            Identity(result, who.city, frozenset({MEMBERSHIP}), actor=who.member_id),
            info.context.settings.signing_key,
            now=now,
            ttl=ACTING_TTL,
        )
        info.context.audited(AuditKind.ACTED_ON_BEHALF, "actForMember", "started", subject=result)
        return ActingFor(
            member_id=result, access_token=token, access_token_expires_at=now + ACTING_TTL
        )
