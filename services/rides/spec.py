"""The rides service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from kernel.service import ServiceSpec
from services.rides.api import RidesMutation, RidesQuery
from services.rides.application import Rides
from services.rides.matcher import BatchRunner
from services.rides.published import PUBLISHED, to_integration

SPEC = ServiceSpec(
    "rides",
    Rides,
    publishes=PUBLISHED,
    to_integration=to_integration,
    query=RidesQuery,
    mutation=RidesMutation,
    jobs=(("rides-batch", BatchRunner),),
)
