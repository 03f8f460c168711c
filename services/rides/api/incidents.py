"""GraphQL for incidents on a ride: `reportIncident` (the ride's rider or driver; the desk for
one who phoned, with their consent), and for the safety team the paged `incidents` list and
`resolveIncident`. What was said is read from the writer's vault (null once erased)."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel import delegation
from kernel.api import Context, InvalidInput, NoConsent, NotAuthorized, UnknownMember
from kernel.audit import AuditKind
from kernel.connections import Connection, connection
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id, parse_uuid
from kernel.readside.freshness import written
from services.rides.api.enums import (  # noqa: TC001 (strawberry reads them)
    IncidentKind,
    IncidentOutcome,
    IncidentState,
    ReporterRole,
)
from services.rides.api.problems import RidesProblem, call
from services.rides.application import Rides
from services.rides.projections import IncidentRecord, Listing

if TYPE_CHECKING:
    from services.rides.incidents import Incident


@strawberry.type(name="Incident")
class IncidentView:
    id: strawberry.ID
    ride_id: strawberry.ID
    kind: IncidentKind
    state: IncidentState
    reported_by: str
    reporter_role: ReporterRole
    recorded_by: str | None = strawberry.field(
        description="The dispatcher who took it down for the reporter, if one did."
    )
    reported_at: datetime
    outcome: IncidentOutcome | None
    resolved_by: str | None
    resolved_at: datetime | None

    @strawberry.field(
        description="What the reporter said, as plain text (escape it to show it): kept in "
        "their vault, null once they are erased."
    )
    async def text(self, info: Info[Context, None]) -> str | None:
        said, _ = await self._texts(info)
        return said

    @strawberry.field(description="The safety team's note on resolving it (plain text).")
    async def note(self, info: Info[Context, None]) -> str | None:
        _, note = await self._texts(info)
        return note

    async def _texts(self, info: Info[Context, None]) -> tuple[str | None, str | None]:
        rides = info.context.app(Rides)
        return await run_in_threadpool(
            lambda: rides.incident_texts(
                UUID(str(self.id)), reported_by=self.reported_by, resolved_by=self.resolved_by
            )
        )

    @classmethod
    def of(cls, incident: Incident | IncidentRecord) -> IncidentView:
        return cls(
            id=strawberry.ID(str(incident.id)),
            ride_id=strawberry.ID(str(incident.ride_id)),
            kind=incident.kind,
            state=incident.state,
            reported_by=incident.reported_by,
            reporter_role=incident.reporter_role,
            recorded_by=incident.recorded_by,
            reported_at=incident.reported_at,
            outcome=incident.outcome,
            resolved_by=incident.resolved_by,
            resolved_at=incident.resolved_at,
        )


@strawberry.type(description="An incident command's answer, and the log position after it.")
class IncidentChanged:
    incident: IncidentView
    position: str


@strawberry.input
class ReportIncidentInput:
    ride_id: strawberry.ID
    kind: IncidentKind
    text: str = strawberry.field(description="What happened, 1 to 2000 characters, plain text.")
    for_member: str | None = strawberry.field(
        default=None,
        description="The desk records it for this rider or driver (the dispatcher role and "
        "their consent).",
    )


ReportIncidentResult = Annotated[
    IncidentChanged | RidesProblem | UnknownMember | NoConsent,
    strawberry.union("ReportIncidentResult"),
]
IncidentChangeResult = Annotated[
    IncidentChanged | RidesProblem, strawberry.union("IncidentChangeResult")
]
IncidentsResult = Annotated[
    Connection[IncidentView] | RidesProblem, strawberry.union("IncidentsResult")
]


@strawberry.type
class IncidentsQuery:
    @strawberry.field(description="Incidents for the safety team, first reported first.")
    async def incidents(
        self,
        info: Info[Context, None],
        state: IncidentState | None = None,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> IncidentsResult:
        rides = info.context.app(Rides)
        result = await call(
            lambda: rides.incidents(state=state, first=first, after=after, seen=seen)
        )
        if not isinstance(result, Listing):
            return result
        listing: Listing[IncidentRecord] = result
        return connection(listing.page, IncidentView.of, as_of=listing.as_of, after=after)


@strawberry.type
class IncidentsMutation:
    @strawberry.mutation(
        description="Report an incident on a ride (its rider, booker or driver); it goes to "
        "the safety team."
    )
    async def report_incident(
        self, info: Info[Context, None], input: ReportIncidentInput
    ) -> ReportIncidentResult:
        who = info.context.caller
        rides = info.context.app(Rides)
        for_member = None
        if input.for_member is not None:
            if not who.has("dispatcher"):
                return NotAuthorized(
                    message="recording an incident for another member needs the 'dispatcher' role",
                    required_role="dispatcher",
                )
            try:
                for_member = member_id(input.for_member)
            except InvalidId as exc:
                return InvalidInput(message=str(exc), field="forMember")
            try:
                await run_in_threadpool(delegations(info.context).check, who, for_member)
            except delegation.UnknownMember as exc:
                return UnknownMember(message=str(exc), member_id=exc.member_id)
            except delegation.NoConsent as exc:
                return NoConsent(message=str(exc), member_id=exc.member_id)

        def report() -> tuple[Incident, str]:
            incident = rides.report_incident(
                who.member_id,
                parse_uuid(str(input.ride_id), what="ride"),
                kind=input.kind,
                text=input.text,
                for_member=for_member,
            )
            return incident, written(rides)

        result = await call(report)
        if not isinstance(result, tuple):
            return result
        incident, position = result
        if for_member is not None:
            info.context.audited(
                AuditKind.ACTED_ON_BEHALF, "reportIncident", "recorded", subject=for_member
            )
        return IncidentChanged(incident=IncidentView.of(incident), position=position)

    @strawberry.mutation(description="The safety team resolves an incident, with an outcome.")
    async def resolve_incident(
        self,
        info: Info[Context, None],
        incident_id: strawberry.ID,
        outcome: IncidentOutcome,
        note: str = "",
    ) -> IncidentChangeResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id

        def resolve() -> tuple[Incident, str]:
            incident = rides.resolve_incident(
                who, parse_uuid(str(incident_id), what="incident"), outcome=outcome, note=note
            )
            return incident, written(rides)

        result = await call(resolve)
        if not isinstance(result, tuple):
            return result
        incident, position = result
        return IncidentChanged(incident=IncidentView.of(incident), position=position)
