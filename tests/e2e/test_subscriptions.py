"""Live subscriptions over a real WebSocket (uvicorn on a thread, graphql-transport-ws)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from gateway.app import create_app
from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    PICK_UP,
    SETTINGS,
    driver,
    past_clock,
    request_ride,
    ride_command,
    run_batch,
)
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
    app = create_app(SETTINGS, clock=past_clock())
    with serving(app) as url, httpx.Client(base_url=url) as c:
        c.app = app  # type: ignore[attr-defined]  # the helpers grant roles as the operator
        yield url, c


@contextlib.contextmanager
def socket(url: str, token: str) -> Iterator[ClientConnection]:
    """A socket signed in with `token` in the connection_init payload, acknowledged."""
    protocol = Subprotocol("graphql-transport-ws")
    with connect(url.replace("http", "ws") + "/graphql", subprotocols=[protocol]) as ws:
        yield _init(ws, token)


def _init(ws: ClientConnection, token: str) -> ClientConnection:
    ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    return ws


def watch(url: str, token: str, ride_id: str) -> list[dict[str, Any]]:
    """Open a socket signed in with `token`, subscribe to `ride_id`; the messages to complete."""
    with socket(url, token) as ws:
        payload = {"query": RIDE_UPDATES, "variables": {"id": ride_id}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        got: list[dict[str, Any]] = []
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


LIVE = """
subscription Watch($id: ID!) {
  rideUpdates(rideId: $id) {
    __typename ... on Problem { message }
    ... on RideUpdate { final pickupMinutes driverPosition { lat lon } ride { state driverId } }
  }
}"""


def test_a_rider_sees_the_ride_move_live_while_the_driver_acts(
    served: tuple[str, httpx.Client],
) -> None:
    url, client = served
    rider = sign_up(client, "Cas")  # type: ignore[arg-type]
    ride = request_ride(client, rider["accessToken"])  # type: ignore[arg-type]
    assert ride["state"] == "WAITING", ride
    states: list[str] = []
    with socket(url, rider["accessToken"]) as ws:
        payload = {"query": LIVE, "variables": {"id": ride["id"]}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

        def update() -> dict[str, Any]:
            message = json.loads(ws.recv(timeout=10))
            assert message["type"] == "next", message
            answer: dict[str, Any] = message["payload"]["data"]["rideUpdates"]
            assert answer["__typename"] == "RideUpdate", answer
            states.append(answer["ride"]["state"])
            return answer

        assert update()["ride"]["state"] == "WAITING"
        _, token = driver(client, "Dirk")  # type: ignore[arg-type]
        run_batch(client)  # type: ignore[arg-type]  # the next batch window offers it to Dirk
        assert update()["ride"]["state"] == "OFFERED"
        for command, state in (
            (ACCEPT, "ACCEPTED"),
            (PICK_UP, "PICKED_UP"),
            (DROP_OFF, "COMPLETED"),
        ):
            ride_command(client, command, ride["id"], token)  # type: ignore[arg-type]
            seen = update()
            assert seen["ride"]["state"] == state, seen
            if state == "ACCEPTED":
                assert seen["driverPosition"] is not None
                assert seen["pickupMinutes"] is not None
        assert seen["final"] is True
        assert json.loads(ws.recv(timeout=10))["type"] == "complete"
    assert states == ["WAITING", "OFFERED", "ACCEPTED", "PICKED_UP", "COMPLETED"]


def test_the_cap_refuses_with_a_typed_answer_and_others_carry_on() -> None:
    edge = replace(SETTINGS.gateway, subscriptions_per_member=3, subscriptions_per_connection=2)
    app = create_app(replace(SETTINGS, gateway=edge), clock=past_clock())
    with serving(app) as url, httpx.Client(base_url=url) as client:
        client.app = app  # type: ignore[attr-defined]
        rider = sign_up(client, "Eva")  # type: ignore[arg-type]
        ride = request_ride(client, rider["accessToken"])  # type: ignore[arg-type]
        payload = {"query": LIVE, "variables": {"id": ride["id"]}}

        def first(ws: ClientConnection, n: str) -> dict[str, Any]:
            ws.send(json.dumps({"id": n, "type": "subscribe", "payload": payload}))
            message = json.loads(ws.recv(timeout=10))
            assert message["id"] == n, message
            found: dict[str, Any] = message["payload"]["data"]["rideUpdates"]
            return found

        with socket(url, rider["accessToken"]) as a, socket(url, rider["accessToken"]) as b:
            assert first(a, "1")["__typename"] == "RideUpdate"
            assert first(a, "2")["__typename"] == "RideUpdate"
            refused = first(a, "3")
            assert refused["__typename"] == "TooManySubscriptions", refused
            assert "connection" in refused["message"]
            assert first(b, "1")["__typename"] == "RideUpdate"  # the member's third
            refused = first(b, "2")
            assert refused["__typename"] == "TooManySubscriptions", refused
            assert "member" in refused["message"]
            # The held ones still move.
            driver(client, "Finn")  # type: ignore[arg-type]
            run_batch(client)  # type: ignore[arg-type]
            for ws in (a, a, b):
                got = json.loads(ws.recv(timeout=10))
                if got["type"] == "complete":
                    got = json.loads(ws.recv(timeout=10))
                assert got["payload"]["data"]["rideUpdates"]["ride"]["state"] == "OFFERED", got
