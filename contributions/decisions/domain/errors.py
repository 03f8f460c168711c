"""The decisions context's expected failures, its enums, and the voting rule (pure)."""

from __future__ import annotations

import math
from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID


MAX_TITLE = 200


class DecisionsError(Exception):
    """Base for expected, user-facing failures in the decisions context."""


class InvalidProposal(DecisionsError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DecisionNotFound(DecisionsError):
    def __init__(self, decision_id: UUID | str) -> None:
        super().__init__(f"no decision {decision_id}")
        self.decision_id = str(decision_id)


class DecisionState(Enum):
    BACKING = "backing"  # a member's proposal gathering backers
    OPEN = "open"  # being voted on
    CLOSED = "closed"  # result recorded


class Choice(Enum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class NotInState(DecisionsError):
    """The decision is not in a state where this is allowed (backing a proposal already at a
    vote, voting on one still gathering backers, closing one closed)."""

    def __init__(self, decision_id: UUID, state: DecisionState, action: str) -> None:
        super().__init__(f"cannot {action} decision {decision_id}: it is {state.value}")
        self.decision_id = str(decision_id)
        self.state = state
        self.action = action


class VotingClosed(DecisionsError):
    def __init__(self, decision_id: UUID, closes_at: datetime) -> None:
        super().__init__(f"voting on decision {decision_id} closed at {closes_at.isoformat()}")
        self.decision_id = str(decision_id)
        self.closes_at = closes_at


class VotingStillOpen(DecisionsError):
    def __init__(self, decision_id: UUID, closes_at: datetime) -> None:
        super().__init__(f"decision {decision_id} is open for votes until {closes_at.isoformat()}")
        self.decision_id = str(decision_id)
        self.closes_at = closes_at


class AlreadyVoted(DecisionsError):
    def __init__(self, decision_id: UUID | str, member_id: str) -> None:
        super().__init__(f"member {member_id} has already voted on decision {decision_id}")
        self.decision_id = str(decision_id)
        self.member_id = member_id


class AlreadyBacked(DecisionsError):
    def __init__(self, decision_id: UUID | str, member_id: str) -> None:
        super().__init__(f"member {member_id} already backs decision {decision_id}")
        self.decision_id = str(decision_id)
        self.member_id = member_id


class NoProxy(DecisionsError):
    """The caller holds no proxy from the member they tried to vote for."""

    def __init__(self, member_id: str, holder_id: str) -> None:
        super().__init__(f"{holder_id} holds no proxy from member {member_id} for this decision")
        self.member_id = member_id
        self.holder_id = holder_id


class InvalidProxy(DecisionsError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownVoter(DecisionsError):
    """No such member in this city (as far as the decisions service has learned)."""

    def __init__(self, member_id: str) -> None:
        super().__init__(f"no member {member_id} in this city")
        self.member_id = member_id


def share_of(members: int, percent: Decimal) -> int:
    """`percent` % of `members`, rounded up, and at least 1."""
    return max(1, math.ceil(Decimal(members) * percent / 100))


def passes(
    *, for_votes: int, against: int, abstain: int, quorum: int, threshold_percent: Decimal
) -> tuple[bool, bool]:
    """(quorum reached, passed): abstentions count towards the quorum; a proposal passes when
    more than `threshold_percent` of the votes for or against are for it."""
    reached = for_votes + against + abstain >= quorum
    decided = for_votes + against
    return reached, reached and decided > 0 and for_votes * 100 > threshold_percent * decided
