"""The incidents read model: every incident, for the safety team's list (open ones first
reported first) and a member's export (what they reported). Ids, kinds and codes only: what was
said is in the writer's vault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (the records are read at runtime)
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kernel.paging import fetch_page
from kernel.readside import Column, Op, ReadModel, Table, Update, Upsert
from services.rides.incidents import (
    Incident,
    IncidentKind,
    IncidentOutcome,
    IncidentState,
    ReporterRole,
)

if TYPE_CHECKING:
    from kernel.paging import Page, PageRequest
    from kernel.readside import Row

BY_REPORT = ("reported_at", "incident_id")


@dataclass(frozen=True)
class IncidentRecord:
    """An incident as the read model keeps it (attributes named as on the `Incident`)."""

    id: UUID
    ride_id: UUID
    kind: IncidentKind
    state: IncidentState
    reported_by: str
    reporter_role: ReporterRole
    recorded_by: str | None
    reported_at: datetime
    outcome: IncidentOutcome | None
    resolved_by: str | None
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> IncidentRecord:
        return cls(
            id=UUID(row["incident_id"]),
            ride_id=UUID(row["ride_id"]),
            kind=IncidentKind(row["kind"]),
            state=IncidentState(row["state"]),
            reported_by=row["reported_by"],
            reporter_role=ReporterRole(row["reporter_role"]),
            recorded_by=row["recorded_by"],
            reported_at=row["reported_at"],
            outcome=None if row["outcome"] is None else IncidentOutcome(row["outcome"]),
            resolved_by=row["resolved_by"],
            resolved_at=row["resolved_at"],
        )


class Incidents(ReadModel):
    """Every incident: by state for the safety team, by reporter for an export."""

    name = "incidents"
    tables = (
        Table(
            "incidents",
            (
                Column("incident_id", nullable=False),
                Column("ride_id", nullable=False),
                Column("kind", nullable=False),
                Column("state", nullable=False),
                Column("reported_by", nullable=False),
                Column("reporter_role", nullable=False),
                Column("recorded_by"),
                Column("reported_at", "timestamp", nullable=False),
                Column("outcome"),
                Column("resolved_by"),
                Column("resolved_at", "timestamp"),
            ),
            key=("incident_id",),
            indexes=(("state", *BY_REPORT), ("reported_by", *BY_REPORT), BY_REPORT),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Incident.Reported) -> list[Op]:
        return [
            Upsert(
                "incidents",
                {
                    "incident_id": str(event.originator_id),
                    "ride_id": str(event.ride_id),
                    "kind": event.kind.value,
                    "state": IncidentState.OPEN.value,
                    "reported_by": event.reported_by,
                    "reporter_role": event.reporter_role.value,
                    "recorded_by": event.recorded_by,
                    "reported_at": event.at,
                    "outcome": None,
                    "resolved_by": None,
                    "resolved_at": None,
                },
            )
        ]

    @rows.register
    def _(self, event: Incident.Resolved) -> list[Op]:
        return [
            Update(
                "incidents",
                {"incident_id": str(event.originator_id)},
                {
                    "state": IncidentState.RESOLVED.value,
                    "outcome": event.outcome.value,
                    "resolved_by": event.by,
                    "resolved_at": event.at,
                },
            )
        ]

    def listed(self, request: PageRequest, *, state: IncidentState | None) -> Page[IncidentRecord]:
        """Incidents (in `state`, or all), first reported first."""
        return fetch_page(
            self.view,
            "incidents",
            request,
            where=None if state is None else {"state": state.value},
            order_by=BY_REPORT,
            to_item=IncidentRecord.from_row,
        )

    def reported_by(self, member_id: str, request: PageRequest) -> Page[IncidentRecord]:
        """The incidents a member reported (or the desk reported for them), first first."""
        return fetch_page(
            self.view,
            "incidents",
            request,
            where={"reported_by": member_id},
            order_by=BY_REPORT,
            to_item=IncidentRecord.from_row,
        )
