"""Live subscriptions over a real WebSocket (uvicorn on a thread, graphql-transport-ws)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.sync.client import connect

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, past_clock
from tests.support.accounts import sign_up
from tests.support.serve import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

RIDE_UPDATES = """
subscription Watch($id: ID!) {
  rideUpdates(rideId: $id) { __typename ... on Problem { message } ... on RideNotFound { rideId } }
}"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, httpx.Client]]:
    with serving(create_app(SETTINGS, clock=past_clock())) as url, httpx.Client(base_url=url) as c:
        yield url, c


def watch(url: str, token: str, ride_id: str) -> list[dict[str, Any]]:
    """Open a socket signed in with `token`, subscribe to `ride_id`; the messages to complete."""
    with connect(
        url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        init = {"authorization": f"Bearer {token}"}
        ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        payload = {"query": RIDE_UPDATES, "variables": {"id": ride_id}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        got = []
        while not got or got[-1]["type"] != "complete":
            got.append(json.loads(ws.recv(timeout=10)))
        return got


def test_a_forged_token_is_refused_with_a_typed_answer(served: tuple[str, httpx.Client]) -> None:
    url, client = served
    token = sign_up(client, "Ada")["accessToken"]  # type: ignore[arg-type]
    head, _, signature = token.rpartition(".")
    got = watch(url, f"{head}.{signature[::-1]}", "00000000-0000-0000-0000-000000000001")
    answer = got[0]["payload"]["data"]["rideUpdates"]
    assert answer["__typename"] == "NotAuthenticated", answer
    assert [m["type"] for m in got] == ["next", "complete"]


def test_a_ride_the_caller_may_not_see_is_not_found(served: tuple[str, httpx.Client]) -> None:
    url, client = served
    token = sign_up(client, "Bram")["accessToken"]  # type: ignore[arg-type]
    got = watch(url, token, "00000000-0000-0000-0000-000000000001")
    answer = got[0]["payload"]["data"]["rideUpdates"]
    assert answer["__typename"] == "RideNotFound", answer
    assert [m["type"] for m in got] == ["next", "complete"]
