"""The GraphQL types of decisions: a decision as the list shows it, a tally, a vote, a proxy,
the policy history; the result unions."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON  # noqa: TC002 (strawberry reads hints at runtime)

from contributions.decisions import domain
from contributions.decisions.api.problems import DecisionsProblem
from contributions.decisions.domain import Choice, DecisionState
from contributions.decisions.projections import DecisionList, DecisionRow
from kernel.connections import Connection
from kernel.ids import parse_uuid
from kernel.readside.freshness import written

if TYPE_CHECKING:
    from uuid import UUID

    from contributions.decisions.application import Decisions
    from kernel.policies import PolicyVersion

T = TypeVar("T")


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
