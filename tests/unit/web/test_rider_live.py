"""The ride page's live status over server-sent events, against the real gateway served by
uvicorn (a real socket): each update an HTML fragment, `close` after the final state, the
subscription cap as a message, and the slot given back when the browser goes away."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import httpx
import pytest

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
from tests.support.serve import serving
from tests.unit.web.signing import signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.applications import Starlette


@dataclass
class Event:
    name: str
    data: str


class Stream:
    """The events of one text/event-stream response, read as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next(self) -> Event:
        name, data = "message", list[str]()
        for line in self._lines:
            if line == "":
                if data or name != "message":
                    return Event(name, "\n".join(data))
                continue
            if line.startswith(":") or line.startswith("retry:"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        raise AssertionError("the stream ended")


@pytest.fixture(scope="module")
def served() -> Iterator[httpx.Client]:
    edge = replace(SETTINGS.gateway, subscriptions_per_member=2)
    app = create_app(replace(SETTINGS, gateway=edge), clock=past_clock())
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        client.app = app  # type: ignore[attr-defined]  # the helpers grant roles as the operator
        yield client


def slots_held(app: Starlette, member_id: str) -> int:
    graphql = app.state.web.client._graphql  # the gateway's own, as the pages use it
    held: int = graphql._live.slots.held(member_id)
    return held


@contextlib.contextmanager
def live(client: httpx.Client, path: str) -> Iterator[Stream]:
    with client.stream("GET", path) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def eventually_zero(app: Starlette, member_id: str) -> None:
    deadline = time.monotonic() + 10
    while slots_held(app, member_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slots_held(app, member_id) == 0


def test_the_ride_moves_live_and_the_stream_closes_after_the_last_state(
    served: httpx.Client,
) -> None:
    client: Any = served
    rider = signed_in(client, "Lotte")
    ride = request_ride(client, rider["accessToken"])
    assert ride["state"] == "WAITING"
    with live(client, f"/live/rides/{ride['id']}") as stream:
        first = stream.next()
        assert first.name == "update"
        assert "<h2" in first.data
        assert "Waiting for a driver" in first.data
        _, token = driver(client, "Dries")
        run_batch(client)
        assert "Offered to a driver" in stream.next().data
        seen = []
        for command in (ACCEPT, PICK_UP, DROP_OFF):
            ride_command(client, command, ride["id"], token)
            seen.append(stream.next().data)
        assert "A driver is on the way" in seen[0]
        assert "Pickup in" in seen[0]  # the pickup estimate while the driver is on the way
        assert "On the way to your drop-off" in seen[1]
        assert "Completed" in seen[2]
        assert "Where your fare goes" in seen[2]
        assert stream.next().name == "close"
    eventually_zero(client.app, rider["memberId"])


def test_the_cap_shows_a_message_and_a_closed_browser_gives_its_slot_back(
    served: httpx.Client,
) -> None:
    client: Any = served
    rider = signed_in(client, "Mona")
    ride = request_ride(client, rider["accessToken"], batch=False)
    path = f"/live/rides/{ride['id']}"
    with live(client, path) as a, live(client, path) as b:
        assert a.next().name == "update"
        assert b.next().name == "update"
        assert slots_held(client.app, rider["memberId"]) == 2
        with live(client, path) as c:
            refused = c.next()
            assert "too many things live at once" in refused.data
            assert c.next().name == "close"
    # Both browsers went away: the server noticed and closed both subscriptions.
    eventually_zero(client.app, rider["memberId"])
    with live(client, path) as again:
        assert "Waiting for a driver" in again.next().data


def test_another_members_ride_is_not_found_live(served: httpx.Client) -> None:
    client: Any = served
    owner = signed_in(client, "Noor")
    ride = request_ride(client, owner["accessToken"], batch=False)
    signed_in(client, "Olaf")
    with live(client, f"/live/rides/{ride['id']}") as stream:
        assert "There is no such ride." in stream.next().data
        assert stream.next().name == "close"


def test_a_visitor_is_sent_to_sign_in(served: httpx.Client) -> None:
    with httpx.Client(base_url=str(served.base_url)) as visitor:
        response = visitor.get("/live/rides/x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=")
