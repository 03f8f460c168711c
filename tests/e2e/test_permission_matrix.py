"""The permission matrix, walked whole: for every role, every query and mutation it must not reach
is called over HTTP with well-formed arguments and refused with a typed answer, changing nothing.

Arguments are made from the schema itself, so an operation added later is walked too; the
schema will not build at all if the operation has no entry in `kernel.permissions.MATRIX`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from gateway.schema import build_schema
from kernel.auth import ROLES, Identity, mint
from kernel.permissions import MATRIX
from tests.e2e.conftest import store_positions
from tests.support.graphql import post

if TYPE_CHECKING:
    from graphql import GraphQLArgument, GraphQLInputType
    from pydantic import SecretStr
    from starlette.testclient import TestClient

SCALARS: dict[str, Any] = {
    "ID": str(uuid.uuid4()),
    "String": "x",
    "Int": 1,
    "Float": 51.05,
    "Boolean": False,
    "Decimal": "1.00",
    "DateTime": "2030-01-01T00:00:00+00:00",
    "Date": "2030-01-01",
    "JSON": {},
}


def _value(kind: GraphQLInputType) -> Any:
    if isinstance(kind, GraphQLNonNull):
        return _value(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: _value(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType)
    return SCALARS[kind.name]


def _operations() -> list[tuple[str, str, dict[str, GraphQLArgument]]]:
    schema = build_schema()._schema
    found = []
    for root, kind in ((schema.query_type, "query"), (schema.mutation_type, "mutation")):
        assert root is not None
        found += [(kind, name, dict(field.args)) for name, field in root.fields.items()]
    return found


def _document(kind: str, name: str, args: dict[str, GraphQLArgument]) -> tuple[str, dict[str, Any]]:
    required = {a: arg for a, arg in args.items() if isinstance(arg.type, GraphQLNonNull)}
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    query = (
        f"{kind} Walk{'(' + declared + ')' if declared else ''} "
        f"{{ {name}{'(' + passed + ')' if passed else ''} {{ __typename }} }}"
    )
    return query, {a: _value(arg.type) for a, arg in required.items()}


def _key(client: TestClient) -> SecretStr:
    """The signing key this app was started with (in-memory stores get a random one)."""
    key = client.app.state.runtime.settings.jwt_secret  # type: ignore[attr-defined]
    assert key is not None
    return key  # type: ignore[no-any-return]


CALLERS = [None, *sorted(ROLES)]
CASES = [
    (role, kind, name, args)
    for kind, name, args in _operations()
    for role in CALLERS
    if MATRIX[name] and (role is None or role not in MATRIX[name])
]


def test_the_walk_covers_every_operation_that_needs_a_role() -> None:
    walked = {name for _, _, name, _ in CASES}
    needing = {name for _, name, _ in _operations() if MATRIX[name]}
    assert walked == needing
    assert len(needing) >= 10


@pytest.mark.parametrize(
    ("role", "kind", "name", "args"), CASES, ids=[f"{r}-{n}" for r, _, n, _ in CASES]
)
def test_a_role_outside_the_matrix_is_refused_with_a_typed_answer(
    role: str | None,
    kind: str,
    name: str,
    args: dict[str, GraphQLArgument],
    module_client: TestClient,
) -> None:
    client = module_client
    token = None
    if role is not None:
        member = f"demo:{uuid.uuid4()}"
        token = mint(Identity(member, "demo", frozenset({role})), _key(client))
    query, variables = _document(kind, name, args)
    before = store_positions(client)

    body = post(client, query, variables, token=token)

    assert "errors" not in body, body
    expected = "NotAuthenticated" if role is None else "NotAuthorized"
    assert body["data"][name]["__typename"] == expected
    assert store_positions(client) == before


def test_a_token_for_another_city_is_refused_everywhere(module_client: TestClient) -> None:
    every_role = frozenset(ROLES)
    token = mint(Identity(f"ghent:{uuid.uuid4()}", "ghent", every_role), _key(module_client))
    for kind, name, args in _operations():
        if not MATRIX[name]:
            continue
        query, variables = _document(kind, name, args)
        body = post(module_client, query, variables, token=token)
        assert body["data"][name]["__typename"] == "NotAuthenticated", (name, body)
