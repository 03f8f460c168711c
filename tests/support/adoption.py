"""One body for "a ratified value equation reaches contributions over the bus": decisions and
contributions joined by a relay and a consumer on any bus (the in-process broker in unit tests,
Kafka in integration tests), as `muni up` and the workers join them."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from contributions.application import Contributions
from contributions.decisions.domain import Choice
from contributions.decisions.published import to_integration
from gateway.services import SERVICES
from kernel.bus.consumer import Consumer
from kernel.bus.relay import Relay
from kernel.policies import PolicyChange
from tests.support.decisions import decisions_app, learn_members

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from contributions.decisions.application import Decisions
    from kernel.bus.port import Bus
    from kernel.config import Settings
    from kernel.time import FixedClock

EQUATION = {"weights": {"work/driving": "1", "work/care": "1.5"}, "half_life_days": 30}
WEEK = timedelta(days=7)


class AdoptionFlow:
    """A decisions store and a contributions store on one bus: the decisions relay publishes,
    contributions' consumer (with the spec's inbound, as the runtime builds it) applies."""

    def __init__(self, settings: Settings, bus: Bus, clock: FixedClock) -> None:
        self.settings, self.bus, self.clock = settings, bus, clock
        self.decisions: Decisions = decisions_app(clock, settings=settings)
        self.contributions = Contributions(settings, clock=clock)
        self.topic = settings.topic("decisions")
        bus.ensure_topics([self.topic], settings.topic_partitions)
        self.relay = self.new_relay()
        spec = SERVICES["contributions"]
        assert spec.inbound is not None
        assert "decisions" in spec.consumes
        self.consumer = Consumer(
            self.contributions,
            bus.subscriber(settings.group("contributions")),
            topics=[self.topic],
            inbound=spec.inbound,
        )

    def new_relay(self) -> Relay:
        return Relay(
            self.decisions, self.bus.publisher(), topic=self.topic, to_integration=to_integration
        )

    def ratify(self, changes: list[PolicyChange] | None = None) -> UUID:
        """A board proposal changing the equation, voted for and closed a week later."""
        board, member, *_ = learn_members(self.decisions, 3)
        decision = self.decisions.propose(
            board,
            by_board=True,
            title="Care counts one and a half times driving",
            changes=changes or [PolicyChange("contributions.equation", EQUATION)],
        )
        self.decisions.vote(decision, member, Choice.FOR)
        self.clock.advance(WEEK)
        self.decisions.close_vote(decision)
        return decision

    def publish_all(self, relay: Relay | None = None) -> None:
        while (relay or self.relay).run_once():
            pass

    def consume_until(self, done: Callable[[], bool], timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.consumer.run_once(0.5)
            if done():
                return
        raise AssertionError(f"the consumer did not get there in {timeout_s:.0f}s")

    def close(self) -> None:
        self.consumer.subscriber.close()
        self.relay.publisher.close()
        self.decisions.close()
        self.contributions.close()


def check_a_ratified_equation_is_adopted_once(flow: AdoptionFlow) -> None:
    """The body both buses run: a passed decision's equation becomes contributions' version 2
    from the close, named by the policy version too; delivered twice, adopted once."""
    decision = flow.ratify()
    flow.publish_all()
    versions = flow.contributions.equation_versions
    flow.consume_until(lambda: len(versions()) == 2)
    adopted = versions()[-1]
    assert (adopted.version, adopted.decision_id) == (2, str(decision))
    assert adopted.effective_from == flow.clock.now()
    assert adopted.equation.as_data() == {
        "weights": {"work/care": "1.5", "work/driving": "1"},
        "caps": {},
        "half_life_days": 30,
    }
    in_force = flow.contributions.equation_in_force(flow.clock.now())
    assert in_force.version == 2
    assert flow.contributions.equation_in_force(flow.clock.now() - WEEK).version == 1
    # the policy log is kept too: what contributions computes now names policy version 2
    assert flow.contributions.policy_version(flow.clock.now()) == 2

    # published again by a relay that lost its position: skipped, never a second version
    again = flow.new_relay()
    again.position = again.published = 0
    flow.publish_all(again)
    before = flow.consumer.outcome.skipped
    flow.consume_until(lambda: flow.consumer.outcome.skipped > before)
    assert [v.version for v in versions()] == [1, 2]
    assert flow.consumer.outcome.parked == 0
