"""The members service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from kernel.service import ServiceSpec
from services.members.api import MembersMutation, MembersQuery
from services.members.application import Members
from services.members.published import PUBLISHED, to_integration

SPEC = ServiceSpec(
    "members",
    Members,
    publishes=PUBLISHED,
    to_integration=to_integration,
    query=MembersQuery,
    mutation=MembersMutation,
)
