"""The contributions service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from contributions.api import ContributionsQuery
from contributions.application import Contributions
from contributions.inbound import INBOUND
from kernel.service import ServiceSpec

SPEC = ServiceSpec(
    "contributions",
    Contributions,
    inbound=INBOUND,
    consumes=("rides",),
    query=ContributionsQuery,
)
