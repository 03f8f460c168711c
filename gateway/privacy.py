"""GraphQL for a member's rights over their data, and the board's audit log.

`myData` (a member's export), `eraseMyData` (a member erases their own personal data),
`eraseMemberData` (a board member erases it for a member who asked), `auditLog` (the board
reads who was refused, failed to sign in, acted for someone, or erased). They live in the
gateway because export and erasure reach every service. Roles come from kernel.permissions.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from gateway.erasure import erase_member
from gateway.export import FORMAT, export_member
from kernel.api import Context, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from kernel.audit import MAX_PAGE, AuditEntry, AuditKind, AuditLog
from kernel.ids import InvalidId
from kernel.ids import member_id as valid_member_id
from services.members.domain import MemberNotFound

AuditKindView = strawberry.enum(AuditKind, name="AuditKind")


@strawberry.type
class MemberExport:
    data: JSON = strawberry.field(
        description=f"Everything the co-op holds about the caller, as JSON ({FORMAT})."
    )


@strawberry.type(description="The member's personal data is erased; their history stays.")
class DataErased:
    member_id: str
    erased_fields: list[str] = strawberry.field(description="Names of what was erased.")
    erased_at: datetime
    requested_by: str
    already_erased: bool = strawberry.field(
        description="True if it had been erased before: nothing new was done or recorded."
    )


@strawberry.type(name="AuditEntry", description="Pseudonymous ids and short codes only.")
class AuditEntryView:
    seq: int
    at: datetime
    kind: AuditKindView  # type: ignore[valid-type]
    operation: str
    outcome: str
    actor: str | None
    subject: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryView:
        return cls(
            seq=entry.seq,
            at=entry.at,
            kind=entry.kind,
            operation=entry.operation,
            outcome=entry.outcome,
            actor=entry.actor,
            subject=entry.subject,
        )


@strawberry.type
class AuditLogPage:
    entries: list[AuditEntryView] = strawberry.field(description="Newest first.")
    has_more: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


Refusals = NotAuthenticated | NotAuthorized
MyDataResult = Annotated[MemberExport | Refusals | NotFound, strawberry.union("MyDataResult")]
EraseResult = Annotated[
    DataErased | Refusals | InvalidInput | NotFound, strawberry.union("EraseResult")
]
AuditLogResult = Annotated[
    AuditLogPage | Refusals | InvalidInput, strawberry.union("AuditLogResult")
]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Everything the co-op holds about the caller, to download.")
    async def my_data(self, info: Info[Context, None]) -> MyDataResult:
        try:
            data = await run_in_threadpool(
                export_member, info.context, info.context.caller.member_id
            )
        except MemberNotFound as exc:
            return NotFound(message=str(exc))
        return MemberExport(data=JSON(data))

    @strawberry.field(description="The board's audit log, newest first (no personal data).")
    async def audit_log(
        self, info: Info[Context, None], first: int = 50, after: str | None = None
    ) -> AuditLogResult:
        if not 1 <= first <= MAX_PAGE:
            return InvalidInput(message=f"first must be 1 to {MAX_PAGE}", field="first")
        try:
            before = None if after is None else int(after)
        except ValueError:
            return InvalidInput(message="after must be an endCursor from a page", field="after")
        audit: AuditLog | None = info.context.audit
        if audit is None:
            return AuditLogPage(entries=[], has_more=False, end_cursor=None)
        page = await run_in_threadpool(audit.page, before=before, limit=first)
        return AuditLogPage(
            entries=[AuditEntryView.of(e) for e in page.entries],
            has_more=page.has_more,
            end_cursor=str(page.entries[-1].seq) if page.entries else None,
        )


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Erase the caller's personal data (name, contact details) everywhere. "
        "Membership, rides, hours and the ledger stay, under the member id."
    )
    async def erase_my_data(self, info: Info[Context, None]) -> EraseResult:
        caller = info.context.caller.member_id
        return await _erase(info.context, caller, requested_by=caller, operation="eraseMyData")

    @strawberry.mutation(
        description="A board member erases a member's personal data at their request; the "
        "board member is recorded as the one who did it."
    )
    async def erase_member_data(
        self, info: Info[Context, None], member_id: strawberry.ID
    ) -> EraseResult:
        try:
            target = valid_member_id(str(member_id))
        except InvalidId as exc:
            return InvalidInput(message=str(exc), field="memberId")
        board = info.context.caller.member_id
        return await _erase(info.context, target, requested_by=board, operation="eraseMemberData")


async def _erase(
    context: Context, target: str, *, requested_by: str, operation: str
) -> DataErased | NotFound:
    try:
        erasure = await run_in_threadpool(
            lambda: erase_member(context, target, requested_by=requested_by, operation=operation)
        )
    except MemberNotFound as exc:
        return NotFound(message=str(exc))
    return DataErased(
        member_id=erasure.member_id,
        erased_fields=erasure.fields,
        erased_at=erasure.at,
        requested_by=erasure.requested_by,
        already_erased=erasure.already,
    )
