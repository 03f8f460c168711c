"""The merged GraphQL schema: every service's Query and Mutation in one."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from contributions.api import ContributionsQuery
from kernel.api import Conflict, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from services.members.api import MembersMutation, MembersQuery
from services.rides.api import RidesMutation, RidesQuery

Query = merge_types("Query", (MembersQuery, RidesQuery, ContributionsQuery))
Mutation = merge_types("Mutation", (MembersMutation, RidesMutation))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[NotAuthenticated, NotAuthorized, InvalidInput, NotFound, Conflict],
        # Parsing and validating the same documents again is most of strawberry's overhead.
        # Factories: the LRU caches themselves live at module level, shared by every request.
        extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
    )
