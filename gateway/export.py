"""A member's export: everything the co-op holds about them, as one JSON document.

Assembled here because the gateway is the one place that may call every service. Each section
is one service's export of the member, by its own `export_member(member_id) -> dict`: members
(`Members.export_member`, which the accounts modules extend with `export_sections`), rides
(rides, drives, scheduled bookings, incidents, vehicles), contributions and decisions.

Served as GraphQL `myData` and as `GET /me/export` (a file to download, for the web app).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from contributions.application import Contributions
from contributions.decisions.application import Decisions
from kernel.audit import AuditKind
from kernel.permissions import refusal
from services.members.application import Members
from services.members.domain import MemberNotFound
from services.rides.application import Rides

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from kernel.api import Context

FORMAT = "muni.member-export/1"
OPERATION = "myData"  # the matrix entry the HTTP route shares with the GraphQL query


SECTIONS: dict[str, tuple[type[Any], Callable[[Any, str], dict[str, Any]]]] = {
    "rides": (Rides, lambda app, member_id: app.export_member(member_id)),
    "contributions": (Contributions, lambda app, member_id: app.export_member(member_id)),
    "decisions": (Decisions, lambda app, member_id: app.export_member(member_id)),
}


def export_member(context: Context, member_id: str) -> dict[str, Any]:
    """The whole export of one member. Raises MemberNotFound for a member who never joined."""
    members = context.app(Members)
    document: dict[str, Any] = {
        "format": FORMAT,
        "memberId": member_id,
        "exportedAt": members.clock.now().isoformat(),
        "members": members.export_member(member_id),
    }
    for name, (app_cls, section) in SECTIONS.items():
        document[name] = section(context.app(app_cls), member_id)
    if context.audit is not None:
        context.audit.record(
            AuditKind.EXPORTED,
            operation=OPERATION,
            outcome="exported",
            actor=member_id,
            subject=member_id,
        )
    return document


def export_endpoint(
    context_for: Callable[[Request], Awaitable[Context]],
) -> Callable[[Request], Awaitable[Response]]:
    """`GET /me/export` with the bearer token: the caller's export as a JSON attachment.

    Guarded by the matrix entry of `myData`, with the same refusals as JSON (401 or 403).
    """

    async def endpoint(request: Request) -> Response:
        context = await context_for(request)
        problem = refusal(context, OPERATION)
        if problem is not None:
            context.refused(OPERATION, problem)
            status = 403 if type(problem).__name__ == "NotAuthorized" else 401
            return JSONResponse(
                {"__typename": type(problem).__name__, "message": problem.message},
                status_code=status,
                headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
            )
        member_id = context.caller.member_id
        try:
            document = await run_in_threadpool(export_member, context, member_id)
        except MemberNotFound as exc:
            return JSONResponse({"__typename": "NotFound", "message": str(exc)}, status_code=404)
        filename = f"muni-export-{member_id.replace(':', '-')}.json"
        return Response(
            json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True),
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    return endpoint
