"""Logged contributions: work no service sees (care, governance, code, translation, a meeting, a
neighbourhood work day), logged by the member who did it and validated by peers.

A logged contribution counts only once `required` peers have validated it; nobody validates
their own, and nobody validates the same contribution twice. When it counts, the application
posts its hours to the ledger in the same save (contributions.application). No free text is
kept in the event (what a member writes is personal data): the kind, the hours and the day.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from contributions.domain import ContributionsError


class LoggedStatus(StrEnum):
    PENDING = "pending"
    COUNTED = "counted"


class InvalidContribution(ContributionsError):
    """Logged work the co-op cannot count as given: `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class OwnContribution(ContributionsError):
    """A member tried to validate their own logged work."""


class AlreadyValidated(ContributionsError):
    """This member has validated this contribution already."""


class AlreadyCounted(ContributionsError):
    """The contribution has all the validations it needs; it counts already."""


class ContributionNotFound(ContributionsError):
    pass


class LoggedWork(Aggregate):
    """One member's logged contribution and the peers who validated it."""

    class Logged(Aggregate.Created):
        member_id: str
        kind: str
        hours: Decimal
        worked_on: str  # ISO date (the store has no transcoding for a bare date)
        logged_at: datetime
        required: int

    @event(Logged)
    def __init__(
        self,
        member_id: str,
        kind: str,
        hours: Decimal,
        worked_on: str,
        logged_at: datetime,
        required: int,
    ) -> None:
        self.member_id = member_id
        self.kind = kind
        self.hours = hours
        self.worked_on = date.fromisoformat(worked_on)
        self.logged_at = logged_at
        self.required = required
        self.validators: list[str] = []
        self.status = LoggedStatus.PENDING

    @classmethod
    def log(
        cls,
        *,
        member_id: str,
        kind: str,
        hours: Decimal,
        worked_on: date,
        now: datetime,
        kinds: tuple[str, ...],
        max_hours: Decimal,
        required: int,
    ) -> LoggedWork:
        if kind not in kinds:
            raise InvalidContribution("kind", f"{kind!r} is not one of {', '.join(kinds)}")
        if not hours.is_finite() or hours <= 0:
            raise InvalidContribution("hours", f"must be more than 0, got {hours}")
        if hours > max_hours:
            raise InvalidContribution("hours", f"at most {max_hours} in one contribution")
        if hours != hours.quantize(Decimal("0.01")):
            raise InvalidContribution("hours", "at most two decimal places (0.25 is a quarter)")
        if worked_on > now.date():
            raise InvalidContribution("workedOn", f"{worked_on} is in the future")
        return cls(
            member_id=member_id,
            kind=kind,
            hours=hours,
            worked_on=worked_on.isoformat(),
            logged_at=now,
            required=required,
        )

    class Validated(Aggregate.Event):
        by: str
        at: datetime
        counts: bool  # this validation was the last one needed
        validators: list[str]  # everyone who has validated it, this one included

    @event(Validated)
    def _validated(self, by: str, at: datetime, counts: bool, validators: list[str]) -> None:
        self.validators = list(validators)
        if counts:
            self.status = LoggedStatus.COUNTED

    def validate(self, by: str, at: datetime) -> bool:
        """Record `by`'s validation; True if the contribution now counts."""
        if by == self.member_id:
            raise OwnContribution("nobody validates their own contribution")
        if by in self.validators:
            raise AlreadyValidated(f"{by} has validated this contribution already")
        if self.status is LoggedStatus.COUNTED:
            raise AlreadyCounted("this contribution has all its validations; it counts")
        counts = len(self.validators) + 1 >= self.required
        self._validated(by=by, at=at, counts=counts, validators=[*self.validators, by])
        return counts
