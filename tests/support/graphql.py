"""A tiny GraphQL-over-HTTP helper for e2e tests, on Starlette's TestClient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def post(
    client: TestClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a query; return the whole JSON body (for tests that expect GraphQL errors)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def gql(
    client: TestClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a query, assert GraphQL reported no errors, and return `data`."""
    body = post(client, query, variables, token=token, headers=headers)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data
