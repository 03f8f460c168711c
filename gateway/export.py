"""A member's export: everything the co-op holds about them, as one JSON document.

Assembled here because the gateway is the one place that may call every service. Each section
is one service's export of the member: members exports itself (`Members.export_member`, which
the accounts modules extend with `export_sections`); contributions and decisions export themselves
(`Contributions.export_member`, `Decisions.export_member`); rides is read through its application
methods as it is today (`Rides.rides_of`, `Rides.driver`, `Rides.drives_of`), until it has an
`export_member(member_id) -> dict` of its own for `SECTIONS` to call instead.

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
from kernel.paging import MAX_PAGE_SIZE
from kernel.permissions import refusal
from services.members.application import Members
from services.members.domain import MemberNotFound
from services.rides.application import Rides
from services.rides.domain import DriverNotRegistered

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from kernel.api import Context
    from services.rides.projections.reading import Listing
    from services.rides.projections.rides import RideRecord

FORMAT = "muni.member-export/1"
OPERATION = "myData"  # the matrix entry the HTTP route shares with the GraphQL query


def _ride(ride: RideRecord) -> dict[str, Any]:
    """One ride as its rider or driver sees it (not who else declined it)."""
    return {
        "id": str(ride.id),
        "state": ride.state.value,
        "riderId": ride.rider_id,
        "bookedBy": ride.booked_by,
        "driverId": ride.driver_id,
        "pickup": {"lat": ride.pickup.lat, "lon": ride.pickup.lon},
        "dropoff": {"lat": ride.dropoff.lat, "lon": ride.dropoff.lon},
        "seats": ride.seats,
        "wheelchair": ride.wheelchair,
        "distanceKm": str(ride.distance_km),
        "quote": str(ride.quote.amount),
        "fare": None if ride.fare is None else str(ride.fare.amount),
        "currency": ride.currency,
        "split": {part: str(amount.amount) for part, amount in ride.split.items()},
        "requestedAt": ride.requested_at.isoformat(),
        "acceptedAt": ride.accepted_at.isoformat() if ride.accepted_at else None,
        "pickedUpAt": ride.picked_up_at.isoformat() if ride.picked_up_at else None,
        "completedAt": ride.completed_at.isoformat() if ride.completed_at else None,
        "cancelReason": ride.cancel_reason,
    }


def _every_page(read: Callable[[str | None], Listing[RideRecord]]) -> list[dict[str, Any]]:
    """Every row of a paged list, page by page (an export holds all of it)."""
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        listing = read(after)
        out += [_ride(r) for r in listing.page.items]
        if not listing.page.has_next or listing.page.end_cursor is None:
            return out
        after = listing.page.end_cursor


def rides_export_member(rides: Rides, member_id: str) -> dict[str, Any]:
    """The member's rides as a rider, and as a driver with their vehicle if they drive."""
    as_driver: dict[str, Any] | None
    try:
        driver = rides.driver(member_id)
    except DriverNotRegistered:
        as_driver = None
    else:
        as_driver = {
            "seats": driver.seats,
            "wheelchairAccessible": driver.wheelchair_accessible,
            "vehicle": driver.vehicle,
            "status": driver.status.value,
            "rides": _every_page(
                lambda after: rides.drives_of(member_id, first=MAX_PAGE_SIZE, after=after)
            ),
        }
    as_rider = _every_page(
        lambda after: rides.rides_of(member_id, first=MAX_PAGE_SIZE, after=after)
    )
    # What they wrote about rides (reasons for declining or cancelling), from the rides vault.
    written = rides.personal.all_of(member_id)
    return {"asRider": as_rider, "asDriver": as_driver, "written": written}


SECTIONS: dict[str, tuple[type[Any], Callable[[Any, str], dict[str, Any]]]] = {
    "rides": (Rides, rides_export_member),
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
