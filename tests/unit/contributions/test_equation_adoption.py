"""A ratified value equation reaches contributions as `decisions.PolicyChanged`, over the
in-process broker (the same body runs on Kafka in tests/integration/test_contributions_kafka.py),
and is adopted once whatever the deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from eventsourcing.persistence import Tracking

from contributions.application import Contributions
from kernel.bus.embedded import EmbeddedBroker
from kernel.config import Settings
from kernel.policies import PolicyChanged
from tests.support.adoption import AdoptionFlow, check_a_ratified_equation_is_adopted_once

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock

START = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def flow(clock: FixedClock) -> Iterator[AdoptionFlow]:
    found = AdoptionFlow(Settings(persistence="popo"), EmbeddedBroker(), clock)
    yield found
    found.close()


def test_a_ratified_equation_is_adopted_once_over_the_in_process_broker(
    flow: AdoptionFlow,
) -> None:
    check_a_ratified_equation_is_adopted_once(flow)


def policy_changed(decision_id: str, value: object, version: int = 2) -> PolicyChanged:
    return PolicyChanged(
        event_id=uuid.uuid4(),
        city="demo",
        occurred_at=START,
        aggregate_id=uuid.uuid4(),
        policy_version=version,
        decision_id=decision_id,
        changes=[{"path": "contributions.equation", "value": value}],
        effective_from=START,
    )


def apply(app: Contributions, event: PolicyChanged) -> None:
    # Each call another source position: what a replay from a restored store would deliver.
    app.process_event(event, Tracking(f"demo/decisions/{uuid.uuid4()}", 1))  # type: ignore[arg-type]


def test_the_same_decision_from_another_position_adopts_nothing_more(clock: FixedClock) -> None:
    app = Contributions(Settings(persistence="popo"), clock=clock)
    equation = {"weights": {"work/driving": "2"}}
    apply(app, policy_changed("decision-1", equation))
    apply(app, policy_changed("decision-1", equation))
    assert [(v.version, v.decision_id) for v in app.equation_versions()] == [
        (1, None),
        (2, "decision-1"),
    ]


def test_other_policy_changes_adopt_no_equation(clock: FixedClock) -> None:
    app = Contributions(Settings(persistence="popo"), clock=clock)
    event = policy_changed("decision-2", None).model_copy(
        update={"changes": [{"path": "rides.split", "value": {"driver": 90}}]}
    )
    apply(app, event)
    assert [v.version for v in app.equation_versions()] == [1]


def test_an_equation_contributions_cannot_hold_is_refused_and_changes_nothing(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = Contributions(Settings(persistence="popo"), clock=clock)
    head = app.head()
    apply(app, policy_changed("decision-3", {"weights": {"work/driving": "-1"}}))
    assert [v.version for v in app.equation_versions()] == [1]
    assert app.head() == head
    assert "decision-3: equation not adopted (weights.work/driving: must not be negative" in (
        caplog.text
    )
