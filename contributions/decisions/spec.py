"""The decisions service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from contributions.decisions.api import DecisionsMutation, DecisionsQuery
from contributions.decisions.application import Decisions
from contributions.decisions.inbound import INBOUND
from contributions.decisions.published import PUBLISHED, to_integration
from kernel.service import ServiceSpec

SPEC = ServiceSpec(
    "decisions",
    Decisions,
    publishes=PUBLISHED,
    to_integration=to_integration,
    inbound=INBOUND,
    consumes=("members",),
    query=DecisionsQuery,
    mutation=DecisionsMutation,
)
