"""Contests: a member disputes one of their ledger lines; the board reviews it.

A line is contested once (its contest's id is the line). The review records the outcome: kept
(nothing changes), changed (to a stated quantity) or removed (to zero). A change or a removal is
an adjusting journal entry dated at the review, so a frozen period stays as it was and the
adjustment shows in the member's next statement; the original line is never rewritten.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (eventsourcing reads event annotations)
from decimal import Decimal
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from contributions.domain import ContributionsError
from kernel.ids import stable_uuid


class Outcome(StrEnum):
    KEPT = "kept"
    CHANGED = "changed"
    REMOVED = "removed"


class ContestStatus(StrEnum):
    IN_REVIEW = "in_review"
    DECIDED = "decided"


class NotYourLine(ContributionsError):
    """Only the member whose account a line is on may contest it."""


class LineNotFound(ContributionsError):
    pass


class AlreadyContested(ContributionsError):
    def __init__(self, contest_id: str) -> None:
        super().__init__(f"this line is contested already (contest {contest_id})")
        self.contest_id = contest_id


class ContestNotFound(ContributionsError):
    pass


class AlreadyReviewed(ContributionsError):
    pass


class InvalidReview(ContributionsError):
    """A review whose quantity does not fit its outcome; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Contest(Aggregate):
    @staticmethod
    def create_id(entry_id: str, line: int) -> Any:
        return stable_uuid("contest", entry_id, str(line))

    class Opened(Aggregate.Created):
        member_id: str
        entry_id: str
        line: int
        account: str
        unit: str
        credited: Decimal  # what the line credited the member (positive)
        at: datetime

    @event(Opened)
    def __init__(
        self,
        member_id: str,
        entry_id: str,
        line: int,
        account: str,
        unit: str,
        credited: Decimal,
        at: datetime,
    ) -> None:
        self.member_id = member_id
        self.entry_id = entry_id
        self.line = line
        self.account = account
        self.unit = unit
        self.credited = credited
        self.status = ContestStatus.IN_REVIEW

    class Reviewed(Aggregate.Event):
        outcome: str
        quantity: Decimal  # what the line credits after the review
        reviewer: str
        at: datetime

    @event(Reviewed)
    def _reviewed(self, outcome: str, quantity: Decimal, reviewer: str, at: datetime) -> None:
        self.status = ContestStatus.DECIDED
        self.outcome = Outcome(outcome)
        self.quantity = quantity

    def review(
        self, outcome: Outcome, quantity: Decimal | None, reviewer: str, at: datetime
    ) -> Decimal:
        """Record the outcome; returns the adjustment to credit (new quantity - credited)."""
        if self.status is ContestStatus.DECIDED:
            raise AlreadyReviewed("this contest was reviewed already")
        if reviewer == self.member_id:
            raise InvalidReview("reviewer", "nobody reviews their own contest")
        if outcome is Outcome.KEPT:
            new = self.credited
        elif outcome is Outcome.REMOVED:
            new = Decimal(0)
        else:
            if quantity is None or not quantity.is_finite() or quantity < 0:
                raise InvalidReview("quantity", "a change needs the new quantity, 0 or more")
            if quantity == self.credited:
                raise InvalidReview("quantity", "that is what the line says: review it as kept")
            new = quantity
        self._reviewed(outcome=outcome.value, quantity=new, reviewer=reviewer, at=at)
        return new - self.credited
