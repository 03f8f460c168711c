"""The merged GraphQL schema: every service's Query and Mutation in one."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaskErrors, ParserCache, ValidationCache
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.tools import merge_types

from contributions.api import ContributionsQuery
from kernel.api import Conflict, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from kernel.permissions import guard_root_fields
from services.members.accounts_api import AccountsMutation, AccountsQuery
from services.members.api import MembersQuery
from services.rides.api import RidesMutation, RidesQuery

Query = merge_types("Query", (MembersQuery, AccountsQuery, RidesQuery, ContributionsQuery))
Mutation = merge_types("Mutation", (AccountsMutation, RidesMutation))


# A public API refuses pathological nesting. The rule class is made once: QueryDepthLimiter
# makes a new class per request, which changes the ValidationCache key (schema, document,
# rules) every time, so every request was validated afresh (bench/graphql_throughput.py:
# 320 -> see bench/README.md req/s for a fare quote).
MAX_QUERY_DEPTH = 12
_DEPTH_RULE = create_validator(MAX_QUERY_DEPTH, should_ignore=None)


def _unexpected(error: GraphQLError) -> bool:
    """Mask errors raised by our code; keep the parser's and validator's, which help clients."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


def build_schema() -> strawberry.Schema:
    # Every root field is guarded from the one permission matrix; a field without an entry
    # stops the gateway here, at start-up, not at the first call.
    guard_root_fields([Query, Mutation])
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[NotAuthenticated, NotAuthorized, InvalidInput, NotFound, Conflict],
        # Parsing and validating the same documents again is most of strawberry's overhead.
        # Factories: the LRU caches themselves live at module level, shared by every request.
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: AddValidationRules([_DEPTH_RULE]),
            # Never show a client the text of an unexpected exception (expected problems are
            # typed union members, not errors).
            lambda: MaskErrors(should_mask_error=_unexpected),
        ],
    )
