"""GraphQL for accounts: sign-up, sign-in (password or one-time code), refresh, sign-out
everywhere, roles and consent. Every answer that refuses is a typed union member carrying data.

Who may call what is `kernel/permissions.py`; what depends on the row (acting for another
member, being on the board by the record) is checked here, as each description says.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel import delegation
from kernel.api import (
    Context,
    InvalidInput,
    NoConsent,
    NotAuthenticated,
    NotAuthorized,
    NotFound,
    Problem,
    UnknownMember,
)
from kernel.audit import AuditKind
from kernel.permissions import DESK
from services.members import account, accounts, roles, session, signin_code
from services.members.application import Members
from services.members.consent import Consent
from services.members.domain import InvalidMembership, MembersError

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
Refused = NotAuthenticated | NotAuthorized


@strawberry.enum(description="A role in a city co-op; the same set as kernel.auth.ROLES.")
class Role(Enum):
    MEMBER = "member"
    DRIVER = "driver"
    DISPATCHER = "dispatcher"
    BOARD = "board"
    SAFETY = "safety"
    REGULATOR = "regulator"
    HOST = "host"
    LIBRARIAN = "librarian"
    WORKER_OWNER = "worker_owner"
    CLIENT = "client"


@strawberry.enum(description="How a consent (or its withdrawal) reached the co-op.")
class ConsentChannel(Enum):
    APP = "app"
    PHONE = "phone"
    IN_PERSON = "in_person"


# -- answers ------------------------------------------------------------------------------------
@strawberry.type(description="Signed in: an access token for minutes and a refresh token.")
class SignedIn:
    member_id: str
    city: str
    roles: list[str]
    access_token: str = strawberry.field(
        description="Send as 'Authorization: Bearer <token>'. It lasts minutes."
    )
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(
        description="Exchange it with refreshToken for a new pair, once: a second use revokes "
        "the whole session."
    )

    @classmethod
    def of(cls, tokens: accounts.Tokens) -> SignedIn:
        return cls(
            member_id=tokens.member_id,
            city=tokens.city,
            roles=list(tokens.roles),
            access_token=tokens.access_token,
            access_token_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token,
        )


@strawberry.type(description="Every refresh token of the member is revoked.")
class SignedOut:
    member_id: str


@strawberry.type(description="Hand this code to the member (on paper, or read it out).")
class SignInCodeIssued:
    member_id: str
    code: str
    expires_at: datetime


@strawberry.type
class MemberRef:
    member_id: str


@strawberry.type(name="Account", description="Who one is in the co-op: roles, logins, consent.")
class AccountView:
    member_id: str
    city: str
    roles: list[str]
    requested_roles: list[str]
    login_kinds: list[str] = strawberry.field(description="'email', 'phone': never the value.")
    language: str | None = strawberry.field(
        default=None,
        description="The language the member chose (chooseLanguage), or null for the city's "
        "default (the first of cityRules.languages).",
    )

    @classmethod
    def of(cls, found: account.Account) -> AccountView:
        return cls(
            member_id=found.member_id,
            city=found.city,
            roles=sorted(found.roles),
            requested_roles=sorted(found.requested),
            login_kinds=sorted(found.logins),
            language=found.language,
        )


@strawberry.type(name="Consent")
class ConsentView:
    member_id: str
    given: bool
    recorded_by: str
    channel: str
    changed_at: datetime

    @classmethod
    def of(cls, consent: Consent) -> ConsentView:
        return cls(
            member_id=consent.member_id,
            given=consent.given,
            recorded_by=consent.recorded_by,
            channel=consent.channel,
            changed_at=consent.changed_at,
        )


# -- problems -----------------------------------------------------------------------------------
@strawberry.type(description="The login, password or code is not right (it does not say which).")
class InvalidCredentials(Problem):
    pass


@strawberry.type(description="An account with this email or phone exists already.")
class LoginTaken(Problem):
    kind: str


@strawberry.type(description="The sign-in code expired: ask the desk for a new one.")
class CodeExpired(Problem):
    expired_at: datetime


@strawberry.type(description="The sign-in code was used already; codes work once.")
class CodeAlreadyUsed(Problem):
    used_at: datetime


@strawberry.type(description="No codes for accounts that see or act on others' data.")
class CodeNotAllowed(Problem):
    member_id: str


@strawberry.type(description="The refresh token is not one this co-op issued.")
class RefreshTokenInvalid(Problem):
    pass


@strawberry.type(description="The refresh token was used before: its whole session is revoked.")
class RefreshTokenReused(Problem):
    pass


@strawberry.type(description="The session ended (signed out everywhere, expired, or revoked).")
class SessionEnded(Problem):
    reason: str


@strawberry.type
class RoleAlreadyHeld(Problem):
    member_id: str
    role: str


@strawberry.type
class RoleNotHeld(Problem):
    member_id: str
    role: str


@strawberry.type(description="Nobody grants or withdraws their own role.")
class OwnRole(Problem):
    role: str


def _problem(exc: Exception) -> Problem:
    """The one mapping of the accounts' expected errors to GraphQL problems."""
    if isinstance(exc, InvalidMembership):
        return InvalidInput(message=str(exc), field=exc.field)
    if isinstance(exc, accounts.InvalidCredentials):
        return InvalidCredentials(message=str(exc))
    if isinstance(exc, accounts.LoginTaken):
        return LoginTaken(message=str(exc), kind=exc.kind)
    if isinstance(exc, accounts.CodeNotAllowed):
        return CodeNotAllowed(message=str(exc), member_id=exc.member_id)
    if isinstance(exc, signin_code.CodeExpired):
        return CodeExpired(message=str(exc), expired_at=exc.expired_at)
    if isinstance(exc, signin_code.CodeAlreadyUsed):
        return CodeAlreadyUsed(message=str(exc), used_at=exc.used_at)
    if isinstance(exc, session.RefreshTokenInvalid):
        return RefreshTokenInvalid(message=str(exc))
    if isinstance(exc, session.RefreshTokenReused):
        return RefreshTokenReused(message=str(exc))
    if isinstance(exc, session.SessionEnded):
        return SessionEnded(message=str(exc), reason=exc.reason)
    if isinstance(exc, account.AccountNotFound):
        return UnknownMember(message=str(exc), member_id=exc.member_id)
    if isinstance(exc, delegation.UnknownMember):
        return UnknownMember(message=str(exc), member_id=exc.member_id)
    if isinstance(exc, delegation.NoConsent):
        return NoConsent(message=str(exc), member_id=exc.member_id)
    if isinstance(exc, account.RoleAlreadyHeld):
        return RoleAlreadyHeld(message=str(exc), member_id=exc.member_id, role=exc.role)
    if isinstance(exc, account.RoleNotHeld):
        return RoleNotHeld(message=str(exc), member_id=exc.member_id, role=exc.role)
    if isinstance(exc, account.OwnRole):
        return OwnRole(message=str(exc), role=exc.role)
    if isinstance(exc, roles.NotOnBoard):
        return NotAuthorized(message=str(exc), required_role="board")
    raise exc


async def _call(fn: Callable[[], T]) -> T | Problem:
    try:
        return await run_in_threadpool(fn)
    except (MembersError, delegation.DelegationRefused) as exc:
        return _problem(exc)


def _members(info: Info[Context, None]) -> Members:
    return info.context.app(Members)


def _answer(result: object, kind: type[T], make: Callable[[T], object]) -> Any:
    """`make(result)` on success; the problem as it is otherwise (typed by the resolver)."""
    return make(result) if isinstance(result, kind) else result


SignUpResult = Annotated[SignedIn | InvalidInput | LoginTaken, strawberry.union("SignUpResult")]
SignInResult = Annotated[SignedIn | InvalidCredentials, strawberry.union("SignInResult")]
SignInWithCodeResult = Annotated[
    SignedIn | InvalidCredentials | CodeExpired | CodeAlreadyUsed,
    strawberry.union("SignInWithCodeResult"),
]
RefreshTokenResult = Annotated[
    SignedIn | RefreshTokenInvalid | RefreshTokenReused | SessionEnded,
    strawberry.union("RefreshTokenResult"),
]
SignOutResult = Annotated[SignedOut | UnknownMember | Refused, strawberry.union("SignOutResult")]
SignOutHereResult = Annotated[
    SignedOut | RefreshTokenInvalid,
    strawberry.union("SignOutHereResult"),
]
AccountResult = Annotated[AccountView | UnknownMember | Refused, strawberry.union("AccountResult")]
IssueSignInCodeResult = Annotated[
    SignInCodeIssued | UnknownMember | CodeNotAllowed | Refused,
    strawberry.union("IssueSignInCodeResult"),
]
FindMemberResult = Annotated[MemberRef | NotFound | Refused, strawberry.union("FindMemberResult")]
RequestRoleResult = Annotated[
    AccountView | RoleAlreadyHeld | InvalidInput | UnknownMember | Refused,
    strawberry.union("RequestRoleResult"),
]
GrantRoleResult = Annotated[
    AccountView | UnknownMember | RoleAlreadyHeld | OwnRole | InvalidInput | Refused,
    strawberry.union("GrantRoleResult"),
]
WithdrawRoleResult = Annotated[
    AccountView | UnknownMember | RoleNotHeld | OwnRole | InvalidInput | Refused,
    strawberry.union("WithdrawRoleResult"),
]
ChooseLanguageResult = Annotated[
    AccountView | InvalidInput | UnknownMember | Refused,
    strawberry.union("ChooseLanguageResult"),
]
ConsentResult = Annotated[
    ConsentView | UnknownMember | NoConsent | InvalidInput | Refused,
    strawberry.union("ConsentResult"),
]


@strawberry.input
class SignUpInput:
    display_name: str
    password: str = strawberry.field(description="10 to 200 characters; a phrase is good.")
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="A landline is fine; without +prefix, read in the city's region."
    )


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The caller's account: roles held and asked for, login kinds.")
    async def my_account(self, info: Info[Context, None]) -> AccountResult:
        who = info.context.caller
        result = await _call(lambda: _members(info).accounts.account(who.member_id))
        return _answer(result, account.Account, AccountView.of)

    @strawberry.field(description="The desk finds the member who phoned, by email or phone.")
    async def find_member(self, info: Info[Context, None], login: str) -> FindMemberResult:
        result = await _call(lambda: _members(info).accounts.find_member(login))
        if isinstance(result, str):
            return MemberRef(member_id=result)
        return NotFound(message="no member with that email or phone")


def _audit_sign_in(info: Info[Context, None], operation: str, result: object) -> None:
    """A failed sign-in goes to the audit log, without the login that was typed."""
    if not isinstance(result, accounts.Tokens):
        info.context.audited(AuditKind.SIGN_IN_FAILED, operation, type(result).__name__)


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Join this city's co-op with an email or a phone (or both).")
    async def sign_up(self, info: Info[Context, None], input: SignUpInput) -> SignUpResult:
        def sign_up() -> accounts.Tokens:
            return _members(info).accounts.sign_up(
                display_name=input.display_name,
                password=input.password,
                email=input.email,
                phone=input.phone,
            )

        result = await _call(sign_up)
        return _answer(result, accounts.Tokens, SignedIn.of)

    @strawberry.mutation(description="Sign in with an email or phone and the password.")
    async def sign_in(self, info: Info[Context, None], login: str, password: str) -> SignInResult:
        result = await _call(lambda: _members(info).accounts.sign_in(login, password))
        _audit_sign_in(info, "signIn", result)
        return _answer(result, accounts.Tokens, SignedIn.of)

    @strawberry.mutation(description="Sign in with a one-time code from a dispatcher or librarian.")
    async def sign_in_with_code(self, info: Info[Context, None], code: str) -> SignInWithCodeResult:
        result = await _call(lambda: _members(info).accounts.sign_in_with_code(code))
        _audit_sign_in(info, "signInWithCode", result)
        return _answer(result, accounts.Tokens, SignedIn.of)

    @strawberry.mutation(description="A new access token and refresh token for a refresh token.")
    async def refresh_token(
        self, info: Info[Context, None], refresh_token: str
    ) -> RefreshTokenResult:
        result = await _call(lambda: _members(info).accounts.refresh(refresh_token))
        return _answer(result, accounts.Tokens, SignedIn.of)

    @strawberry.mutation(
        description="End the session this refresh token belongs to (this device only); "
        "signing out twice changes nothing."
    )
    async def sign_out(self, info: Info[Context, None], refresh_token: str) -> SignOutHereResult:
        result = await _call(lambda: _members(info).accounts.sign_out(refresh_token))
        return _answer(result, str, lambda member: SignedOut(member_id=member))

    @strawberry.mutation(description="Revoke every refresh token of the caller, on every device.")
    async def sign_out_everywhere(self, info: Info[Context, None]) -> SignOutResult:
        who = info.context.caller
        result = await _call(lambda: _members(info).accounts.sign_out_everywhere(who.member_id))
        return _answer(result, type(None), lambda _: SignedOut(member_id=who.member_id))

    @strawberry.mutation(
        description="Remember the caller's language for the web app: one of the city's "
        "languages (cityRules.languages), else InvalidInput on `language`."
    )
    async def choose_language(
        self, info: Info[Context, None], language: str
    ) -> ChooseLanguageResult:
        who = info.context.caller
        result = await _call(
            lambda: _members(info).accounts.choose_language(who.member_id, language)
        )
        return _answer(result, account.Account, AccountView.of)

    @strawberry.mutation(
        description="The desk issues a one-time sign-in code for a member without a smartphone."
    )
    async def issue_sign_in_code(
        self, info: Info[Context, None], member_id: str
    ) -> IssueSignInCodeResult:
        who = info.context.caller
        result = await _call(
            lambda: _members(info).accounts.issue_code(by=who.member_id, member=member_id)
        )
        return _answer(
            result,
            accounts.IssuedCode,
            lambda c: SignInCodeIssued(member_id=c.member_id, code=c.code, expires_at=c.expires_at),
        )

    @strawberry.mutation(description="Ask the board for a role; a board member grants it.")
    async def request_role(
        self, info: Info[Context, None], role: Role, reason: str
    ) -> RequestRoleResult:
        who = info.context.caller
        members = _members(info)

        def request() -> account.Account:
            if not members.roles.request(who.member_id, role.value, reason):
                raise account.RoleAlreadyHeld(role.value, who.member_id)
            return members.accounts.account(who.member_id)

        result = await _call(request)
        return _answer(result, account.Account, AccountView.of)

    @strawberry.mutation(
        description="A board member (by the record) grants a role to another member; their next "
        "token (sign-in or refresh) carries it."
    )
    async def grant_role(
        self,
        info: Info[Context, None],
        member_id: str,
        role: Role,
        reason: str,
    ) -> GrantRoleResult:
        who = info.context.caller
        result = await _call(
            lambda: _members(info).roles.grant(
                by=who.member_id, member=member_id, role=role.value, reason=reason
            )
        )
        if isinstance(result, account.Account):
            info.context.audited(
                AuditKind.ROLE_GRANTED, "grantRole", role.value.lower(), subject=result.member_id
            )
        return _answer(result, account.Account, AccountView.of)

    @strawberry.mutation(description="A board member (by the record) withdraws a member's role.")
    async def withdraw_role(
        self,
        info: Info[Context, None],
        member_id: str,
        role: Role,
        reason: str,
    ) -> WithdrawRoleResult:
        who = info.context.caller
        result = await _call(
            lambda: _members(info).roles.withdraw(
                by=who.member_id, member=member_id, role=role.value, reason=reason
            )
        )
        if isinstance(result, account.Account):
            info.context.audited(
                AuditKind.ROLE_WITHDRAWN,
                "withdrawRole",
                role.value.lower(),
                subject=result.member_id,
            )
        return _answer(result, account.Account, AccountView.of)

    @strawberry.mutation(
        description="Consent to the desk booking for you. With memberId, a dispatcher or "
        "librarian records it for that member, with what they said (channel: phone by default)."
    )
    async def give_consent(
        self,
        info: Info[Context, None],
        member_id: str | None = None,
        channel: ConsentChannel | None = None,
        statement: str | None = None,
    ) -> ConsentResult:
        return await _consent(info, member_id, channel, statement, give=True)

    @strawberry.mutation(
        description="Withdraw consent; with memberId, the desk records it for that member."
    )
    async def withdraw_consent(
        self,
        info: Info[Context, None],
        member_id: str | None = None,
        channel: ConsentChannel | None = None,
        statement: str | None = None,
    ) -> ConsentResult:
        return await _consent(info, member_id, channel, statement, give=False)


async def _consent(
    info: Info[Context, None],
    member_id: str | None,
    channel: ConsentChannel | None,
    statement: str | None,
    *,
    give: bool,
) -> Any:
    who = info.context.caller
    member = member_id or who.member_id
    if member == who.member_id:
        how = ConsentChannel.APP
    elif who.roles.isdisjoint(DESK):
        return NotAuthorized(
            message="recording consent for another member needs the 'dispatcher' or "
            "'librarian' role",
            required_role="dispatcher",
        )
    else:
        how = channel or ConsentChannel.PHONE
    consents = _members(info).consents
    record = consents.give if give else consents.withdraw
    result = await _call(
        lambda: record(member, recorded_by=who.member_id, channel=how.value, statement=statement)
    )
    if member != who.member_id and isinstance(result, Consent):
        operation = "giveConsent" if give else "withdrawConsent"
        info.context.audited(AuditKind.ACTED_ON_BEHALF, operation, how.value, subject=member)
    return _answer(result, Consent, ConsentView.of)
