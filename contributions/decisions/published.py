"""What leaves the decisions context: versioned integration events on
`<city>.decisions.events.v1`. Member ids only; no titles, no free text.

Known and intended consumers: every service that reads a policy (`PolicyChanged`, kept by
`kernel.policies.PolicyLog`); rides (`DriverSuspended`, `SuspensionLifted`: a suspended driver
cannot go on duty or be offered rides until lifted); contributions (`DecisionClosed`, for
governance participation).
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from contributions.decisions.domain import Decision, PolicyHistory  # noqa: TC001 (the mappings dispatch on them)
from contributions.decisions.suspensions import Suspension  # noqa: TC001
from kernel.events import IntegrationEvent
from kernel.publishing import Publications

SERVICE = "decisions"


class PolicyChangeV1(BaseModel):
    """One setting changed: a dotted path into the city config (`rides.split`) and the value
    the config now holds there (as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str
    value: Any


class PolicyChangedV1(IntegrationEvent):
    """A passed decision changed policies: `version` (the file is 1) takes effect from
    `effective_from`. Apply the changes in version order to the city config file
    (kernel.policies.Policies does)."""

    type: Literal["decisions.PolicyChanged"] = "decisions.PolicyChanged"
    version: Literal[1] = 1
    # `version` names the envelope's major version (IntegrationEvent), so the policy's is this.
    policy_version: int
    decision_id: str
    changes: list[PolicyChangeV1]
    effective_from: datetime
    decided_at: datetime


class DecisionClosedV1(IntegrationEvent):
    """A vote closed: its counts, whether the quorum voted and whether it passed."""

    type: Literal["decisions.DecisionClosed"] = "decisions.DecisionClosed"
    version: Literal[1] = 1
    decision_id: str
    for_votes: int
    against: int
    abstain: int
    by_proxy: int
    quorum_reached: bool
    passed: bool
    policy_version: int | None
    closed_at: datetime


class DriverSuspendedV1(IntegrationEvent):
    """A board member suspended a driver (reason: a code, never free text). Rides should stop
    offering them rides and refuse them going on duty until `SuspensionLifted`."""

    type: Literal["decisions.DriverSuspended"] = "decisions.DriverSuspended"
    version: Literal[1] = 1
    driver_id: str
    decision_id: str
    suspended_by: str
    reason: str
    suspended_at: datetime


class SuspensionLiftedV1(IntegrationEvent):
    """A suspension ended: lifted on appeal (`appeal_id`) or by the board directly."""

    type: Literal["decisions.SuspensionLifted"] = "decisions.SuspensionLifted"
    version: Literal[1] = 1
    driver_id: str
    decision_id: str
    lifted_by: str
    appeal_id: str | None
    lifted_at: datetime


PUBLICATIONS = Publications(
    PolicyChangedV1,
    DecisionClosedV1,
    DriverSuspendedV1,
    SuspensionLiftedV1,
)
PUBLISHED = PUBLICATIONS.events
to_integration = PUBLICATIONS  # domain event -> what is published; most stay private


@PUBLICATIONS.maps
def _(event: PolicyHistory.Published) -> IntegrationEvent:
    return PolicyChangedV1(
        policy_version=event.version,
        decision_id=event.decision_id,
        changes=[PolicyChangeV1(**c) for c in event.changes],
        effective_from=event.effective_from,
        decided_at=event.decided_at,
    )


@PUBLICATIONS.maps
def _(event: Decision.Closed) -> IntegrationEvent:
    return DecisionClosedV1(
        decision_id=str(event.originator_id),
        for_votes=event.for_votes,
        against=event.against,
        abstain=event.abstain,
        by_proxy=event.by_proxy,
        quorum_reached=event.quorum_reached,
        passed=event.passed,
        policy_version=event.policy_version,
        closed_at=event.closed_at,
    )


@PUBLICATIONS.maps
def _(event: Suspension.Suspended) -> IntegrationEvent:
    return DriverSuspendedV1(
        driver_id=event.driver_id,
        decision_id=event.decision_id,
        suspended_by=event.by,
        reason=event.reason,
        suspended_at=event.at,
    )


@PUBLICATIONS.maps
def _(event: Suspension.Lifted) -> IntegrationEvent:
    return SuspensionLiftedV1(
        driver_id=event.driver_id,
        decision_id=event.decision_id,
        lifted_by=event.by,
        appeal_id=event.appeal_id,
        lifted_at=event.at,
    )
