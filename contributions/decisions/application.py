"""Command side of decisions: propose, back, vote (with proxies), close, suspend and appeal.

Each public method is one use case; refusals are `DecisionsError`s raised before anything is
saved. A command that saves several aggregates saves them together (one transaction, optimistic
concurrency) and is re-run from fresh state if another process won the race
(`retry_on_conflict`).

The rules (backing share, quorum, threshold, how long a vote runs) are read from the policies
in force now (`policies()`: the city config file plus the versions decisions adopted), and a
vote's quorum and threshold are fixed when it opens.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from contributions.decisions.domain import (
    STANDING,
    AlreadyBacked,
    Backing,
    Ballot,
    Choice,
    Decision,
    DecisionNotFound,
    DecisionState,
    InvalidProposal,
    InvalidProxy,
    NoProxy,
    PolicyHistory,
    Proxy,
    UnknownVoter,
    share_of,
)
from contributions.decisions.projections import (
    Ballots,
    DecisionList,
    Electorate,
    PolicyHistoryVersions,
    Tally,
)
from contributions.decisions.suspensions import AppealOutcome, Suspension, SuspensionReason
from kernel.eventstore import FederationApplication, retry_on_conflict
from kernel.ids import InvalidId, member_id
from kernel.policies import InvalidPolicyChange, PolicyChange, canonical

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from uuid import UUID

    from eventsourcing.application import ProcessingEvent

log = logging.getLogger(__name__)


class Decisions(FederationApplication):
    """The co-op's record of decisions, its policy versions, and drivers' standing."""

    service = "decisions"
    read_models = (DecisionList, Ballots, PolicyHistoryVersions)
    inbound_read_models = (Electorate,)

    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """`members.MemberJoined` changes only the electorate, an inbound read model the
        consumer applies; there is nothing to decide."""

    # -- proposals --------------------------------------------------------------------------------
    def propose(
        self,
        proposer_id: str,
        *,
        by_board: bool,
        title: str,
        changes: Sequence[PolicyChange],
        effective_from: datetime | None = None,
    ) -> UUID:
        """Propose policy changes. A board member's proposal opens for votes at once; a
        member's gathers backers first (the proposer is the first)."""
        now = self.clock.now()
        policies = self.policies()
        current = policies.at(now).config
        try:
            checked = canonical(current, list(changes))
        except InvalidPolicyChange as exc:
            raise InvalidProposal(f"changes.{exc.path}", exc.reason) from None
        members = self._electorate_size()
        governance = current.governance
        decision = Decision.propose(
            proposer_id=proposer_id,
            by_board=by_board,
            title=title,
            changes=[c.as_dict() for c in checked],
            effective_from=effective_from,
            backers_needed=share_of(members, governance.backing_percent),
            now=now,
        )
        if by_board:
            self._open(decision, now)
            self.save(decision)
        else:
            backing = Backing(decision_id=str(decision.id), member_id=proposer_id, at=now)
            decision.back(proposer_id)
            if decision.backed_enough:
                self._open(decision, now)
            self.save(decision, backing)
        return decision.id

    def back(self, decision_id: UUID, backer_id: str) -> DecisionState:
        """Back a member's proposal; the backing that reaches the share opens the vote."""

        def back() -> DecisionState:
            now = self.clock.now()
            decision = self._decision(decision_id)
            if Backing.create_id(decision_id, backer_id) in self.repository:
                raise AlreadyBacked(decision_id, backer_id)
            decision.back(backer_id)
            backing = Backing(decision_id=str(decision_id), member_id=backer_id, at=now)
            if decision.backed_enough:
                self._open(decision, now)
            self.save(decision, backing)
            return decision.state

        return retry_on_conflict(back)

    def _open(self, decision: Decision, now: datetime) -> None:
        governance = self.policies().at(now).config.governance
        decision.open_vote(
            now=now,
            days=governance.voting_days,
            electorate=self._electorate_size(),
            quorum_percent=governance.quorum_percent,
            threshold=governance.threshold_percent,
        )

    def _electorate_size(self) -> int:
        return self.read_model(Electorate).size()

    # -- proxies ----------------------------------------------------------------------------------
    def give_proxy(
        self,
        member: str,
        holder: str,
        *,
        decision_id: UUID | None = None,
        recorded_by: str | None = None,
    ) -> None:
        """`member` lets `holder` vote for them on one decision (or, without one, on every
        decision until withdrawn). The caller has established the member's consent: it is the
        member, or the desk with the member's recorded consent (`recorded_by`)."""

        def give() -> None:
            now = self.clock.now()
            self._known_member(holder)
            scope = STANDING
            if decision_id is not None:
                decision = self._decision(decision_id)
                if decision.state is not DecisionState.BACKING:
                    decision.check_open(now, "give a proxy for")
                scope = str(decision_id)
            by = recorded_by or member
            proxy_id = Proxy.create_id(member, scope)
            if proxy_id in self.repository:
                proxy: Proxy = self.repository.get(proxy_id)
                proxy.move(holder, recorded_by=by, now=now)  # to another, or given again
            else:
                proxy = Proxy.give(
                    member_id=member, scope=scope, holder_id=holder, recorded_by=by, now=now
                )
            self.save(proxy)

        retry_on_conflict(give)

    def withdraw_proxy(
        self, member: str, *, decision_id: UUID | None = None, recorded_by: str | None = None
    ) -> None:
        def withdraw() -> None:
            scope = STANDING if decision_id is None else str(decision_id)
            try:
                proxy: Proxy = self.repository.get(Proxy.create_id(member, scope))
            except AggregateNotFoundError:
                raise InvalidProxy("proxy", "no proxy was given for this") from None
            proxy.withdraw(recorded_by=recorded_by or member, now=self.clock.now())
            self.save(proxy)

        retry_on_conflict(withdraw)

    def proxy_holder(self, member: str, decision_id: UUID) -> str | None:
        """Who may vote for `member` on this decision: their proxy for it, else their standing
        proxy (a proxy for one decision wins over the standing one)."""
        for scope in (str(decision_id), STANDING):
            proxy_id = Proxy.create_id(member, scope)
            if proxy_id in self.repository:
                proxy: Proxy = self.repository.get(proxy_id)
                if proxy.holder_id is not None:
                    return proxy.holder_id
                if scope != STANDING:
                    return None  # withdrawn for this decision: the standing one does not apply
        return None

    # -- votes ------------------------------------------------------------------------------------
    def vote(
        self, decision_id: UUID, voter: str, choice: Choice, *, for_member: str | None = None
    ) -> Ballot:
        """Vote (one member, one vote); with `for_member`, as the holder of their proxy. A
        member's own vote replaces a vote their proxy cast; nothing else is counted twice."""

        def vote() -> Ballot:
            now = self.clock.now()
            decision = self._decision(decision_id)
            decision.check_open(now)
            member = for_member or voter
            proxied = for_member is not None and for_member != voter
            if proxied and self.proxy_holder(member, decision_id) != voter:
                raise NoProxy(member, voter)
            ballot_id = Ballot.create_id(decision_id, member)
            if ballot_id in self.repository:
                ballot: Ballot = self.repository.get(ballot_id)
                ballot.override(choice, by=voter, now=now)
            else:
                ballot = Ballot(
                    decision_id=str(decision_id),
                    member_id=member,
                    choice=choice.value,
                    cast_by=voter,
                    at=now,
                )
            self.save(ballot)
            return ballot

        return retry_on_conflict(vote)

    def close_vote(self, decision_id: UUID) -> Decision:
        """Close a vote whose time is up: count, record the result and, if it passed, publish
        the next policy version (and adopt an equation through the port).

        The count is the ballots read model, caught up first. No ballot is accepted at or after
        `closes_at` and no close happens before it, so the count is complete; the one window
        left is a ballot whose command read the clock just before `closes_at` and saved after
        the close counted (milliseconds, and only when a close is asked at that very moment).
        """

        def close() -> Decision:
            now = self.clock.now()
            decision = self._decision(decision_id)
            self.catch_up(Ballots)
            tally = self.read_model(Ballots).tally(str(decision_id))
            _, passed = decision.result(
                for_votes=tally.for_votes, against=tally.against, abstain=tally.abstain
            )
            history: PolicyHistory | None = None
            version, effective = None, None
            if passed:
                history = self._history()
                version, effective = history.publish(
                    decision_id=str(decision_id),
                    changes=decision.changes,
                    effective_from=max(decision.effective_from or now, now),
                    now=now,
                )
            decision.close(
                now=now,
                for_votes=tally.for_votes,
                against=tally.against,
                abstain=tally.abstain,
                by_proxy=tally.by_proxy,
                policy_version=version,
                effective_from=effective,
            )
            self.save(decision, *([history] if history else []))
            return decision

        # A passed decision's changes leave as `decisions.PolicyChanged`: the services that
        # apply a policy consume it (contributions adopts a ratified value equation).
        return retry_on_conflict(close)

    def _history(self) -> PolicyHistory:
        history_id = PolicyHistory.create_id(self.city.id)
        if history_id in self.repository:
            found: PolicyHistory = self.repository.get(history_id)
            return found
        return PolicyHistory(city=self.city.id)

    # -- drivers' standing ---------------------------------------------------------------------
    def suspend_driver(self, driver: str, *, by: str, reason: SuspensionReason) -> str:
        """A board member's recorded decision; returns its decision id."""

        def suspend() -> str:
            suspension = self._suspension(driver)
            decision_id = suspension.suspend(by=by, reason=reason, now=self.clock.now())
            self.save(suspension)
            return decision_id

        return retry_on_conflict(suspend)

    def appeal_suspension(self, driver: str) -> str:
        """The suspended driver appeals; returns the appeal's decision id."""

        def appeal() -> str:
            suspension = self._suspension(driver)
            appeal_id = suspension.appeal(by=driver, now=self.clock.now())
            self.save(suspension)
            return appeal_id

        return retry_on_conflict(appeal)

    def review_appeal(self, driver: str, *, by: str, outcome: AppealOutcome) -> str:
        def review() -> str:
            suspension = self._suspension(driver)
            appeal_id = suspension.review(by=by, outcome=outcome, now=self.clock.now())
            self.save(suspension)
            return appeal_id

        return retry_on_conflict(review)

    def lift_suspension(self, driver: str, *, by: str) -> str:
        def lift() -> str:
            suspension = self._suspension(driver)
            decision_id = suspension.lift(by=by, now=self.clock.now())
            self.save(suspension)
            return decision_id

        return retry_on_conflict(lift)

    def is_suspended(self, driver: str) -> bool:
        suspension_id = Suspension.create_id(driver)
        if suspension_id not in self.repository:
            return False
        found: Suspension = self.repository.get(suspension_id)
        return found.suspended

    def _suspension(self, driver: str) -> Suspension:
        suspension_id = Suspension.create_id(driver)
        if suspension_id in self.repository:
            found: Suspension = self.repository.get(suspension_id)
            return found
        return Suspension(driver_id=driver)

    # -- queries ----------------------------------------------------------------------------------
    def export_member(self, member_id: str) -> dict[str, Any]:
        """What this service holds about a member, for their export (ids, codes and times only:
        nothing here is erased, as nothing here is personal data beyond the member id)."""
        self.catch_up(DecisionList, Ballots)
        ballots, decisions = self.read_model(Ballots), self.read_model(DecisionList)
        return {
            "decisions": [
                {
                    "id": d.decision_id,
                    "kind": d.kind,
                    "state": d.state,
                    "proposedAt": d.proposed_at.isoformat(),
                }
                for d in decisions.concerning(member_id)
            ],
            "ballots": [
                {
                    "decisionId": b["decision_id"],
                    "memberId": b["member_id"],
                    "choice": b["choice"],
                    "castBy": b["cast_by"],
                    "at": b["at"].isoformat(),
                }
                for b in ballots.ballots_of(member_id)
            ],
            "proxies": [
                {
                    "memberId": p["member_id"],
                    "scope": p["scope"],
                    "holderId": p["holder_id"],
                    "recordedBy": p["recorded_by"],
                    "at": p["at"].isoformat(),
                }
                for p in ballots.proxies_of(member_id)
            ],
            "suspended": self.is_suspended(member_id),
        }

    def decision(self, decision_id: UUID) -> Decision:
        return self._decision(decision_id)

    def tally(self, decision_id: UUID) -> Tally:
        self.catch_up(Ballots)
        return self.read_model(Ballots).tally(str(decision_id))

    def _decision(self, decision_id: UUID) -> Decision:
        try:
            found: Decision = self.repository.get(decision_id)
        except AggregateNotFoundError:
            raise DecisionNotFound(decision_id) from None
        if not isinstance(found, Decision):
            raise DecisionNotFound(decision_id)
        return found

    def _known_member(self, who: str) -> None:
        try:
            member_id(who)
        except InvalidId:
            raise UnknownVoter(who) from None
        if not self.read_model(Electorate).has(who):
            raise UnknownVoter(who)
