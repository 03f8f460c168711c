"""Decisions on PostgreSQL: a vote with a proxy and an override, closed, publishing a policy
version; the tally, the list and the policy versions read from tables in the service's schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contributions.decisions.domain import AlreadyVoted, Choice
from contributions.decisions.projections import DecisionList
from kernel.config import PostgresDsn, Settings
from kernel.paging import page_request
from kernel.policies import PolicyChange
from kernel.time import FixedClock
from tests.support.decisions import decisions_app, learn_members

pytestmark = pytest.mark.integration

SPLIT = {"driver": 87, "coop": 8, "common_fund": 4, "protocol": 1}


def test_a_vote_on_postgres(postgres_dsn: str, pg_schema_prefix: str) -> None:
    settings = Settings(
        persistence="postgres",
        postgres=PostgresDsn.parse(postgres_dsn),
        schema_prefix=pg_schema_prefix,
    )
    clock = FixedClock()
    app = decisions_app(clock, settings=settings)
    try:
        board, a, b, c = learn_members(app, 4)
        decision = app.propose(
            board, by_board=True, title="t", changes=[PolicyChange("rides.split", SPLIT)]
        )
        app.give_proxy(b, a)
        app.vote(decision, a, Choice.FOR, for_member=b)
        app.vote(decision, b, Choice.AGAINST)  # overrides
        app.vote(decision, c, Choice.FOR)
        app.vote(decision, a, Choice.FOR)
        with pytest.raises(AlreadyVoted):
            app.vote(decision, c, Choice.AGAINST)
        tally = app.tally(decision)
        assert (tally.for_votes, tally.against, tally.by_proxy) == (2, 1, 0)
        clock.advance(timedelta(days=8))
        assert app.close_vote(decision).policy_version == 2
        policy = app.policies().at(clock.now())
        assert (policy.version, policy.config.rides.split) == (2, SPLIT)
        app.catch_up(DecisionList)
        [row] = app.read_model(DecisionList).page(page_request(10, None, arity=2)).items
        assert (row.state, row.passed, row.for_votes, row.threshold_percent) == (
            "closed",
            True,
            2,
            Decimal(50),
        )
    finally:
        app.close()
