"""The merged GraphQL schema: every service's Query and Mutation in one."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.tools import merge_types

from contributions.api import ContributionsQuery
from kernel.api import Conflict, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from services.members.api import MembersMutation, MembersQuery
from services.rides.api import RidesMutation, RidesQuery

Query = merge_types("Query", (MembersQuery, RidesQuery, ContributionsQuery))
Mutation = merge_types("Mutation", (MembersMutation, RidesMutation))


def _unexpected(error: GraphQLError) -> bool:
    """Mask errors raised by our code; keep the parser's and validator's, which help clients."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[NotAuthenticated, NotAuthorized, InvalidInput, NotFound, Conflict],
        # Parsing and validating the same documents again is most of strawberry's overhead.
        # Factories: the LRU caches themselves live at module level, shared by every request.
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            # A public API: refuse pathological nesting, and never show a client the text of an
            # unexpected exception (expected problems are typed union members, not errors).
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaskErrors(should_mask_error=_unexpected),
        ],
    )
