"""The rides service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from decimal import Decimal

from strawberry.tools import merge_types

from kernel.service import ServiceSpec
from kernel.valueflows import Action, ContributionRule, ContributionType
from services.rides.api import RidesMutation, RidesQuery, RidesSubscription
from services.rides.api.scheduling import ScheduledRidesMutation, ScheduledRidesQuery
from services.rides.application import Rides
from services.rides.inbound import INBOUND
from services.rides.matcher import BatchRunner
from services.rides.published import PUBLISHED, to_integration

SPEC = ServiceSpec(
    "rides",
    Rides,
    publishes=PUBLISHED,
    to_integration=to_integration,
    # Policy versions (kept by the PolicyLog read model) and drivers' standing (a suspended
    # driver is taken off duty): services/rides/inbound.py.
    inbound=INBOUND,
    consumes=("decisions",),
    # Scheduled rides (services/rides/scheduling) add their own root fields.
    query=merge_types("RidesQuery", (RidesQuery, ScheduledRidesQuery)),
    mutation=merge_types("RidesMutation", (RidesMutation, ScheduledRidesMutation)),
    contribution_rules=(
        # A driver's time from acceptance to drop-off, credited as hours of driving work.
        ContributionRule(
            "rides.RideCompleted",
            1,
            ContributionType(Action.WORK, "driving", "HOUR"),
            provider="driver_id",
            quantity="driver_minutes",
            per=Decimal(60),
            purpose="driving-hours",
            account="hours:driving",
        ),
    ),
    subscription=RidesSubscription,
    jobs=(("rides-batch", BatchRunner),),
)
