"""Decisions' GraphQL mutations: propose, back, vote (and by proxy), close; proxies; drivers'
suspensions and appeals. Each answers what it changed and the log `position` after it, or a
typed refusal that changed nothing; what is done for someone else is in the audit log."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from contributions.decisions import domain
from contributions.decisions.api.problems import DecisionsProblem, call
from contributions.decisions.api.types import (
    DecisionChanged,
    DecisionChangeResult,
    ProposeInput,
    ProxyChanged,
    ProxyResult,
    VoteCast,
    VoteResult,
    _changed,
    _decision_id,
)
from contributions.decisions.application import Decisions
from contributions.decisions.domain import Choice
from contributions.decisions.suspensions import AppealOutcome, SuspensionReason  # noqa: TC001
from kernel import delegation
from kernel.api import (
    Context,
    InvalidInput,
    NoConsent,
    NotAuthorized,
    UnknownMember,
)
from kernel.audit import AuditKind
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id
from kernel.policies import PolicyChange
from kernel.readside.freshness import written

T = TypeVar("T")


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
