"""The rides service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from decimal import Decimal

from kernel.service import ServiceSpec
from kernel.valueflows import Action, ContributionRule, ContributionType
from services.rides.api import RidesMutation, RidesQuery
from services.rides.application import Rides
from services.rides.published import PUBLISHED, to_integration

SPEC = ServiceSpec(
    "rides",
    Rides,
    publishes=PUBLISHED,
    to_integration=to_integration,
    query=RidesQuery,
    mutation=RidesMutation,
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
)
