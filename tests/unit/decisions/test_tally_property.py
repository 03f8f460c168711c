"""Property: after any sequence of votes, proxies given and withdrawn, and overrides (refused
ones included), the tally kept by the read model equals a plain recount of the ballots a
simple model of the rules accepted, and nobody is counted twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.decisions.domain import Choice, DecisionsError
from contributions.decisions.projections import Ballots
from kernel.policies import PolicyChange
from kernel.time import FixedClock
from tests.support.decisions import decisions_app, learn_members

MEMBERS = 4
CHANGES = [PolicyChange("rides.fare_base", "3.00")]

# An action: (kind, actor index, other index, choice)
actions = st.lists(
    st.tuples(
        st.sampled_from(["vote", "vote_for", "give", "give_here", "withdraw"]),
        st.integers(0, MEMBERS - 1),
        st.integers(0, MEMBERS - 1),
        st.sampled_from(list(Choice)),
    ),
    max_size=40,
)


@dataclass
class Model:
    """The rules, written plainly: who holds whose proxy, and each member's ballot."""

    standing: dict[int, int] = field(default_factory=dict)
    here: dict[int, int | None] = field(default_factory=dict)  # None: withdrawn for this one
    ballots: dict[int, tuple[Choice, int]] = field(default_factory=dict)  # choice, cast by

    def holder(self, member: int) -> int | None:
        if member in self.here:
            return self.here[member]
        return self.standing.get(member)

    def vote(self, voter: int, member: int, choice: Choice) -> bool:
        if voter != member and self.holder(member) != voter:
            return False
        found = self.ballots.get(member)
        if found is not None and not (voter == member and found[1] != member):
            return False
        self.ballots[member] = (choice, voter)
        return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_the_tally_is_a_plain_recount(steps: list[tuple[str, int, int, Choice]]) -> None:
    clock = FixedClock()
    app = decisions_app(clock)
    members = learn_members(app, MEMBERS)
    decision_id = app.propose(members[0], by_board=True, title="t", changes=CHANGES)
    model = Model()
    for kind, a, b, choice in steps:
        clock.advance(timedelta(seconds=1))
        accepted = True
        try:
            if kind == "vote":
                app.vote(decision_id, members[a], choice)
            elif kind == "vote_for":
                app.vote(decision_id, members[a], choice, for_member=members[b])
            elif kind == "give":
                app.give_proxy(members[a], members[b])
            elif kind == "give_here":
                app.give_proxy(members[a], members[b], decision_id=decision_id)
            else:
                app.withdraw_proxy(members[a])
        except DecisionsError:
            accepted = False
        # the same step in the plain model
        if kind == "vote":
            expected = model.vote(a, a, choice)
        elif kind == "vote_for":
            expected = model.vote(a, b, choice)
        elif kind in ("give", "give_here"):
            proxies = model.standing if kind == "give" else model.here
            expected = a != b and proxies.get(a) != b
            if expected:
                proxies[a] = b
        else:
            expected = a in model.standing
            model.standing.pop(a, None)
        assert accepted == expected, (kind, a, b)

    tally = app.tally(decision_id)
    counted = [c for c, _ in model.ballots.values()]
    assert tally.for_votes == counted.count(Choice.FOR)
    assert tally.against == counted.count(Choice.AGAINST)
    assert tally.abstain == counted.count(Choice.ABSTAIN)
    assert tally.by_proxy == sum(1 for m, (_, by) in model.ballots.items() if by != m)
    # nobody counted twice: one ballot row per member, and the total is the number of voters
    rows = app.read_model(Ballots).view.select("ballots", where={"decision_id": str(decision_id)})
    assert len({r["member_id"] for r in rows}) == len(rows) == tally.votes <= MEMBERS
