"""The contributions service, as the rest of Muni sees it (kernel.service.ServiceSpec).

It reads every event a service's contribution rules name: gateway/services.py applies
`contributions.crediting.with_contribution_rules` to the list of specs.
"""

from strawberry.tools import merge_types

from contributions.api import ContributionsQuery
from contributions.application import Contributions
from contributions.inbound import INBOUND
from contributions.value_api import ValueAccountingMutation, ValueAccountingQuery
from kernel.service import ServiceSpec

SPEC = ServiceSpec(
    "contributions",
    Contributions,
    inbound=INBOUND,
    consumes=("rides", "decisions"),
    query=merge_types("ContributionsQueries", (ContributionsQuery, ValueAccountingQuery)),
    mutation=ValueAccountingMutation,
)
