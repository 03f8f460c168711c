"""Decisions' GraphQL queries: the list of decisions (paged, newest first), one decision, a
decision's tally, the policy history with its versions."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from contributions.decisions.api.problems import call
from contributions.decisions.api.types import (
    DecisionConnection,
    DecisionResult,
    DecisionsResult,
    DecisionTally,
    DecisionView,
    PolicyHistory,
    PolicyHistoryResult,
    PolicyVersionView,
    TallyResult,
    TallyView,
    _changed,
    _decision_id,
)
from contributions.decisions.application import Decisions
from contributions.decisions.domain import DecisionState  # noqa: TC001 (strawberry)
from contributions.decisions.projections import DECISION_ORDER, Ballots, DecisionList
from kernel.api import Context  # noqa: TC001 (strawberry reads resolver hints)
from kernel.connections import connection
from kernel.paging import page_request
from kernel.readside.freshness import read_after

T = TypeVar("T")


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
