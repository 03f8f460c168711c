"""The merged GraphQL schema: every service's Query and Mutation in one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.extensions import AddValidationRules, MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from gateway import documents
from gateway.errors import MuniSchema, is_unexpected
from gateway.guard import RootGuard
from gateway.limits import LIMITS, RateLimited, admit_rate_limited
from gateway.parked import ParkedQuery
from gateway.privacy import PrivacyMutation, PrivacyQuery
from gateway.services import SPECS
from kernel.api import Conflict, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from kernel.config import Settings
from kernel.permissions import guard_root_fields
from kernel.streams import TooManySubscriptions

if TYPE_CHECKING:
    import strawberry

# The services' roots, then the gateway's own (what spans services: a member's data, erasure).
Query = merge_types(
    "Query", (*(s.query for s in SPECS if s.query is not None), PrivacyQuery, ParkedQuery)
)
Mutation = merge_types(
    "Mutation", (*(s.mutation for s in SPECS if s.mutation is not None), PrivacyMutation)
)
# Live subscriptions over WebSocket (graphql-transport-ws on /graphql, gateway/app.py).
_SUBSCRIPTIONS = tuple(s.subscription for s in SPECS if s.subscription is not None)
Subscription = merge_types("Subscription", _SUBSCRIPTIONS) if _SUBSCRIPTIONS else None
SERVICE_TYPES = [t for s in SPECS for t in s.graphql_types]


# A public API refuses pathological nesting (and too many aliases, root fields and tokens:
# gateway/documents.py, from the settings). The rule classes are made once per schema:
# QueryDepthLimiter makes a new class per request, which changes the ValidationCache key
# (schema, document, rules) every time, so every request was validated afresh
# (bench/graphql_throughput.py: 320 -> see bench/README.md req/s for a fare quote).
MAX_QUERY_DEPTH = 12


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with the edge's limits for `settings` (default: production's)."""
    # Every root field is guarded from the one permission matrix; a field without an entry
    # stops the gateway here, at start-up, not at the first call.
    guard_root_fields([Query, Mutation, *([Subscription] if Subscription else [])])
    gateway = (settings or Settings()).gateway
    rules = documents.rules(gateway, max_depth=MAX_QUERY_DEPTH)
    schema = MuniSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            NotAuthenticated,
            NotAuthorized,
            InvalidInput,
            NotFound,
            Conflict,
            RateLimited,
            TooManySubscriptions,
            *SERVICE_TYPES,
        ],
        config=StrawberryConfig(disable_field_suggestions=not gateway.field_suggestions_on),
        # Parsing and validating the same documents again is most of strawberry's overhead.
        # Factories: the LRU caches themselves live at module level, shared by every request.
        extensions=[
            lambda: documents.tokens(gateway),
            lambda: ParserCache(maxsize=256),
            documents.OneOperation,
            lambda: ValidationCache(maxsize=256),
            lambda: AddValidationRules(rules),
            # Never show a client the text of an unexpected exception (expected problems are
            # typed union members, not errors; gateway/errors.py).
            lambda: MaskErrors(should_mask_error=is_unexpected),
            RootGuard,
        ],
    )
    admit_rate_limited(schema, LIMITS)
    return schema
