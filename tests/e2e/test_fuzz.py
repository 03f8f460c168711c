"""Every query and mutation fed input generated from the schema (hypothesis-graphql), without a
token and with a member's, a driver's, a dispatcher's and a board member's: no server error, no
unmasked internal error, nothing of the implementation in any answer, and a refused document
changes no store.

Bounded: a fixed number of examples per mode (derandomized, so CI runs the same ones), about
half a minute in all.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import TYPE_CHECKING, Any

import hypothesis_graphql as hg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.schema import build_schema
from tests.e2e.conftest import SETTINGS, driver, join, past_clock, store_positions, token_with

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

# What an answer must never contain: Python, SQL, library and file names.
LEAKS = (
    "Traceback",
    'File "',
    "Error:",
    "Exception",
    "SELECT ",
    "INSERT ",
    "sqlite",
    "psycopg",
    "eventsourcing",
    "pydantic",
    "strawberry",
    ".py",
    "Unexpected error.",
)
GRAPHQL = build_schema()._schema
# Input scalars hypothesis-graphql cannot make itself, written as GraphQL literals: a policy
# change's value (any JSON), a service day, and times (`effectiveFrom`, a pickup window's ends),
# with or without an offset, and one that is not a time at all.
SCALARS = {
    "JSON": st.one_of(
        st.integers(-1000, 1000).map(nodes.Int), st.text(max_size=20).map(nodes.String)
    ),
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
    # An exact amount or quantity as a string (a surplus, a weight, hours): numbers and not.
    "Decimal": st.sampled_from(["0", "1.5", "-3", "1e9", "12.345", "not a number"]).map(
        nodes.String
    ),
    "DateTime": st.one_of(
        st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda t: t.isoformat()),
        st.just("not a time"),
    ).map(nodes.String),
}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    # caplog is cleared before every example (check()).
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[TestClient, dict[str, str | None]]]:
    # Rate limits off: they would turn most generated mutations into RateLimited answers.
    no_limits = SETTINGS.with_(gateway=SETTINGS.gateway.with_(rate_limits=False))
    with TestClient(create_app(no_limits, clock=past_clock())) as client:
        member_id, member = join(client, "Ada")
        _, drv = driver(client, "Bram")
        tokens = {
            "none": None,
            "member": member,
            "driver": drv,
            "dispatcher": token_with(client, member_id, "dispatcher"),
            "board": token_with(client, member_id, "board"),
        }
        yield client, tokens


def check(client: TestClient, query: str, token: str | None, caplog: Any) -> None:
    before = store_positions(client)
    caplog.clear()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code < 500, (query, response.text)
    for leak in LEAKS:
        assert leak not in response.text, (leak, query, response.text)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], (query, [r.getMessage() for r in errors])
    body = response.json()
    if response.status_code != 200 or body.get("data") is None:
        assert store_positions(client) == before, query  # refused: nothing changed


@FUZZ
@given(
    query=hg.from_schema(GRAPHQL, custom_scalars=SCALARS),
    who=st.sampled_from(["none", "member", "driver", "board"]),
)
def test_generated_valid_documents_never_fail_the_server(
    fuzzed: tuple[TestClient, dict[str, str | None]],
    caplog: pytest.LogCaptureFixture,
    query: str,
    who: str,
) -> None:
    client, tokens = fuzzed
    with caplog.at_level(logging.INFO):
        check(client, query, tokens[who], caplog)


@FUZZ
@given(
    query=hg.from_schema(GRAPHQL, mode=hg.Mode.NEGATIVE, custom_scalars=SCALARS),
    who=st.sampled_from(["none", "member", "dispatcher"]),
)
def test_generated_invalid_documents_are_refused_as_client_errors(
    fuzzed: tuple[TestClient, dict[str, str | None]],
    caplog: pytest.LogCaptureFixture,
    query: str,
    who: str,
) -> None:
    client, tokens = fuzzed
    with caplog.at_level(logging.INFO):
        check(client, query, tokens[who], caplog)
