"""GraphQL for decisions: propose, back, vote (and by proxy), close; proxies; suspensions and
appeals; the list of decisions, a decision's tally and the policy history.

Roles are checked by the Guard from `kernel.permissions.MATRIX`; what depends on the row stays
here (only the desk records a proxy for another member, with their consent). Refusals are typed
problems that change nothing; every act done for someone else is in the audit log (who acted
for whom, by member id).
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from eventsourcing.persistence import IntegrityError
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON  # noqa: TC002 (strawberry reads hints at runtime)
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from contributions.decisions import domain, suspensions
from contributions.decisions.application import Decisions
from contributions.decisions.domain import Choice, DecisionState
from contributions.decisions.projections import DECISION_ORDER, Ballots, DecisionList, DecisionRow
from contributions.decisions.suspensions import AppealOutcome, SuspensionReason
from kernel import delegation, readside
from kernel.api import (
    Conflict,
    Context,
    InvalidInput,
    NoConsent,
    NotAuthenticated,
    NotAuthorized,
    NotCaughtUp,
    Problem,
    UnknownMember,
)
from kernel.audit import AuditKind
from kernel.connections import Connection, connection
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id, parse_uuid
from kernel.paging import InvalidPage, page_request
from kernel.policies import PolicyChange
from kernel.readside.freshness import position_token, read_after, written

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from kernel.policies import PolicyVersion

T = TypeVar("T")

strawberry.enum(Choice, name="VoteChoice", description="For, against, or abstaining.")
strawberry.enum(DecisionState, description="Gathering backers, open for votes, or closed.")
strawberry.enum(SuspensionReason, description="Why a board member suspended a driver (a code).")
strawberry.enum(AppealOutcome, description="What the board's review of an appeal decided.")


# -- problems -------------------------------------------------------------------------------------
@strawberry.type(description="No decision with this id.")
class DecisionNotFound(Problem):
    decision_id: strawberry.ID


@strawberry.type(description="The decision's state does not allow `action`.")
class DecisionNotInState(Problem):
    decision_id: strawberry.ID
    state: DecisionState
    action: str


@strawberry.type(description="Voting on this decision closed at `closesAt`; nothing was counted.")
class VotingClosed(Problem):
    decision_id: strawberry.ID
    closes_at: datetime


@strawberry.type(description="The vote is open until `closesAt`; it cannot be closed before.")
class VotingStillOpen(Problem):
    decision_id: strawberry.ID
    closes_at: datetime


@strawberry.type(description="This member has voted on this decision already (once each).")
class AlreadyVoted(Problem):
    decision_id: strawberry.ID
    member_id: str


@strawberry.type(description="This member backs this proposal already.")
class AlreadyBacked(Problem):
    decision_id: strawberry.ID
    member_id: str


@strawberry.type(description="The caller holds no proxy from `memberId` for this decision.")
class NoProxy(Problem):
    member_id: str
    holder_id: str


@strawberry.type(description="The driver's standing does not allow this (`message` says why).")
class SuspensionProblem(Problem):
    driver_id: str


DecisionsProblem = (
    NotAuthenticated
    | NotAuthorized
    | InvalidInput
    | NotCaughtUp
    | Conflict
    | UnknownMember
    | NoConsent
    | DecisionNotFound
    | DecisionNotInState
    | VotingClosed
    | VotingStillOpen
    | AlreadyVoted
    | AlreadyBacked
    | NoProxy
    | SuspensionProblem
)
EXPECTED = (domain.DecisionsError, InvalidId, InvalidPage, readside.NotCaughtUp, IntegrityError)


def problem(exc: Exception) -> DecisionsProblem:
    """The one mapping of the context's expected errors to GraphQL problems."""
    message = str(exc)
    match exc:
        case (
            domain.InvalidProposal(field=field)
            | domain.InvalidProxy(field=field)
            | InvalidPage(field=field)
        ):
            return InvalidInput(message=message, field=field)
        case InvalidId():
            return InvalidInput(message=message, field="id")
        case readside.NotCaughtUp(read_model=read_model, position=position, reached=reached):
            return NotCaughtUp(
                message=message,
                read_model=read_model,
                seen=position_token("decisions", position),
                as_of=position_token("decisions", reached),
            )
        case domain.DecisionNotFound(decision_id=decision_id):
            return DecisionNotFound(message=message, decision_id=strawberry.ID(decision_id))
        case domain.NotInState(decision_id=decision_id, state=state, action=action):
            return DecisionNotInState(
                message=message, decision_id=strawberry.ID(decision_id), state=state, action=action
            )
        case domain.VotingClosed(decision_id=decision_id, closes_at=closes_at):
            return VotingClosed(
                message=message, decision_id=strawberry.ID(decision_id), closes_at=closes_at
            )
        case domain.VotingStillOpen(decision_id=decision_id, closes_at=closes_at):
            return VotingStillOpen(
                message=message, decision_id=strawberry.ID(decision_id), closes_at=closes_at
            )
        case domain.AlreadyVoted(decision_id=decision_id, member_id=who):
            return AlreadyVoted(
                message=message, decision_id=strawberry.ID(decision_id), member_id=who
            )
        case domain.AlreadyBacked(decision_id=decision_id, member_id=who):
            return AlreadyBacked(
                message=message, decision_id=strawberry.ID(decision_id), member_id=who
            )
        case domain.NoProxy(member_id=who, holder_id=holder):
            return NoProxy(message=message, member_id=who, holder_id=holder)
        case domain.UnknownVoter(member_id=who):
            return UnknownMember(message=message, member_id=who)
        case (
            suspensions.NotSuspended(driver_id=driver)
            | suspensions.AlreadySuspended(driver_id=driver)
            | suspensions.AppealNotAllowed(driver_id=driver)
        ):
            return SuspensionProblem(message=message, driver_id=driver)
        case IntegrityError():
            return Conflict(message="the decision changed at the same moment; try again")
    raise exc


async def call(fn: Callable[[], T]) -> T | DecisionsProblem:
    """Run a synchronous application call in a thread; expected errors become problems."""
    try:
        return await run_in_threadpool(fn)
    except EXPECTED as exc:
        return problem(exc)


# -- types ----------------------------------------------------------------------------------------
@strawberry.type(description="One setting a decision changes: a path into the city config.")
class PolicyChangeView:
    path: str
    value: JSON

    @classmethod
    def of(cls, data: dict[str, Any]) -> PolicyChangeView:
        return cls(path=data["path"], value=data["value"])


@strawberry.input(description="A setting to change: `rides.split`, `governance.quorum_percent`...")
class PolicyChangeInput:
    path: str
    value: JSON


@strawberry.input
class ProposeInput:
    title: str
    changes: list[PolicyChangeInput]
    effective_from: datetime | None = strawberry.field(
        default=None, description="When the change takes effect if passed (default: at close)."
    )


@strawberry.type(description="Votes so far (or at the close).")
class TallyView:
    for_votes: int
    against: int
    abstain: int
    by_proxy: int = strawberry.field(description="Of the votes, how many a proxy cast.")
    votes: int


@strawberry.type(name="Decision", description="A decision in the co-op's record.")
class DecisionView:
    id: strawberry.ID
    kind: str = strawberry.field(description="policy, suspension or appeal.")
    title: str
    state: DecisionState
    proposer_id: str
    by_board: bool
    subject_id: str | None = strawberry.field(description="The driver a suspension concerns.")
    reason: str | None = strawberry.field(
        description="A suspension's reason code; an appeal's outcome."
    )
    changes: list[PolicyChangeView]
    proposed_at: datetime
    backers: int
    backers_needed: int
    opens_at: datetime | None
    closes_at: datetime | None
    electorate: int | None = strawberry.field(description="Members when the vote opened.")
    quorum: int | None = strawberry.field(description="Votes needed for the result to count.")
    threshold_percent: Decimal | None
    result: TallyView | None = strawberry.field(description="The counts, once closed.")
    quorum_reached: bool | None
    passed: bool | None
    decided_by: str | None
    decided_at: datetime | None
    policy_version: int | None = strawberry.field(description="The version it published.")
    effective_from: datetime | None

    @classmethod
    def of(cls, row: DecisionRow) -> DecisionView:
        result = None
        if row.for_votes is not None:
            counts = (row.for_votes, row.against or 0, row.abstain or 0)
            result = TallyView(
                for_votes=counts[0],
                against=counts[1],
                abstain=counts[2],
                by_proxy=row.by_proxy or 0,
                votes=sum(counts),
            )
        return cls(
            id=strawberry.ID(row.decision_id),
            kind=row.kind,
            title=row.title,
            state=DecisionState(row.state),
            proposer_id=row.proposer_id,
            by_board=row.by_board,
            subject_id=row.subject_id,
            reason=row.reason,
            changes=[PolicyChangeView.of(c) for c in row.changes or []],
            proposed_at=row.proposed_at,
            backers=row.backers,
            backers_needed=row.backers_needed,
            opens_at=row.opens_at,
            closes_at=row.closes_at,
            electorate=row.electorate,
            quorum=row.quorum,
            threshold_percent=row.threshold_percent,
            result=result,
            quorum_reached=row.quorum_reached,
            passed=row.passed,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            policy_version=row.policy_version,
            effective_from=row.effective_from,
        )


@strawberry.type(description="A decision after a command, and the log position after it.")
class DecisionChanged:
    decision: DecisionView
    position: str


@strawberry.type(description="A vote counted (or a proxy's vote replaced by the member's own).")
class VoteCast:
    decision_id: strawberry.ID
    member_id: str
    choice: Choice
    cast_by: str
    position: str


@strawberry.type(description="A proxy given, moved or withdrawn (`heldBy` null).")
class ProxyChanged:
    member_id: str
    held_by: str | None = strawberry.field(description="Who votes for the member; null: nobody.")
    for_decision: strawberry.ID | None = strawberry.field(description="Null: a standing proxy.")
    position: str


@strawberry.type(description="A decision's votes so far and whether, as they stand, it passes.")
class DecisionTally:
    decision_id: strawberry.ID
    state: DecisionState
    tally: TallyView
    electorate: int
    quorum: int
    quorum_reached: bool
    passing: bool
    closes_at: datetime | None
    as_of: str


@strawberry.type(name="PolicyVersion", description="One version of the city's policies.")
class PolicyVersionView:
    version: int
    effective_from: datetime | None = strawberry.field(description="Null for the file.")
    decision_id: strawberry.ID | None = strawberry.field(description="Null for the file.")
    changes: list[PolicyChangeView]

    @classmethod
    def of(cls, v: PolicyVersion) -> PolicyVersionView:
        return cls(
            version=v.version,
            effective_from=v.effective_from,
            decision_id=None if v.decision_id is None else strawberry.ID(v.decision_id),
            changes=[PolicyChangeView.of(c.as_dict()) for c in v.changes],
        )


@strawberry.type(description="Every policy version; `inForce` is the one in force now.")
class PolicyHistory:
    in_force: int
    versions: list[PolicyVersionView]


@strawberry.type(name="DecisionConnection")
class DecisionConnection(Connection[DecisionView]):
    """`Connection[DecisionView]` made concrete, so a union tells it apart by type."""

    @classmethod
    def of(cls, page: Connection[DecisionView]) -> DecisionConnection:
        return cls(edges=page.edges, nodes=page.nodes, page_info=page.page_info, as_of=page.as_of)


DecisionResult = Annotated[DecisionView | DecisionsProblem, strawberry.union("DecisionResult")]
DecisionChangeResult = Annotated[
    DecisionChanged | DecisionsProblem, strawberry.union("DecisionChangeResult")
]
VoteResult = Annotated[VoteCast | DecisionsProblem, strawberry.union("VoteResult")]
ProxyResult = Annotated[ProxyChanged | DecisionsProblem, strawberry.union("ProxyResult")]
DecisionsResult = Annotated[
    DecisionConnection | DecisionsProblem, strawberry.union("DecisionsResult")
]
TallyResult = Annotated[DecisionTally | DecisionsProblem, strawberry.union("TallyResult")]
PolicyHistoryResult = Annotated[
    PolicyHistory | DecisionsProblem, strawberry.union("PolicyHistoryResult")
]


def _decision_id(value: strawberry.ID) -> UUID:
    return parse_uuid(str(value), what="decision")


def _changed(app: Decisions, decision_id: UUID | str) -> DecisionChanged:
    """The decision as the list shows it, after the command's write."""
    app.catch_up(DecisionList)
    row = app.read_model(DecisionList).get(str(decision_id))
    if row is None:
        raise domain.DecisionNotFound(decision_id)
    return DecisionChanged(decision=DecisionView.of(row), position=written(app))


async def _for_member(
    info: Info[Context, None], on_behalf_of: str | None, operation: str
) -> str | DecisionsProblem:
    """Whose proxy this is: the caller's own, or (the desk only) a member's who consented."""
    who = info.context.caller
    if on_behalf_of is None or on_behalf_of == who.member_id:
        return who.member_id
    if not (who.has("dispatcher") or who.has("librarian")):
        return NotAuthorized(
            message=f"{operation} for another member needs the desk's role (dispatcher)",
            required_role="dispatcher",
        )
    try:
        member = member_id(on_behalf_of)
    except InvalidId as exc:
        return InvalidInput(message=str(exc), field="onBehalfOf")
    try:
        await run_in_threadpool(delegations(info.context).check, who, member)
    except delegation.UnknownMember as exc:
        return UnknownMember(message=str(exc), member_id=exc.member_id)
    except delegation.NoConsent as exc:
        return NoConsent(message=str(exc), member_id=exc.member_id)
    return member


def _board_audited(
    info: Info[Context, None], operation: str, driver: str, answer: DecisionChangeResult
) -> DecisionChangeResult:
    if isinstance(answer, DecisionChanged):
        info.context.audited(AuditKind.BOARD_DECISION, operation, "recorded", subject=driver)
    return answer


@strawberry.type
class DecisionsMutation:
    @strawberry.mutation(
        description=(
            "Propose policy changes (paths into the city config and new values, validated "
            "against its schema). A board member's proposal opens for votes at once; a "
            "member's gathers backers first (governance.backing_percent of the members)."
        )
    )
    async def propose_policy_change(
        self, info: Info[Context, None], input: ProposeInput
    ) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def propose() -> DecisionChanged:
            decision_id = app.propose(
                who.member_id,
                by_board=who.has("board"),
                title=input.title,
                changes=[PolicyChange(c.path, c.value) for c in input.changes],
                effective_from=input.effective_from,
            )
            return _changed(app, decision_id)

        return await call(propose)

    @strawberry.mutation(description="Back a member's proposal; enough backers open the vote.")
    async def back_proposal(
        self, info: Info[Context, None], decision_id: strawberry.ID
    ) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def back() -> DecisionChanged:
            found = _decision_id(decision_id)
            app.back(found, who.member_id)
            return _changed(app, found)

        return await call(back)

    @strawberry.mutation(
        description=(
            "Vote: one member, one vote, while the vote is open. With `forMember`, as the "
            "holder of that member's proxy; a member's own vote replaces their proxy's."
        )
    )
    async def vote(
        self,
        info: Info[Context, None],
        decision_id: strawberry.ID,
        choice: Choice,
        for_member: str | None = None,
    ) -> VoteResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def vote() -> VoteCast:
            found = _decision_id(decision_id)
            member = None if for_member is None else member_id(for_member)
            ballot = app.vote(found, who.member_id, choice, for_member=member)
            return VoteCast(
                decision_id=strawberry.ID(str(found)),
                member_id=ballot.member_id,
                choice=Choice(ballot.choice),
                cast_by=ballot.cast_by,
                position=written(app),
            )

        answer = await call(vote)
        if isinstance(answer, VoteCast):
            if answer.cast_by != answer.member_id:
                info.context.audited(
                    AuditKind.ACTED_ON_BEHALF, "vote", "voted_by_proxy", subject=answer.member_id
                )
            else:
                info.context.audited(AuditKind.VOTED, "vote", "voted", subject=answer.member_id)
        return answer

    @strawberry.mutation(
        description="Close a vote whose time is up: count it, record the result, and if it "
        "passed publish the next policy version (PolicyChanged). Any member may."
    )
    async def close_decision(
        self, info: Info[Context, None], decision_id: strawberry.ID
    ) -> DecisionChangeResult:
        app = info.context.app(Decisions)

        def close() -> DecisionChanged:
            found = _decision_id(decision_id)
            app.close_vote(found)
            return _changed(app, found)

        return await call(close)

    @strawberry.mutation(
        description=(
            "Give your proxy to another member: for one decision (`decisionId`) or until "
            "withdrawn. The desk may record it for a member who consented (`onBehalfOf`)."
        )
    )
    async def give_proxy(
        self,
        info: Info[Context, None],
        to: str,
        decision_id: strawberry.ID | None = None,
        on_behalf_of: str | None = None,
    ) -> ProxyResult:
        member = await _for_member(info, on_behalf_of, "giveProxy")
        if not isinstance(member, str):
            return member
        who, app = info.context.caller, info.context.app(Decisions)

        def give() -> ProxyChanged:
            found = None if decision_id is None else _decision_id(decision_id)
            try:
                holder = member_id(to)
            except InvalidId as exc:
                raise domain.InvalidProxy("to", str(exc)) from None
            app.give_proxy(member, holder, decision_id=found, recorded_by=who.member_id)
            return ProxyChanged(
                member_id=member,
                held_by=holder,
                for_decision=decision_id,
                position=written(app),
            )

        answer = await call(give)
        if isinstance(answer, ProxyChanged):
            kind = AuditKind.ACTED_ON_BEHALF if member != who.member_id else AuditKind.PROXY_GIVEN
            info.context.audited(kind, "giveProxy", "proxy_given", subject=member)
        return answer

    @strawberry.mutation(description="Withdraw a proxy (for one decision, or the standing one).")
    async def withdraw_proxy(
        self,
        info: Info[Context, None],
        decision_id: strawberry.ID | None = None,
        on_behalf_of: str | None = None,
    ) -> ProxyResult:
        member = await _for_member(info, on_behalf_of, "withdrawProxy")
        if not isinstance(member, str):
            return member
        who, app = info.context.caller, info.context.app(Decisions)

        def withdraw() -> ProxyChanged:
            found = None if decision_id is None else _decision_id(decision_id)
            app.withdraw_proxy(member, decision_id=found, recorded_by=who.member_id)
            return ProxyChanged(
                member_id=member, held_by=None, for_decision=decision_id, position=written(app)
            )

        answer = await call(withdraw)
        if isinstance(answer, ProxyChanged):
            kind = (
                AuditKind.ACTED_ON_BEHALF if member != who.member_id else AuditKind.PROXY_WITHDRAWN
            )
            info.context.audited(kind, "withdrawProxy", "proxy_withdrawn", subject=member)
        return answer

    @strawberry.mutation(
        description="Suspend a driver: a board member's recorded decision, with a reason code."
    )
    async def suspend_driver(
        self, info: Info[Context, None], driver_id: str, reason: SuspensionReason
    ) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def suspend() -> DecisionChanged:
            driver = member_id(driver_id)
            if driver == who.member_id:
                raise domain.InvalidProposal("driverId", "a board member does not suspend themself")
            return _changed(app, app.suspend_driver(driver, by=who.member_id, reason=reason))

        return _board_audited(info, "suspendDriver", driver_id, await call(suspend))

    @strawberry.mutation(description="The suspended driver appeals (once per suspension).")
    async def appeal_suspension(self, info: Info[Context, None]) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)
        return await call(lambda: _changed(app, app.appeal_suspension(who.member_id)))

    @strawberry.mutation(
        description="Review a driver's appeal (not by the board member who suspended them)."
    )
    async def review_appeal(
        self, info: Info[Context, None], driver_id: str, outcome: AppealOutcome
    ) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def review() -> DecisionChanged:
            driver = member_id(driver_id)
            return _changed(app, app.review_appeal(driver, by=who.member_id, outcome=outcome))

        return _board_audited(info, "reviewAppeal", driver_id, await call(review))

    @strawberry.mutation(description="Lift a driver's suspension (a board member's decision).")
    async def lift_suspension(
        self, info: Info[Context, None], driver_id: str
    ) -> DecisionChangeResult:
        who, app = info.context.caller, info.context.app(Decisions)

        def lift() -> DecisionChanged:
            return _changed(app, app.lift_suspension(member_id(driver_id), by=who.member_id))

        return _board_audited(info, "liftSuspension", driver_id, await call(lift))


@strawberry.type
class DecisionsQuery:
    @strawberry.field(description="The co-op's decisions, newest first (optionally by state).")
    async def decisions(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        state: DecisionState | None = None,
        seen: str | None = None,
    ) -> DecisionsResult:
        app = info.context.app(Decisions)

        def read() -> DecisionConnection:
            request = page_request(first, after, arity=len(DECISION_ORDER))
            app.catch_up(DecisionList)
            as_of = read_after(app, DecisionList, seen)
            page = app.read_model(DecisionList).page(
                request, state=None if state is None else state.value
            )
            return DecisionConnection.of(
                connection(page, DecisionView.of, as_of=as_of, after=after)
            )

        return await call(read)

    @strawberry.field(description="One decision.")
    async def decision(
        self, info: Info[Context, None], decision_id: strawberry.ID
    ) -> DecisionResult:
        app = info.context.app(Decisions)

        def read() -> DecisionView:
            return _changed(app, _decision_id(decision_id)).decision

        return await call(read)

    @strawberry.field(description="A decision's votes so far, and whether it passes as they stand.")
    async def decision_tally(
        self, info: Info[Context, None], decision_id: strawberry.ID
    ) -> TallyResult:
        app = info.context.app(Decisions)

        def read() -> DecisionTally:
            found = _decision_id(decision_id)
            decision = app.decision(found)
            tally = app.tally(found)
            reached, passing = decision.result(
                for_votes=tally.for_votes, against=tally.against, abstain=tally.abstain
            )
            return DecisionTally(
                decision_id=strawberry.ID(str(found)),
                state=decision.state,
                tally=TallyView(
                    for_votes=tally.for_votes,
                    against=tally.against,
                    abstain=tally.abstain,
                    by_proxy=tally.by_proxy,
                    votes=tally.votes,
                ),
                electorate=decision.electorate,
                quorum=decision.quorum,
                quorum_reached=reached,
                passing=passing,
                closes_at=decision.closes_at,
                as_of=read_after(app, Ballots, None),
            )

        return await call(read)

    @strawberry.field(description="Every policy version (the city config file is version 1).")
    async def policy_history(self, info: Info[Context, None]) -> PolicyHistoryResult:
        app = info.context.app(Decisions)

        def read() -> PolicyHistory:
            app.catch_up()
            policies = app.policies()
            return PolicyHistory(
                in_force=policies.at(app.clock.now()).version,
                versions=[PolicyVersionView.of(v) for v in policies.history()],
            )

        return await call(read)
