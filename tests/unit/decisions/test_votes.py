"""Votes: one member, one vote; quorum and threshold from the policies in force; proxies given
with the member's consent; a member's own vote replaces their proxy's; no vote after the close;
a passed decision publishes the next policy version. Every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from contributions.decisions.domain import (
    AlreadyBacked,
    AlreadyVoted,
    Ballot,
    Choice,
    DecisionNotFound,
    DecisionState,
    InvalidProposal,
    InvalidProxy,
    NoProxy,
    NotInState,
    UnknownVoter,
    VotingClosed,
    VotingStillOpen,
    passes,
)
from contributions.decisions.published import PolicyChangedV1
from kernel.cities import load_city
from kernel.policies import PolicyChange
from tests.support.decisions import decisions_app, learn_members, new_member, published
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from uuid import UUID

    from contributions.decisions.application import Decisions
    from kernel.time import FixedClock

SPLIT = {"driver": 87, "coop": 8, "common_fund": 4, "protocol": 1}
RAISE_SPLIT = [PolicyChange("rides.split", SPLIT)]
WEEK = timedelta(days=7)


def board_proposal(app: Decisions, board: str, changes: list[PolicyChange] = RAISE_SPLIT) -> UUID:
    return app.propose(board, by_board=True, title="Drivers keep 87 %", changes=changes)


def positions(app: Decisions) -> int:
    return app.head()


# -- the rule -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("votes", "quorum", "threshold", "expected"),
    [
        ((3, 1, 0), 4, "50", (True, True)),
        ((2, 2, 0), 4, "50", (True, False)),  # a tie does not pass a simple majority
        ((2, 1, 5), 8, "50", (True, True)),  # abstentions count towards the quorum only
        ((3, 0, 0), 4, "50", (False, False)),  # no quorum, no decision
        ((0, 0, 4), 4, "50", (True, False)),  # all abstain: nothing was for it
        ((2, 1, 0), 3, "66", (True, True)),
        ((2, 1, 0), 3, "67", (True, False)),  # two-thirds needs more than 67 %
    ],
)
def test_quorum_and_threshold(
    votes: tuple[int, int, int], quorum: int, threshold: str, expected: tuple[bool, bool]
) -> None:
    for_votes, against, abstain = votes
    found = passes(
        for_votes=for_votes,
        against=against,
        abstain=abstain,
        quorum=quorum,
        threshold_percent=Decimal(threshold),
    )
    assert found == expected


# -- proposals ----------------------------------------------------------------------------------
def test_a_board_proposal_opens_for_votes_at_once_with_the_rules_in_force(
    clock: FixedClock,
) -> None:
    app = decisions_app(clock)
    board, *_ = learn_members(app, 40)
    decision = app.decision(board_proposal(app, board))
    assert decision.state is DecisionState.OPEN
    assert (decision.electorate, decision.quorum) == (40, 4)  # 10 % of 40
    assert decision.threshold_percent == Decimal(50)
    assert decision.closes_at == clock.now() + WEEK


def test_a_proposal_the_config_cannot_hold_is_refused_and_nothing_is_stored(
    clock: FixedClock,
) -> None:
    app = decisions_app(clock)
    board, *_ = learn_members(app, 3)
    before = positions(app)
    with pytest.raises(InvalidProposal) as refused:
        board_proposal(app, board, [PolicyChange("rides.split", {"driver": 99})])
    assert refused.value.field == "changes.rides.split"
    with pytest.raises(InvalidProposal, match="title"):
        app.propose(board, by_board=True, title="  ", changes=RAISE_SPLIT)
    with pytest.raises(InvalidProposal, match="future"):
        app.propose(
            board, by_board=True, title="t", changes=RAISE_SPLIT, effective_from=clock.now()
        )
    assert positions(app) == before


def test_a_member_proposal_goes_to_a_vote_when_enough_members_back_it(clock: FixedClock) -> None:
    # given 1 % of 250 members: 3 backers, the proposer first
    app = decisions_app(clock)
    proposer, first, second, *_ = learn_members(app, 250)
    decision_id = app.propose(proposer, by_board=False, title="t", changes=RAISE_SPLIT)
    decision = app.decision(decision_id)
    assert (decision.state, decision.backers, decision.backers_needed) == (
        DecisionState.BACKING,
        1,
        3,
    )
    with pytest.raises(NotInState):
        app.vote(decision_id, first, Choice.FOR)  # not at a vote yet
    # when
    assert app.back(decision_id, first) is DecisionState.BACKING
    assert app.back(decision_id, second) is DecisionState.OPEN
    # then
    assert app.decision(decision_id).electorate == 250
    with pytest.raises(NotInState):
        app.back(decision_id, new_member())  # at a vote: backing is over


def test_backing_twice_is_refused_and_changes_nothing(clock: FixedClock) -> None:
    app = decisions_app(clock)
    proposer, backer, *_ = learn_members(app, 300)
    decision_id = app.propose(proposer, by_board=False, title="t", changes=RAISE_SPLIT)
    app.back(decision_id, backer)
    before = positions(app)
    for again in (backer, proposer):
        with pytest.raises(AlreadyBacked):
            app.back(decision_id, again)
    assert positions(app) == before
    assert app.decision(decision_id).backers == 2


def test_the_backing_share_is_a_policy_a_decision_can_change(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, a, b, c, *_ = learn_members(app, 10)
    raise_backing = [PolicyChange("governance.backing_percent", "30")]
    decision_id = board_proposal(app, board, raise_backing)
    for voter in (a, b, c):
        app.vote(decision_id, voter, Choice.FOR)
    clock.advance(WEEK)
    app.close_vote(decision_id)
    # a member's proposal now needs 30 % of 10 members
    later = app.propose(a, by_board=False, title="t", changes=RAISE_SPLIT)
    assert app.decision(later).backers_needed == 3


# -- votes --------------------------------------------------------------------------------------
def test_voting_twice_is_refused_and_changes_nothing(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, voter, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    app.vote(decision_id, voter, Choice.FOR)
    before = positions(app)
    with pytest.raises(AlreadyVoted):
        app.vote(decision_id, voter, Choice.AGAINST)
    assert positions(app) == before
    assert app.tally(decision_id).for_votes == 1
    assert app.tally(decision_id).against == 0


def test_voting_after_the_close_is_refused_and_changes_nothing(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, voter, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    clock.advance(WEEK)
    before = positions(app)
    with pytest.raises(VotingClosed):
        app.vote(decision_id, voter, Choice.FOR)
    app.close_vote(decision_id)
    with pytest.raises(VotingClosed):
        app.vote(decision_id, voter, Choice.FOR)
    assert app.tally(decision_id).votes == 0
    assert positions(app) == before + 1  # only the close


def test_a_vote_closes_once_and_not_before_its_time(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    with pytest.raises(VotingStillOpen):
        app.close_vote(decision_id)
    clock.advance(WEEK)
    app.close_vote(decision_id)
    with pytest.raises(NotInState):
        app.close_vote(decision_id)


def test_an_unknown_decision_is_typed() -> None:
    from uuid import uuid4

    from kernel.time import FixedClock

    app = decisions_app(FixedClock())
    with pytest.raises(DecisionNotFound):
        app.vote(uuid4(), new_member(), Choice.FOR)


def test_a_passed_decision_publishes_the_next_policy_version(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, a, b, c, *_ = learn_members(app, 20)
    decision_id = board_proposal(app, board)
    app.vote(decision_id, a, Choice.FOR)
    app.vote(decision_id, b, Choice.FOR)
    app.vote(decision_id, c, Choice.AGAINST)
    clock.advance(WEEK)
    decided = app.close_vote(decision_id)
    assert (decided.passed, decided.policy_version) == (True, 2)
    policy = app.policies().at(clock.now())
    assert (policy.version, policy.config.rides.split) == (2, SPLIT)
    assert app.policies().at(clock.now() - timedelta(seconds=1)).version == 1
    # and on the bus
    changed = [p for p in published(app) if isinstance(p, PolicyChangedV1)]
    assert [(p.policy_version, p.decision_id, p.changes[0].value) for p in changed] == [
        (2, str(decision_id), SPLIT)
    ]


def test_a_failed_decision_changes_no_policy(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, a, *_ = learn_members(app, 100)  # quorum 10, one vote
    decision_id = board_proposal(app, board)
    app.vote(decision_id, a, Choice.FOR)
    clock.advance(WEEK)
    decided = app.close_vote(decision_id)
    assert (decided.passed, decided.policy_version) == (False, None)
    assert app.policies().at(clock.now()).version == 1


def test_a_change_takes_effect_from_its_stated_date_and_versions_stay_in_order(
    clock: FixedClock,
) -> None:
    app = decisions_app(clock)
    board, a, *_ = learn_members(app, 5)
    later = clock.now() + timedelta(days=30)
    first = app.propose(board, by_board=True, title="t", changes=RAISE_SPLIT, effective_from=later)
    second = board_proposal(app, board, [PolicyChange("rides.fare_base", "3.00")])
    for d in (first, second):
        app.vote(d, a, Choice.FOR)
    clock.advance(WEEK)
    app.close_vote(first)
    assert app.policies().at(clock.now()).version == 1  # not in force yet
    assert app.policies().at(later).config.rides.split == SPLIT
    # the second asked for "at close", but a version never takes effect before the one before
    assert app.close_vote(second).effective_from == later


# -- proxies ------------------------------------------------------------------------------------
def test_a_proxy_holder_votes_for_the_member_who_gave_it(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, holder, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    app.give_proxy(member, holder)
    app.vote(decision_id, holder, Choice.FOR, for_member=member)
    app.vote(decision_id, holder, Choice.AGAINST)  # and their own vote
    tally = app.tally(decision_id)
    assert (tally.for_votes, tally.against, tally.by_proxy) == (1, 1, 1)


def test_voting_for_someone_without_their_proxy_is_refused(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, other, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    before = positions(app)
    with pytest.raises(NoProxy):
        app.vote(decision_id, other, Choice.FOR, for_member=member)
    assert positions(app) == before
    # a proxy is not passed on: the holder's holder does not vote for the member
    holder = learn_members(app, 1)[0]
    app.give_proxy(member, holder)
    app.give_proxy(holder, other)
    with pytest.raises(NoProxy):
        app.vote(decision_id, other, Choice.FOR, for_member=member)


def test_the_members_own_vote_overrides_their_proxys_once(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, holder, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    app.give_proxy(member, holder, decision_id=decision_id)
    app.vote(decision_id, holder, Choice.FOR, for_member=member)
    app.vote(decision_id, member, Choice.AGAINST)  # overrides
    tally = app.tally(decision_id)
    assert (tally.for_votes, tally.against, tally.by_proxy, tally.votes) == (0, 1, 0, 1)
    with pytest.raises(AlreadyVoted):
        app.vote(decision_id, member, Choice.FOR)  # the own vote is final
    with pytest.raises(AlreadyVoted):
        app.vote(decision_id, holder, Choice.FOR, for_member=member)


def test_the_proxy_cannot_replace_the_members_own_vote(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, holder, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    app.give_proxy(member, holder)
    app.vote(decision_id, member, Choice.AGAINST)
    with pytest.raises(AlreadyVoted):
        app.vote(decision_id, holder, Choice.FOR, for_member=member)
    assert app.tally(decision_id).against == 1


def test_a_withdrawn_proxy_no_longer_votes(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, holder, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    app.give_proxy(member, holder)
    app.withdraw_proxy(member)
    with pytest.raises(NoProxy):
        app.vote(decision_id, holder, Choice.FOR, for_member=member)
    with pytest.raises(InvalidProxy):
        app.withdraw_proxy(member)  # withdrawn already


def test_a_proxy_for_one_decision_wins_over_the_standing_one(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, standing, special, *_ = learn_members(app, 6)
    decision_id = board_proposal(app, board)
    app.give_proxy(member, standing)
    app.give_proxy(member, special, decision_id=decision_id)
    assert app.proxy_holder(member, decision_id) == special
    with pytest.raises(NoProxy):
        app.vote(decision_id, standing, Choice.FOR, for_member=member)


def test_proxies_that_cannot_be_are_refused(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, member, *_ = learn_members(app, 5)
    decision_id = board_proposal(app, board)
    before = positions(app)
    with pytest.raises(InvalidProxy):
        app.give_proxy(member, member)
    with pytest.raises(UnknownVoter):
        app.give_proxy(member, new_member())  # nobody the city knows
    clock.advance(WEEK)
    with pytest.raises(VotingClosed):
        app.give_proxy(member, board, decision_id=decision_id)
    assert positions(app) == before


# -- the aggregates, given-when-then ------------------------------------------------------------
def test_an_override_records_what_it_replaced_and_replays(clock: FixedClock) -> None:
    ballot = Ballot(decision_id="d", member_id="m", choice="for", cast_by="h", at=clock.now())
    history = ballot.collect_events()
    ballot.override(Choice.AGAINST, by="m", now=clock.now())
    new = ballot.collect_events()
    assert names_and_attrs(new) == [
        (
            "Overridden",
            {
                "decision_id": "d",
                "member_id": "m",
                "choice": "against",
                "previous_choice": "for",
                "previous_cast_by": "h",
                "at": clock.now(),
            },
        )
    ]
    assert state_of(replay([*history, *new])) == state_of(ballot)


def test_the_city_config_file_is_version_one(clock: FixedClock) -> None:
    app = decisions_app(clock)
    assert app.policies().at(clock.now()).config == load_city("demo")
    assert app.policy_version(clock.now()) == 1


# -- a ratified equation leaves as PolicyChanged (contributions consumes it) -----------------
def test_a_ratified_equation_is_published_with_its_value(clock: FixedClock) -> None:
    app = decisions_app(clock)
    board, a, *_ = learn_members(app, 3)
    equation = {"weights": {"work/driving": "1", "work/care": "1.5"}}
    ratify = board_proposal(app, board, [PolicyChange("contributions.equation", equation)])
    other = board_proposal(app, board)
    for d in (ratify, other):
        app.vote(d, a, Choice.FOR)
    clock.advance(WEEK)
    app.close_vote(ratify)
    app.close_vote(other)
    changed = [p for p in published(app) if isinstance(p, PolicyChangedV1)]
    [ratified] = [p for p in changed if p.decision_id == str(ratify)]
    [change] = ratified.changes
    assert change.path == "contributions.equation"
    assert change.value["weights"] == {"work/driving": "1", "work/care": "1.5"}
    assert ratified.effective_from == clock.now()
    in_force = app.policies().at(clock.now()).config.contributions.equation
    assert in_force is not None
    assert in_force.weights == {"work/driving": Decimal(1), "work/care": Decimal("1.5")}
