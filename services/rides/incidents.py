"""Incidents on a ride (a breakdown, an accident, a complaint, lost property), routed to the
safety team.

The ride's rider, booker or driver, or the desk for them, records one; a member of the safety
team resolves it with an outcome code. What was said (the reporter's account, the safety
team's note) may be about a person, so it is never in an event: it is kept in the writer's
vault (kernel/personal.py), like a reason for cancelling, and erasing the writer erases it.
The events hold kinds, codes, ids and times. No I/O.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from enum import Enum
from uuid import UUID  # noqa: TC003 (event attributes are read at runtime)

from eventsourcing.domain import Aggregate, event

from services.rides.domain import InvalidRideRequest, RidesError

MAX_TEXT = 2000


class IncidentKind(Enum):
    BREAKDOWN = "breakdown"
    ACCIDENT = "accident"
    COMPLAINT = "complaint"
    LOST_PROPERTY = "lost_property"


class ReporterRole(Enum):
    RIDER = "rider"  # the rider, or the member who booked for them
    DRIVER = "driver"


class IncidentOutcome(Enum):
    ACTION_TAKEN = "action_taken"  # the safety team acted (a referral to the board, say)
    NO_ACTION = "no_action"
    RETURNED = "returned"  # lost property back with its owner
    REFERRED = "referred"  # to someone outside the co-op (insurer, police)


class IncidentState(Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class IncidentNotFound(RidesError):
    def __init__(self, incident_id: UUID | str) -> None:
        super().__init__(f"no incident {incident_id}")
        self.incident_id = str(incident_id)


class IncidentAlreadyResolved(RidesError):
    def __init__(self, incident_id: UUID, outcome: IncidentOutcome) -> None:
        super().__init__(f"incident {incident_id} is resolved already ({outcome.value})")
        self.incident_id = str(incident_id)
        self.outcome = outcome


def clean_text(text: str, *, field: str, required: bool) -> str:
    """What a member wrote, as plain text: NFC, trimmed, at most `MAX_TEXT` characters, no
    control characters but line breaks and tabs. It is kept verbatim (never HTML): whoever
    shows it escapes it, as the web app's templates do. `InvalidRideRequest` names the field."""
    cleaned = unicodedata.normalize("NFC", text).strip()
    if required and not cleaned:
        raise InvalidRideRequest(field, "say what happened (1 to 2000 characters)")
    if len(cleaned) > MAX_TEXT:
        raise InvalidRideRequest(field, f"at most {MAX_TEXT} characters, got {len(cleaned)}")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned):
        raise InvalidRideRequest(field, "control characters are not allowed")
    return cleaned


class Incident(Aggregate):
    """One incident on one ride. Invariants: reported once, with a kind and a reporter (the
    rider or the driver; `recorded_by` the dispatcher who took it down for them, if one did);
    resolved at most once, with an outcome. Bounded: the account itself is in the reporter's
    vault."""

    class Reported(Aggregate.Created):
        ride_id: UUID
        kind: IncidentKind
        reported_by: str
        reporter_role: ReporterRole
        recorded_by: str | None
        at: datetime

    class Resolved(Aggregate.Event):
        ride_id: UUID
        outcome: IncidentOutcome
        by: str
        at: datetime

    @event(Reported)
    def __init__(
        self,
        ride_id: UUID,
        kind: IncidentKind,
        reported_by: str,
        reporter_role: ReporterRole,
        recorded_by: str | None,
        at: datetime,
    ) -> None:
        self.ride_id = ride_id
        self.kind = kind
        self.reported_by = reported_by
        self.reporter_role = reporter_role
        self.recorded_by = recorded_by
        self.reported_at = at
        self.state = IncidentState.OPEN
        self.outcome: IncidentOutcome | None = None
        self.resolved_by: str | None = None
        self.resolved_at: datetime | None = None

    def resolve(self, outcome: IncidentOutcome, *, by: str, now: datetime) -> None:
        if self.outcome is not None:
            raise IncidentAlreadyResolved(self.id, self.outcome)
        self._resolved(ride_id=self.ride_id, outcome=outcome, by=by, at=now)

    @event(Resolved)
    def _resolved(self, ride_id: UUID, outcome: IncidentOutcome, by: str, at: datetime) -> None:
        self.state = IncidentState.RESOLVED
        self.outcome = outcome
        self.resolved_by = by
        self.resolved_at = at
