"""The members service, as the rest of Muni sees it (kernel.service.ServiceSpec)."""

from strawberry.tools import merge_types

from kernel.service import ServiceSpec
from services.members.accounts_api import AccountsMutation, AccountsQuery
from services.members.api import MembersQuery
from services.members.application import Members
from services.members.desk_api import MembersDeskMutation, MembersDeskQuery
from services.members.published import PUBLISHED, to_integration

SPEC = ServiceSpec(
    "members",
    Members,
    publishes=PUBLISHED,
    to_integration=to_integration,
    query=merge_types("MembersQuery", (MembersQuery, AccountsQuery, MembersDeskQuery)),
    mutation=merge_types("MembersMutation", (AccountsMutation, MembersDeskMutation)),
)
