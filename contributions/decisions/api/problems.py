"""Why a decisions request was refused: one GraphQL type per refusal, carrying its data, and
the one mapping from the context's exceptions to them (`problem`). The domain's enums are
registered here, before any type names them."""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import TYPE_CHECKING, TypeVar

import strawberry
from eventsourcing.persistence import IntegrityError

from contributions.decisions import domain, suspensions
from contributions.decisions.domain import Choice, DecisionState
from contributions.decisions.suspensions import AppealOutcome, SuspensionReason
from kernel import readside
from kernel.api import (
    Conflict,
    InvalidInput,
    NoConsent,
    NotAuthenticated,
    NotAuthorized,
    NotCaughtUp,
    Problem,
    UnknownMember,
)
from kernel.ids import InvalidId
from kernel.paging import InvalidPage
from kernel.problems import call as run_mapped
from kernel.problems import shared_problem

if TYPE_CHECKING:
    from collections.abc import Callable


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
    """The one mapping of the context's expected errors to GraphQL problems (what every
    service shares, bad pages and ids and a read model behind, is kernel.problems')."""
    shared = shared_problem(exc, "decisions")
    if shared is not None:
        return shared
    message = str(exc)
    match exc:
        case domain.InvalidProposal(field=field) | domain.InvalidProxy(field=field):
            return InvalidInput(message=message, field=field)
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


def _expected(exc: Exception) -> DecisionsProblem | None:
    return problem(exc) if isinstance(exc, EXPECTED) else None


async def call(fn: Callable[[], T]) -> T | DecisionsProblem:
    """Run a synchronous application call in a thread; expected errors become problems."""
    return await run_mapped(fn, _expected)
