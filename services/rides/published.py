"""What leaves the rides context: versioned integration events on `<city>.rides.events.v1`.

Deliberately fewer and flatter than the domain events (money goes out as an amount beside its
currency, as version 1 always did). Known consumers: contributions (which ignores incidents:
a safety matter, not a contribution).
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from decimal import Decimal  # noqa: TC003
from typing import Literal
from uuid import UUID  # noqa: TC003

from pydantic import Field

from kernel.events import IntegrationEvent
from kernel.publishing import Publications
from services.rides.domain import Ride  # noqa: TC001 (the mappings dispatch on them)
from services.rides.incidents import Incident  # noqa: TC001

SERVICE = "rides"
MAJOR_VERSION = 1


class RideRequestedV1(IntegrationEvent):
    """A member (or a dispatcher for them) requested a ride."""

    type: Literal["rides.RideRequested"] = "rides.RideRequested"
    version: Literal[1] = 1
    ride_id: UUID
    rider_id: str
    booked_by: str | None
    seats: int
    wheelchair: bool
    distance_km: Decimal
    quote: Decimal
    currency: str
    requested_at: datetime


class RideCompletedV1(IntegrationEvent):
    """A ride ended at its drop-off. `split` sums exactly to `fare`.

    `driver_minutes` is the driver's working time for this ride, from acceptance to drop-off:
    contributions credits it as hours driven.
    """

    type: Literal["rides.RideCompleted"] = "rides.RideCompleted"
    version: Literal[1] = 1
    ride_id: UUID
    rider_id: str
    driver_id: str
    distance_km: Decimal
    riding_minutes: Decimal
    driver_minutes: Decimal
    fare: Decimal
    currency: str
    split: dict[str, Decimal]
    completed_at: datetime
    # Added within v1 (readers ignore what they do not know): what the fare is made of, the
    # rule and its version, and who pays it: the rider, and the common fund for a solidarity
    # fare (rider_pays + common_fund_pays = fare).
    breakdown: dict[str, Decimal] = Field(default_factory=dict)
    rule: str = ""
    rules_version: str = ""
    rider_pays: Decimal | None = None
    common_fund_pays: Decimal | None = None
    # Added within v1: the city's policy version (kernel.policies) whose fares and split priced
    # the ride; None for rides completed before it was recorded.
    policy_version: int | None = None


class RideFeeChargedV1(IntegrationEvent):
    """A rider owes a fee for a late cancellation or a no-show; `split` sums exactly to
    `amount`; `rule` says which of the city's rules applied (and its version)."""

    type: Literal["rides.RideFeeCharged"] = "rides.RideFeeCharged"
    version: Literal[1] = 1
    ride_id: UUID
    rider_id: str
    driver_id: str | None
    kind: str
    amount: Decimal
    currency: str
    split: dict[str, Decimal]
    rule: str
    charged_at: datetime


class RideCancelledV1(IntegrationEvent):
    """A ride cancelled, and by whom. `reason` stays in v1 for its readers but is always empty:
    what the member wrote is personal data, kept in their vault, never published."""

    type: Literal["rides.RideCancelled"] = "rides.RideCancelled"
    version: Literal[1] = 1
    ride_id: UUID
    rider_id: str
    cancelled_by: str
    reason: str
    cancelled_at: datetime


class IncidentReportedV1(IntegrationEvent):
    """An incident on a ride (breakdown, accident, complaint, lost_property), for the safety
    team. `reporter_role` is rider or driver; `recorded_by` the dispatcher who took it down for
    them, if one did. What was said is personal data: never published."""

    type: Literal["rides.IncidentReported"] = "rides.IncidentReported"
    version: Literal[1] = 1
    incident_id: UUID
    ride_id: UUID
    kind: str
    reported_by: str
    reporter_role: str
    recorded_by: str | None
    reported_at: datetime


class IncidentResolvedV1(IntegrationEvent):
    """The safety team resolved an incident: action_taken, no_action, returned or referred."""

    type: Literal["rides.IncidentResolved"] = "rides.IncidentResolved"
    version: Literal[1] = 1
    incident_id: UUID
    ride_id: UUID
    outcome: str
    resolved_by: str
    resolved_at: datetime


# The events this service publishes, and the one mapping to them (kernel.publishing): a
# mapping to an event not declared here raises instead of being published.
PUBLICATIONS = Publications(
    RideRequestedV1,
    RideCompletedV1,
    RideCancelledV1,
    RideFeeChargedV1,
    IncidentReportedV1,
    IncidentResolvedV1,
)
PUBLISHED = PUBLICATIONS.events
to_integration = PUBLICATIONS


@PUBLICATIONS.maps
def _(event: Ride.Requested) -> IntegrationEvent:
    return RideRequestedV1(
        ride_id=event.originator_id,
        rider_id=event.rider_id,
        booked_by=event.booked_by,
        seats=event.seats,
        wheelchair=event.wheelchair,
        distance_km=event.distance_km,
        quote=event.quote.amount,
        currency=event.quote.currency,
        requested_at=event.requested_at,
    )


@PUBLICATIONS.maps
def _(event: Ride.Completed) -> IntegrationEvent:
    return RideCompletedV1(
        ride_id=event.originator_id,
        rider_id=event.rider_id,
        driver_id=event.driver_id,
        distance_km=event.distance_km,
        riding_minutes=event.riding_minutes,
        driver_minutes=event.driver_minutes,
        fare=event.fare.amount,
        currency=event.fare.currency,
        split={part: money.amount for part, money in event.split.items()},
        completed_at=event.at,
        breakdown={part: money.amount for part, money in event.breakdown.items()},
        rule=event.rule,
        rules_version=event.rules_version,
        rider_pays=(event.fare - event.common_fund_pays).amount,
        common_fund_pays=event.common_fund_pays.amount,
        policy_version=event.policy_version,
    )


@PUBLICATIONS.maps
def _(event: Ride.Charged) -> IntegrationEvent | None:
    if event.amount.amount == 0:
        return None  # a free cancellation: the ride's own record names the rule; nothing owed
    return RideFeeChargedV1(
        ride_id=event.originator_id,
        rider_id=event.rider_id,
        driver_id=event.driver_id,
        kind=event.kind,
        amount=event.amount.amount,
        currency=event.amount.currency,
        split={part: money.amount for part, money in event.split.items()},
        rule=event.rule,
        charged_at=event.at,
    )


@PUBLICATIONS.maps
def _(event: Ride.Cancelled) -> IntegrationEvent:
    return RideCancelledV1(
        ride_id=event.originator_id,
        rider_id=event.rider_id,
        cancelled_by=event.by,
        reason="",  # stored events written before the vault may still hold words: not sent
        cancelled_at=event.at,
    )


@PUBLICATIONS.maps
def _(event: Incident.Reported) -> IntegrationEvent:
    return IncidentReportedV1(
        incident_id=event.originator_id,
        ride_id=event.ride_id,
        kind=event.kind.value,
        reported_by=event.reported_by,
        reporter_role=event.reporter_role.value,
        recorded_by=event.recorded_by,
        reported_at=event.at,
    )


@PUBLICATIONS.maps
def _(event: Incident.Resolved) -> IntegrationEvent:
    return IncidentResolvedV1(
        incident_id=event.originator_id,
        ride_id=event.ride_id,
        outcome=event.outcome.value,
        resolved_by=event.by,
        resolved_at=event.at,
    )
