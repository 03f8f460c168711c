"""Producer events against consumer models for decisions: what decisions publishes, the
kernel's `PolicyChanged` (every service's policy log) reads, and rides reads or ignores all of
it; what members publishes, decisions reads. Tests sit outside the service boundary, so they
may import both sides (STYLE.md B3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from contributions.decisions.domain import Choice
from contributions.decisions.inbound import INBOUND as DECISIONS_INBOUND
from contributions.decisions.inbound import MemberJoined
from contributions.decisions.published import PUBLISHED
from gateway.services import SERVICES
from kernel.policies import PolicyChange, PolicyChanged, PolicyLog
from kernel.readside import Upsert
from kernel.time import FixedClock
from services.members.published import MemberJoinedV1
from tests.support.decisions import decisions_app, learn_members, published

if TYPE_CHECKING:
    from kernel.events import IntegrationEvent, TolerantModel

SPLIT = {"driver": 87, "coop": 8, "common_fund": 4, "protocol": 1}


def read(model: type[TolerantModel], event: IntegrationEvent) -> Any:
    """The consumer's model of the event, as the consumer builds it from an envelope."""
    return model.model_validate(
        {
            **event.payload(),
            "event_id": uuid4(),
            "city": "demo",
            "occurred_at": datetime.now(UTC),
            "aggregate_id": uuid4(),
        }
    )


def test_policy_changed_is_read_by_the_kernels_policy_log() -> None:
    clock = FixedClock()
    app = decisions_app(clock)
    board, voter, *_ = learn_members(app, 3)
    decision = app.propose(
        board, by_board=True, title="t", changes=[PolicyChange("rides.split", SPLIT)]
    )
    app.vote(decision, voter, Choice.FOR)
    clock.advance(timedelta(days=8))
    app.close_vote(decision)
    [event] = [e for e in published(app) if e.type == "decisions.PolicyChanged"]
    found = read(PolicyChanged, event)
    assert isinstance(found, PolicyChanged)
    assert (found.policy_version, found.decision_id) == (2, str(decision))
    assert found.changes == [{"path": "rides.split", "value": SPLIT}]
    [row] = PolicyLog(view=None).rows(found)  # type: ignore[arg-type]
    assert isinstance(row, Upsert)
    assert row.row["version"] == 2


@pytest.mark.parametrize("consumer", ["rides", "contributions"])
def test_every_decisions_event_is_read_or_ignored_by_its_consumers(consumer: str) -> None:
    # rides and contributions consume the decisions topic: an event a consumer neither reads
    # nor ignores would be parked
    spec = SERVICES[consumer]
    assert "decisions" in spec.consumes
    assert spec.inbound is not None
    for event in PUBLISHED:
        kind = event.model_fields["type"].default
        assert kind in spec.inbound.ignores or (kind, 1) in spec.inbound.models, kind


def test_member_joined_is_read_by_decisions() -> None:
    joined = MemberJoinedV1(
        member_id="demo:11111111-1111-4111-8111-111111111111",
        city="demo",
        joined_at=datetime.now(UTC),
    )
    found = read(DECISIONS_INBOUND.models[("members.MemberJoined", 1)], joined)
    assert isinstance(found, MemberJoined)
    assert found.member_id == joined.member_id


def test_a_drivers_suspension_and_its_lifting_are_read_by_rides() -> None:
    from contributions.decisions.published import DriverSuspendedV1, SuspensionLiftedV1
    from services.rides.inbound import DriverSuspended, SuspensionLifted

    at = datetime.now(UTC)
    sent = DriverSuspendedV1(
        driver_id="d", decision_id="x", suspended_by="b", reason="conduct", suspended_at=at
    )
    found = read(DriverSuspended, sent)
    assert (found.driver_id, found.decision_id, found.reason) == ("d", "x", "conduct")
    ended = SuspensionLiftedV1(
        driver_id="d", decision_id="y", lifted_by="r", appeal_id=None, lifted_at=at
    )
    assert read(SuspensionLifted, ended).driver_id == "d"
    rides = SERVICES["rides"]
    assert rides.inbound is not None
    assert rides.inbound.models[("decisions.DriverSuspended", 1)] is DriverSuspended
