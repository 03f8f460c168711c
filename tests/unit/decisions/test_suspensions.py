"""A driver's suspension is a board member's recorded decision with a reason code; the driver
appeals once; another board member reviews; lifting publishes `SuspensionLifted`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from contributions.decisions.projections import DecisionList
from contributions.decisions.published import DriverSuspendedV1, SuspensionLiftedV1
from contributions.decisions.suspensions import (
    AlreadySuspended,
    AppealNotAllowed,
    AppealOutcome,
    NotSuspended,
    Suspension,
    SuspensionReason,
)
from tests.support.decisions import decisions_app, new_member, published
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from kernel.time import FixedClock

DRIVER, BOARD, OTHER_BOARD = new_member(), new_member(), new_member()


def test_a_suspension_is_recorded_and_published_with_its_reason_code(clock: FixedClock) -> None:
    app = decisions_app(clock)
    decision_id = app.suspend_driver(DRIVER, by=BOARD, reason=SuspensionReason.SAFETY_REPORT)
    assert app.is_suspended(DRIVER)
    [event] = [e for e in published(app) if isinstance(e, DriverSuspendedV1)]
    assert (event.driver_id, event.decision_id, event.suspended_by, event.reason) == (
        DRIVER,
        decision_id,
        BOARD,
        "safety_report",
    )
    app.catch_up(DecisionList)
    row = app.read_model(DecisionList).get(decision_id)
    assert row is not None
    assert (row.kind, row.subject_id, row.reason, row.decided_by) == (
        "suspension",
        DRIVER,
        "safety_report",
        BOARD,
    )


def test_a_suspended_driver_is_not_suspended_twice(clock: FixedClock) -> None:
    app = decisions_app(clock)
    app.suspend_driver(DRIVER, by=BOARD, reason=SuspensionReason.CONDUCT)
    before = app.head()
    with pytest.raises(AlreadySuspended):
        app.suspend_driver(DRIVER, by=OTHER_BOARD, reason=SuspensionReason.OTHER)
    assert app.head() == before


def test_an_appeal_lifted_on_review_publishes_suspension_lifted(clock: FixedClock) -> None:
    app = decisions_app(clock)
    decision_id = app.suspend_driver(DRIVER, by=BOARD, reason=SuspensionReason.VEHICLE_UNFIT)
    appeal_id = app.appeal_suspension(DRIVER)
    with pytest.raises(AppealNotAllowed, match="already appealed"):
        app.appeal_suspension(DRIVER)
    with pytest.raises(AppealNotAllowed, match="who suspended"):
        app.review_appeal(DRIVER, by=BOARD, outcome=AppealOutcome.LIFTED)
    assert app.review_appeal(DRIVER, by=OTHER_BOARD, outcome=AppealOutcome.LIFTED) == appeal_id
    assert not app.is_suspended(DRIVER)
    [lifted] = [e for e in published(app) if isinstance(e, SuspensionLiftedV1)]
    assert (lifted.driver_id, lifted.decision_id, lifted.appeal_id, lifted.lifted_by) == (
        DRIVER,
        decision_id,
        appeal_id,
        OTHER_BOARD,
    )
    app.catch_up(DecisionList)
    row = app.read_model(DecisionList).get(appeal_id)
    assert row is not None
    assert (row.kind, row.state, row.reason, row.passed) == ("appeal", "closed", "lifted", True)


def test_an_upheld_appeal_leaves_the_suspension_and_is_not_reviewed_again(
    clock: FixedClock,
) -> None:
    app = decisions_app(clock)
    app.suspend_driver(DRIVER, by=BOARD, reason=SuspensionReason.DOCUMENTS_EXPIRED)
    app.appeal_suspension(DRIVER)
    app.review_appeal(DRIVER, by=OTHER_BOARD, outcome=AppealOutcome.UPHELD)
    assert app.is_suspended(DRIVER)
    with pytest.raises(AppealNotAllowed, match="no appeal"):
        app.review_appeal(DRIVER, by=OTHER_BOARD, outcome=AppealOutcome.LIFTED)
    assert not [e for e in published(app) if isinstance(e, SuspensionLiftedV1)]


def test_only_a_suspended_driver_appeals_and_only_a_suspension_is_lifted(
    clock: FixedClock,
) -> None:
    app = decisions_app(clock)
    with pytest.raises(NotSuspended):
        app.appeal_suspension(DRIVER)
    with pytest.raises(NotSuspended):
        app.lift_suspension(DRIVER, by=BOARD)
    app.suspend_driver(DRIVER, by=BOARD, reason=SuspensionReason.OTHER)
    app.lift_suspension(DRIVER, by=BOARD)
    assert not app.is_suspended(DRIVER)


def test_a_suspension_replays(clock: FixedClock) -> None:
    suspension = Suspension(driver_id=DRIVER)
    history = suspension.collect_events()
    suspension.suspend(by=BOARD, reason=SuspensionReason.CONDUCT, now=clock.now())
    suspension.appeal(by=DRIVER, now=clock.now())
    new = suspension.collect_events()
    assert [name for name, _ in names_and_attrs(new)] == ["Suspended", "Appealed"]
    assert state_of(replay([*history, *new])) == state_of(suspension)
