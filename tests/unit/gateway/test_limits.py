"""The rate limiter as other mutations will meet it: a name in the table, a union that gains
`RateLimited`, counts per address and per account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
import strawberry

from gateway.guard import EDGE, Edge, RootGuard
from gateway.limits import Limit, RateLimited, RateLimiter, admit_rate_limited
from kernel.api import InvalidInput


@strawberry.type
class SignedIn:
    session: str


SignInResult = Annotated[SignedIn | InvalidInput, strawberry.union("SignInResult")]


@strawberry.input
class SignInInput:
    email: str
    password: str


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def sign_in(self, input: SignInInput) -> SignInResult:
        return SignedIn(session=f"s-{input.email}")

    @strawberry.mutation
    def other(self) -> SignInResult:  # shares the union, not limited
        return SignedIn(session="x")

    @strawberry.mutation
    def plain(self) -> str:
        return "plain"


@dataclass
class FakeIdentity:
    member_id: str


@dataclass
class RequestContext:
    """What the gateway's Context offers the guard: extras and an identity."""

    extras: dict[str, Any] = field(default_factory=dict)
    identity: FakeIdentity | None = None


SIGN_IN = """
mutation($email: String!) { signIn(input: {email: $email, password: "pw"}) {
  __typename ... on RateLimited { retryAfterSeconds message } } }"""


def schema_with(limits: dict[str, Limit]) -> tuple[strawberry.Schema, RateLimiter]:
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, types=[RateLimited], extensions=[RootGuard]
    )
    admit_rate_limited(schema, limits)
    return schema, RateLimiter(limits)


def sign_in(
    schema: strawberry.Schema,
    limiter: RateLimiter,
    email: str,
    *,
    address: str = "10.0.0.1",
    member: str | None = None,
) -> dict[str, Any]:
    context = RequestContext(
        {EDGE: Edge(address, limiter, None)}, FakeIdentity(member) if member else None
    )
    result = schema.execute_sync(SIGN_IN, {"email": email}, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    answer: dict[str, Any] = result.data["signIn"]
    return answer


def test_a_limited_mutation_answers_rate_limited_past_its_limit_per_account() -> None:
    schema, limiter = schema_with(
        {"signIn": Limit(per_account="3/minute", account_args=("input.email",))}
    )
    kinds = [sign_in(schema, limiter, "Ada@Example.org")["__typename"] for _ in range(3)]
    refused = sign_in(schema, limiter, "ada@example.org ")  # the same account, spelled else
    assert kinds == ["SignedIn"] * 3
    assert refused["__typename"] == "RateLimited"
    assert 1 <= refused["retryAfterSeconds"] <= 60
    assert "at most 3 per 1 minute" in refused["message"]
    assert sign_in(schema, limiter, "bram@example.org")["__typename"] == "SignedIn"


def test_a_token_names_the_account_before_any_argument() -> None:
    schema, limiter = schema_with({"signIn": Limit(per_account="1/minute")})
    assert sign_in(schema, limiter, "a@x", member="demo:1")["__typename"] == "SignedIn"
    assert sign_in(schema, limiter, "b@x", member="demo:1")["__typename"] == "RateLimited"
    assert sign_in(schema, limiter, "c@x", member="demo:2")["__typename"] == "SignedIn"


def test_per_address_limits_count_every_account_from_that_address() -> None:
    schema, limiter = schema_with({"signIn": Limit(per_address="2/minute")})
    assert sign_in(schema, limiter, "a@x")["__typename"] == "SignedIn"
    assert sign_in(schema, limiter, "b@x")["__typename"] == "SignedIn"
    assert sign_in(schema, limiter, "c@x")["__typename"] == "RateLimited"
    assert sign_in(schema, limiter, "c@x", address="10.0.0.2")["__typename"] == "SignedIn"


def test_a_refused_call_uses_up_nothing() -> None:
    # Per account 1, per address 2: the refused second call of account a must not count
    # against the address, so b still gets in.
    schema, limiter = schema_with(
        {
            "signIn": Limit(
                per_address="2/minute", per_account="1/minute", account_args=("input.email",)
            )
        }
    )
    assert sign_in(schema, limiter, "a@x")["__typename"] == "SignedIn"
    assert sign_in(schema, limiter, "a@x")["__typename"] == "RateLimited"
    assert sign_in(schema, limiter, "b@x")["__typename"] == "SignedIn"


def test_the_union_gains_rate_limited_once_for_every_field_that_shares_it() -> None:
    schema, _ = schema_with({"signIn": Limit(per_address="1/minute"), "signUp": Limit()})
    sdl = schema.as_str()
    assert "union SignInResult = SignedIn | InvalidInput | RateLimited" in sdl
    assert "type RateLimited implements Problem" in sdl
    # Applying the table again (a second app in one process) adds nothing twice.
    assert admit_rate_limited(schema, ["signIn"]) == ["signIn"]
    assert schema.as_str().count("| RateLimited") == 1


def test_a_limited_field_that_returns_no_union_is_refused_at_build_time() -> None:
    schema = strawberry.Schema(query=Query, mutation=Mutation, types=[RateLimited])
    with pytest.raises(TypeError, match=r"Mutation.plain is rate-limited .* must return a union"):
        admit_rate_limited(schema, ["plain"])


def test_names_not_in_the_schema_yet_are_skipped() -> None:
    schema = strawberry.Schema(query=Query, mutation=Mutation, types=[RateLimited])
    assert admit_rate_limited(schema, ["signIn", "refreshToken", "issueSignInCode"]) == ["signIn"]
