"""A driver's standing: suspension by a board member's recorded decision, and the appeal.

No algorithm suspends a driver (DOMAIN.md): a board member records the decision with a reason
code (never free text: what is said about a person stays out of events). The driver may appeal
once per suspension; a board member other than the one who suspended reviews the appeal and
either upholds the suspension or lifts it. A board member may also lift a suspension directly.
Every step is a decision in the same record as policy decisions (the decisions list).
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from enum import Enum
from typing import TYPE_CHECKING
from uuid import uuid4

from eventsourcing.domain import Aggregate, event

from contributions.decisions.domain import DecisionsError
from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from uuid import UUID


class SuspensionReason(Enum):
    SAFETY_REPORT = "safety_report"
    DOCUMENTS_EXPIRED = "documents_expired"
    VEHICLE_UNFIT = "vehicle_unfit"
    CONDUCT = "conduct"
    OTHER = "other"


class AppealOutcome(Enum):
    UPHELD = "upheld"  # the suspension stands
    LIFTED = "lifted"


class NotSuspended(DecisionsError):
    def __init__(self, driver_id: str) -> None:
        super().__init__(f"driver {driver_id} is not suspended")
        self.driver_id = driver_id


class AlreadySuspended(DecisionsError):
    def __init__(self, driver_id: str) -> None:
        super().__init__(f"driver {driver_id} is already suspended")
        self.driver_id = driver_id


class AppealNotAllowed(DecisionsError):
    """Already appealed (one appeal per suspension), no appeal pending to review, or the
    reviewer is the board member who suspended."""

    def __init__(self, driver_id: str, message: str) -> None:
        super().__init__(message)
        self.driver_id = driver_id


class Suspension(Aggregate):
    """One driver's standing (its id is the driver's). Invariants: at most one suspension in
    force; one appeal per suspension, by the driver; reviewed once, by a board member who did
    not suspend; the state kept is only the suspension in force."""

    class Opened(Aggregate.Created):
        driver_id: str

    class Suspended(Aggregate.Event):
        driver_id: str
        decision_id: str
        by: str
        reason: str
        at: datetime

    class Appealed(Aggregate.Event):
        driver_id: str
        appeal_id: str
        decision_id: str
        at: datetime

    class AppealReviewed(Aggregate.Event):
        appeal_id: str
        decision_id: str
        by: str
        outcome: str
        at: datetime

    class Lifted(Aggregate.Event):
        driver_id: str
        decision_id: str
        by: str
        appeal_id: str | None
        at: datetime

    @staticmethod
    def create_id(driver_id: str) -> UUID:
        return stable_uuid("suspension", driver_id)

    @event(Opened)
    def __init__(self, driver_id: str) -> None:
        self.driver_id = driver_id
        self.decision_id: str | None = None
        self.suspended_by: str | None = None
        self.appeal_id: str | None = None
        self.appeal_reviewed = False

    @property
    def suspended(self) -> bool:
        return self.decision_id is not None

    def suspend(self, *, by: str, reason: SuspensionReason, now: datetime) -> str:
        if self.suspended:
            raise AlreadySuspended(self.driver_id)
        decision_id = str(uuid4())
        self._suspended(
            driver_id=self.driver_id, decision_id=decision_id, by=by, reason=reason.value, at=now
        )
        return decision_id

    @event(Suspended)
    def _suspended(
        self, driver_id: str, decision_id: str, by: str, reason: str, at: datetime
    ) -> None:
        self.decision_id = decision_id
        self.suspended_by = by
        self.appeal_id = None
        self.appeal_reviewed = False

    def appeal(self, *, by: str, now: datetime) -> str:
        if not self.suspended:
            raise NotSuspended(self.driver_id)
        if by != self.driver_id:
            raise AppealNotAllowed(self.driver_id, "only the suspended driver appeals")
        if self.appeal_id is not None:
            raise AppealNotAllowed(self.driver_id, "this suspension was already appealed")
        assert self.decision_id is not None  # noqa: S101 (suspended)
        appeal_id = str(uuid4())
        self._appealed(
            driver_id=self.driver_id, appeal_id=appeal_id, decision_id=self.decision_id, at=now
        )
        return appeal_id

    @event(Appealed)
    def _appealed(self, driver_id: str, appeal_id: str, decision_id: str, at: datetime) -> None:
        self.appeal_id = appeal_id

    def review(self, *, by: str, outcome: AppealOutcome, now: datetime) -> str:
        """The board's review of the pending appeal; returns the appeal's id."""
        if self.appeal_id is None or self.appeal_reviewed or not self.suspended:
            raise AppealNotAllowed(self.driver_id, "no appeal is waiting for review")
        if by == self.suspended_by:
            raise AppealNotAllowed(
                self.driver_id, "the board member who suspended does not review the appeal"
            )
        assert self.decision_id is not None  # noqa: S101 (suspended)
        appeal_id, decision_id = self.appeal_id, self.decision_id
        self._appeal_reviewed(
            appeal_id=appeal_id, decision_id=decision_id, by=by, outcome=outcome.value, at=now
        )
        if outcome is AppealOutcome.LIFTED:
            self._lifted(
                driver_id=self.driver_id,
                decision_id=decision_id,
                by=by,
                appeal_id=appeal_id,
                at=now,
            )
        return appeal_id

    @event(AppealReviewed)
    def _appeal_reviewed(
        self, appeal_id: str, decision_id: str, by: str, outcome: str, at: datetime
    ) -> None:
        self.appeal_reviewed = True

    def lift(self, *, by: str, now: datetime) -> str:
        if not self.suspended:
            raise NotSuspended(self.driver_id)
        assert self.decision_id is not None  # noqa: S101 (suspended)
        decision_id = self.decision_id
        self._lifted(
            driver_id=self.driver_id, decision_id=decision_id, by=by, appeal_id=None, at=now
        )
        return decision_id

    @event(Lifted)
    def _lifted(
        self, driver_id: str, decision_id: str, by: str, appeal_id: str | None, at: datetime
    ) -> None:
        self.decision_id = None
        self.suspended_by = None
