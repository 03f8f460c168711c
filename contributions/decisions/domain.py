"""The decisions domain: proposals and their votes, ballots, proxies, backing, policy versions
and drivers' suspensions. No I/O, no clock: `now` is passed in.

Aggregates (none grows with the city's history: tallies and lists are read models):
    Decision       a proposal to change policies: backing (a member's), then an open vote,
                   then closed with its result
    Ballot         one member's vote on one decision (its id is the pair, so a member is
                   counted once whoever casts it); the member overrides their proxy's vote
    Proxy          a member's proxy to another member, for one decision or standing
    Backing        one member's backing of one proposal (once)
    PolicyHistory  the city's policy version counter: each passed decision is the next version
    Suspension     a driver's standing: suspended by a board member with a reason code, the
                   driver's appeal and the board's review of it
"""

from __future__ import annotations

import math
from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

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


class Decision(Aggregate):
    """A proposal to change policies, its vote and its result.

    Invariants: a vote opens once (a board member's proposal at once, a member's when its
    backers reach `backers_needed`); it closes once, at or after `closes_at`, with the quorum
    and threshold fixed when it opened. Its changes were validated against the config schema
    when proposed (kernel.policies).
    """

    class Proposed(Aggregate.Created):
        proposer_id: str
        by_board: bool
        title: str
        changes: list[dict[str, Any]]
        effective_from: datetime | None
        backers_needed: int
        proposed_at: datetime

    class Backed(Aggregate.Event):
        member_id: str
        backers: int

    class VoteOpened(Aggregate.Event):
        opens_at: datetime
        closes_at: datetime
        electorate: int
        quorum: int
        threshold_percent: Decimal

    class Closed(Aggregate.Event):
        for_votes: int
        against: int
        abstain: int
        by_proxy: int
        quorum_reached: bool
        passed: bool
        closed_at: datetime
        policy_version: int | None
        effective_from: datetime | None

    @event(Proposed)
    def __init__(
        self,
        proposer_id: str,
        by_board: bool,
        title: str,
        changes: list[dict[str, Any]],
        effective_from: datetime | None,
        backers_needed: int,
        proposed_at: datetime,
    ) -> None:
        self.proposer_id = proposer_id
        self.by_board = by_board
        self.title = title
        self.changes = [dict(c) for c in changes]
        self.effective_from = effective_from
        self.backers_needed = backers_needed
        self.proposed_at = proposed_at
        self.backers = 0
        self.state = DecisionState.BACKING
        self.opens_at: datetime | None = None
        self.closes_at: datetime | None = None
        self.electorate = 0
        self.quorum = 0
        self.threshold_percent = Decimal(0)
        self.passed: bool | None = None
        self.policy_version: int | None = None

    @classmethod
    def propose(
        cls,
        *,
        proposer_id: str,
        by_board: bool,
        title: str,
        changes: list[dict[str, Any]],
        effective_from: datetime | None,
        backers_needed: int,
        now: datetime,
    ) -> Decision:
        title = title.strip()
        if not 1 <= len(title) <= MAX_TITLE:
            raise InvalidProposal("title", f"a title is 1 to {MAX_TITLE} characters")
        if effective_from is not None:
            if effective_from.tzinfo is None:
                raise InvalidProposal("effectiveFrom", "must carry a time zone")
            if effective_from <= now:
                raise InvalidProposal("effectiveFrom", "must be in the future")
        return cls(
            proposer_id=proposer_id,
            by_board=by_board,
            title=title,
            changes=changes,
            effective_from=effective_from,
            backers_needed=0 if by_board else backers_needed,
            proposed_at=now,
        )

    def back(self, member_id: str) -> None:
        if self.state is not DecisionState.BACKING:
            raise NotInState(self.id, self.state, "back")
        self._backed(member_id=member_id, backers=self.backers + 1)

    @event(Backed)
    def _backed(self, member_id: str, backers: int) -> None:
        self.backers = backers

    @property
    def backed_enough(self) -> bool:
        return self.backers >= self.backers_needed

    def open_vote(
        self,
        *,
        now: datetime,
        days: int,
        electorate: int,
        quorum_percent: Decimal,
        threshold: Decimal,
    ) -> None:
        if self.state is not DecisionState.BACKING:
            raise NotInState(self.id, self.state, "open the vote on")
        from datetime import timedelta

        self._vote_opened(
            opens_at=now,
            closes_at=now + timedelta(days=days),
            electorate=electorate,
            quorum=share_of(electorate, quorum_percent) if quorum_percent > 0 else 0,
            threshold_percent=threshold,
        )

    @event(VoteOpened)
    def _vote_opened(
        self,
        opens_at: datetime,
        closes_at: datetime,
        electorate: int,
        quorum: int,
        threshold_percent: Decimal,
    ) -> None:
        self.state = DecisionState.OPEN
        self.opens_at, self.closes_at = opens_at, closes_at
        self.electorate, self.quorum = electorate, quorum
        self.threshold_percent = threshold_percent

    def check_open(self, now: datetime, action: str = "vote on") -> None:
        """Raise unless votes (and proxies for it) are taken now."""
        if self.state is DecisionState.CLOSED or (
            self.state is DecisionState.OPEN
            and self.closes_at is not None
            and now >= self.closes_at
        ):
            assert self.closes_at is not None  # noqa: S101 (a closed vote was opened)
            raise VotingClosed(self.id, self.closes_at)
        if self.state is not DecisionState.OPEN:
            raise NotInState(self.id, self.state, action)

    def result(self, *, for_votes: int, against: int, abstain: int) -> tuple[bool, bool]:
        return passes(
            for_votes=for_votes,
            against=against,
            abstain=abstain,
            quorum=self.quorum,
            threshold_percent=self.threshold_percent,
        )

    def close(
        self,
        *,
        now: datetime,
        for_votes: int,
        against: int,
        abstain: int,
        by_proxy: int,
        policy_version: int | None,
        effective_from: datetime | None,
    ) -> None:
        if self.state is not DecisionState.OPEN:
            raise NotInState(self.id, self.state, "close")
        assert self.closes_at is not None  # noqa: S101 (an open vote has a close time)
        if now < self.closes_at:
            raise VotingStillOpen(self.id, self.closes_at)
        reached, passed = self.result(for_votes=for_votes, against=against, abstain=abstain)
        self._closed(
            for_votes=for_votes,
            against=against,
            abstain=abstain,
            by_proxy=by_proxy,
            quorum_reached=reached,
            passed=passed,
            closed_at=now,
            policy_version=policy_version if passed else None,
            effective_from=effective_from if passed else None,
        )

    @event(Closed)
    def _closed(
        self,
        for_votes: int,
        against: int,
        abstain: int,
        by_proxy: int,
        quorum_reached: bool,
        passed: bool,
        closed_at: datetime,
        policy_version: int | None,
        effective_from: datetime | None,
    ) -> None:
        self.state = DecisionState.CLOSED
        self.passed = passed
        self.policy_version = policy_version
        self.effective_from = effective_from


class Ballot(Aggregate):
    """One member's vote on one decision. Invariant: one per member and decision (its id);
    cast by the member or by the holder of their proxy; the member's own vote replaces their
    proxy's, once, and nothing replaces the member's own vote."""

    class Cast(Aggregate.Created):
        decision_id: str
        member_id: str
        choice: str
        cast_by: str
        at: datetime

    class Overridden(Aggregate.Event):
        decision_id: str
        member_id: str
        choice: str
        previous_choice: str
        previous_cast_by: str
        at: datetime

    @staticmethod
    def create_id(decision_id: UUID | str, member_id: str) -> UUID:
        return stable_uuid("ballot", str(decision_id), member_id)

    @event(Cast)
    def __init__(
        self, decision_id: str, member_id: str, choice: str, cast_by: str, at: datetime
    ) -> None:
        self.decision_id = decision_id
        self.member_id = member_id
        self.choice = choice
        self.cast_by = cast_by

    @property
    def by_proxy(self) -> bool:
        return self.cast_by != self.member_id

    def override(self, choice: Choice, *, by: str, now: datetime) -> None:
        """The member votes themself over their proxy's vote."""
        if by != self.member_id or not self.by_proxy:
            raise AlreadyVoted(self.decision_id, self.member_id)
        self._overridden(
            decision_id=self.decision_id,
            member_id=self.member_id,
            choice=choice.value,
            previous_choice=self.choice,
            previous_cast_by=self.cast_by,
            at=now,
        )

    @event(Overridden)
    def _overridden(
        self,
        decision_id: str,
        member_id: str,
        choice: str,
        previous_choice: str,
        previous_cast_by: str,
        at: datetime,
    ) -> None:
        self.choice = choice
        self.cast_by = self.member_id


STANDING = "standing"


class Proxy(Aggregate):
    """A member's proxy: who may vote for them, for one decision or until withdrawn.

    Invariants: never to oneself; given and withdrawn only with the member's consent (by the
    member, or recorded by the desk for them with their consent: the application checks it);
    at most one holder at a time per scope (giving it again moves it).
    """

    class Given(Aggregate.Created):
        member_id: str
        scope: str  # a decision id, or STANDING
        holder_id: str
        recorded_by: str
        at: datetime

    class Moved(Aggregate.Event):
        holder_id: str
        recorded_by: str
        at: datetime

    class Withdrawn(Aggregate.Event):
        recorded_by: str
        at: datetime

    @staticmethod
    def create_id(member_id: str, scope: str) -> UUID:
        return stable_uuid("proxy", member_id, scope)

    @event(Given)
    def __init__(
        self, member_id: str, scope: str, holder_id: str, recorded_by: str, at: datetime
    ) -> None:
        self.member_id = member_id
        self.scope = scope
        self.holder_id: str | None = holder_id

    @classmethod
    def give(
        cls, *, member_id: str, scope: str, holder_id: str, recorded_by: str, now: datetime
    ) -> Proxy:
        _check_holder(member_id, holder_id)
        return cls(
            member_id=member_id, scope=scope, holder_id=holder_id, recorded_by=recorded_by, at=now
        )

    def move(self, holder_id: str, *, recorded_by: str, now: datetime) -> None:
        _check_holder(self.member_id, holder_id)
        if holder_id == self.holder_id:
            raise InvalidProxy("to", f"{holder_id} already holds this proxy")
        self._moved(holder_id=holder_id, recorded_by=recorded_by, at=now)

    @event(Moved)
    def _moved(self, holder_id: str, recorded_by: str, at: datetime) -> None:
        self.holder_id = holder_id

    def withdraw(self, *, recorded_by: str, now: datetime) -> None:
        if self.holder_id is None:
            raise InvalidProxy("proxy", "this proxy was already withdrawn")
        self._withdrawn(recorded_by=recorded_by, at=now)

    @event(Withdrawn)
    def _withdrawn(self, recorded_by: str, at: datetime) -> None:
        self.holder_id = None


def _check_holder(member_id: str, holder_id: str) -> None:
    if holder_id == member_id:
        raise InvalidProxy("to", "a member cannot give their proxy to themself")


class Backing(Aggregate):
    """One member's backing of one proposal. Its id is the pair: a member backs once."""

    class Given(Aggregate.Created):
        decision_id: str
        member_id: str
        at: datetime

    @staticmethod
    def create_id(decision_id: UUID | str, member_id: str) -> UUID:
        return stable_uuid("backing", str(decision_id), member_id)

    @event(Given)
    def __init__(self, decision_id: str, member_id: str, at: datetime) -> None:
        self.decision_id = decision_id
        self.member_id = member_id


class PolicyHistory(Aggregate):
    """The city's policy versions, as a counter: version 1 is the config file; each passed
    decision publishes the next. Invariant: versions take effect in order (a version's
    `effective_from` is never before the one before it)."""

    class Started(Aggregate.Created):
        city: str

    class Published(Aggregate.Event):
        version: int
        decision_id: str
        changes: list[dict[str, Any]]
        effective_from: datetime
        decided_at: datetime

    @staticmethod
    def create_id(city: str) -> UUID:
        return stable_uuid("policy-history", city)

    @event(Started)
    def __init__(self, city: str) -> None:
        self.city = city
        self.version = 1
        self.latest_from: datetime | None = None

    def publish(
        self,
        *,
        decision_id: str,
        changes: list[dict[str, Any]],
        effective_from: datetime,
        now: datetime,
    ) -> tuple[int, datetime]:
        """Record the next version; returns it and the date it takes effect from (never
        before the previous version's)."""
        if self.latest_from is not None and effective_from < self.latest_from:
            effective_from = self.latest_from
        self._published(
            version=self.version + 1,
            decision_id=decision_id,
            changes=changes,
            effective_from=effective_from,
            decided_at=now,
        )
        return self.version, effective_from

    @event(Published)
    def _published(
        self,
        version: int,
        decision_id: str,
        changes: list[dict[str, Any]],
        effective_from: datetime,
        decided_at: datetime,
    ) -> None:
        self.version = version
        self.latest_from = effective_from
