"""`Decision`: a proposal to change policies, its vote and its result."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (event attributes are read at runtime)
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from contributions.decisions.domain.errors import (
    MAX_TITLE,
    DecisionState,
    InvalidProposal,
    NotInState,
    VotingClosed,
    VotingStillOpen,
    passes,
    share_of,
)


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
