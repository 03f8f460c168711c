"""Rate limits on the operations a hostile client would repeat: signing up, signing in, asking
for sign-in codes, booking. One table, by operation (root field) name, in this module.

To limit a new mutation, add its GraphQL name to `LIMITS`:

    "reserveStay": Limit(per_account="10/minute", per_address="60/minute"),

The gateway then (1) adds `RateLimited` to the mutation's result union, so the schema says it
can be answered, and (2) answers `RateLimited { message retryAfterSeconds }` instead of calling
the resolver when a limit is reached. Nothing else changes in the service. A limited field must
return a union (the house style for every mutation); names not in the schema are skipped, so a
limit can be written before its mutation lands.

Counts are kept by the `limits` library (moving windows) in memory per gateway process, or in a
shared store given by `MUNI_RATE_LIMIT_STORAGE` (redis://...) so replicas share them.
`MUNI_RATE_LIMITS=off` turns them off (benchmarks that book thousands of rides).

"Per address" is the client's IP address as the ASGI server reports it; behind a reverse proxy,
run uvicorn with `--forwarded-allow-ips <proxy>` so that is the client, not the proxy. "Per
account" is the caller's member id when a token is sent, else the first of `account_args` the
call carries (the e-mail or phone number a sign-in names), lower-cased.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLUnionType
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kernel.api import Problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from limits import RateLimitItem

# Where a sign-in names its account, tried in order (GraphQL argument paths).
SIGN_IN_ACCOUNT = ("email", "phone", "login", "input.email", "input.phone", "input.login")


@dataclass(frozen=True)
class Limit:
    """At most so many calls per window, in the `limits` notation ("5/minute;30/hour")."""

    per_address: str | None = None
    per_account: str | None = None
    account_args: tuple[str, ...] = ()


LIMITS: dict[str, Limit] = {
    # Joining makes a member: a library or a shelter may sign several people up from one
    # address, a script must not make hundreds.
    "signUp": Limit(per_address="10/minute;50/hour"),
    # Password guessing: few tries per account wherever they come from, more per address
    # (many members behind one address).
    "signIn": Limit(
        per_address="30/minute", per_account="5/minute;30/hour", account_args=SIGN_IN_ACCOUNT
    ),
    "requestSignInCode": Limit(
        per_address="10/minute", per_account="3/10 minutes", account_args=SIGN_IN_ACCOUNT
    ),
    # A dispatcher hands codes out over the phone all day: a generous cap, per dispatcher.
    "issueSignInCode": Limit(per_address="60/minute", per_account="30/minute"),
    "refreshToken": Limit(per_address="120/minute", per_account="30/minute"),
    "signOut": Limit(per_address="120/minute", per_account="30/minute"),
    # A dispatcher books for many callers; a rider books a few rides an hour.
    "requestRide": Limit(per_address="120/minute", per_account="30/minute"),
    # Each search asks the city's geocoder (another site, with its own usage policy).
    "geocode": Limit(per_address="120/minute", per_account="30/minute"),
}


@strawberry.type(
    description=(
        "Too many attempts of this operation: try again in `retryAfterSeconds`. "
        "Nothing was changed."
    )
)
class RateLimited(Problem):
    retry_after_seconds: int


class RateLimiter:
    """Counts calls of the limited operations and refuses those over a limit."""

    def __init__(self, limits: Mapping[str, Limit], storage_uri: str = "memory://") -> None:
        self._items: dict[str, list[tuple[str, list[RateLimitItem], tuple[str, ...]]]] = {}
        for name, limit in limits.items():
            scopes: list[tuple[str, list[RateLimitItem], tuple[str, ...]]] = []
            if limit.per_address:
                scopes.append(("address", parse_many(limit.per_address), ()))
            if limit.per_account:
                scopes.append(("account", parse_many(limit.per_account), limit.account_args))
            self._items[name] = scopes
        self._storage = storage_from_string(storage_uri)
        self._strategy = MovingWindowRateLimiter(self._storage)

    def limits(self, operation: str) -> bool:
        return operation in self._items

    def check(
        self,
        operation: str,
        *,
        address: str | None,
        member: str | None,
        arguments: Mapping[str, Any],
    ) -> RateLimited | None:
        """Count one call; the refusal if it is over a limit (then it is not counted)."""
        keys: list[tuple[str, RateLimitItem]] = []
        for scope, items, account_args in self._items.get(operation, ()):
            key = address if scope == "address" else member or _argument(arguments, account_args)
            if key:
                keys.extend((f"{scope}:{key}", item) for item in items)
        # Test every window before counting any, so a refused call uses up nothing.
        for key, item in keys:
            if not self._strategy.test(item, operation, key):
                reset_at, _ = self._strategy.get_window_stats(item, operation, key)
                wait = max(1, math.ceil(reset_at - time.time()))
                return RateLimited(
                    message=(
                        f"too many {operation} calls from this "
                        f"{key.split(':', 1)[0]}: at most {item}; try again in {wait} s"
                    ),
                    retry_after_seconds=wait,
                )
        for key, item in keys:
            self._strategy.hit(item, operation, key)
        return None

    def reset(self) -> None:
        self._storage.reset()


def _argument(arguments: Mapping[str, Any], paths: Iterable[str]) -> str | None:
    for path in paths:
        value: Any = arguments
        for part in path.split("."):
            value = _get(value, part)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None


def _get(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def admit_rate_limited(schema: strawberry.Schema, names: Iterable[str]) -> list[str]:
    """Add `RateLimited` to the result union of each named root field; return the names found.

    The schema must already know `RateLimited` (pass it in `types=`). Strawberry builds one
    GraphQL union per name, so a union shared by several fields (`RideResult`) gains the member
    for all of them: clients see one `RideResult`, as before, with one more possible answer.
    """
    graphql = schema._schema
    member = graphql.type_map["RateLimited"]
    assert isinstance(member, GraphQLObjectType)  # noqa: S101 (RateLimited is a strawberry type)
    found = []
    for root in (graphql.query_type, graphql.mutation_type):
        if root is None:
            continue
        for name in names:
            field = root.fields.get(name)
            if field is None:
                continue
            union = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not isinstance(union, GraphQLUnionType):
                raise TypeError(
                    f"{root.name}.{name} is rate-limited (gateway/limits.py) and must return a "
                    f"union so it can answer RateLimited; it returns {field.type}"
                )
            if member not in union.types:
                # `types` is a cached property of graphql-core's union: set the cached value.
                union.types = (*union.types, member)
            found.append(name)
    graphql._sub_type_map.clear()  # graphql-core caches union membership lazily
    return found
