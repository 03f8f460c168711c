"""The driver's pages through Starlette's TestClient on the real gateway (embedded): register
and wait for the role, duty, the offered ride with its reason, every ride action as a plain
form, typed problems as messages that change nothing, my drives and my credits paged; and the
driver's live panel over SSE on a real socket."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, eventually, past_clock, request_ride, run_batch
from tests.support.accounts import grant, sign_up
from tests.support.serve import serving
from tests.unit.web.signing import csrf, signed_in
from tests.unit.web.test_rider_live import Stream

if TYPE_CHECKING:
    from collections.abc import Iterator

AT = {"position_lat": "51.05", "position_lon": "3.72"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client


def notices(html: str) -> list[str]:
    return re.findall(r'class="notice notice-\w+">([^<]*)<', html)


def post(client: Any, path: str, **fields: str) -> Any:
    page = client.get("/drive")
    return client.post(path, data={"csrf_token": csrf(page.text), **fields})


def rows_on(client: Any, path: str, rows: int) -> str:
    """The page at `path` once its table has `rows` rows (a list's read model may lag the
    command that just changed it by a moment)."""

    def page() -> str | None:
        text: str = client.get(path).text
        return text if text.count("<tr>") == rows else None

    return eventually(page)


def on_duty_driver(client: Any, name: str) -> dict[str, Any]:
    """A member who registers through the page, is granted the role, and goes on duty."""
    member = signed_in(client, name)
    post(client, "/drive/register", seats="3", vehicle="Blue van", wheelchair="on")
    grant(client, member["memberId"], "driver")
    done = post(client, "/drive/duty", duty="on", **AT)
    assert "You are on duty." in " ".join(notices(done.text)), done.text
    return member


def test_registering_asks_the_board_and_the_page_says_so(client: TestClient) -> None:
    signed_in(client, "Dani")
    page = client.get("/drive")
    assert "Register my vehicle" in page.text
    done = post(client, "/drive/register", seats="4", vehicle="Car")
    assert "Your vehicle is registered." in notices(done.text)[0]
    assert "the board is asked to give you the driver role" in done.text
    again = post(client, "/drive/register", seats="4", vehicle="Car")
    assert again.status_code == 422
    assert "Your vehicle is registered already." in again.text


def test_bad_seats_are_refused_by_the_field(client: TestClient) -> None:
    signed_in(client, "Eli")
    refused = post(client, "/drive/register", seats="40")
    assert refused.status_code == 422
    assert 'id="seats-error">Choose 1 to 8 seats.' in refused.text
    assert "Register my vehicle" in client.get("/drive").text  # nothing registered


def test_the_role_granted_after_sign_in_counts_at_once(client: TestClient) -> None:
    member = signed_in(client, "Fien")
    post(client, "/drive/register", seats="4")
    grant(client, member["memberId"], "driver")
    page = client.get("/drive")
    assert "Go on duty" in page.text
    assert 'data-fields="position"' in page.text  # the map sets the position


def test_a_bad_position_names_the_field_and_changes_nothing(client: TestClient) -> None:
    member = signed_in(client, "Gus")
    post(client, "/drive/register", seats="4")
    grant(client, member["memberId"], "driver")
    for position in (
        {"position_lat": "", "position_lon": ""},
        {"position_lat": "50.85", "position_lon": "400"},
    ):
        refused = post(client, "/drive/duty", duty="on", **position)
        assert refused.status_code == 422
        assert 'id="position-error">Type a latitude' in refused.text
        assert "Go on duty" in client.get("/drive").text


def test_an_offer_shows_why_it_came_and_the_ride_runs_through_the_page(
    client: TestClient,
) -> None:
    on_duty_driver(client, "Hans")
    rider = sign_up(client, "Ilse")
    ride = request_ride(client, rider["accessToken"])  # the batch offers it to Hans
    assert ride["state"] == "OFFERED"
    page = client.get("/drive")
    assert "Why this ride came to you:" in page.text
    assert "you were the nearest on-duty driver" in page.text
    steps = [
        ("accept", "You accepted the ride.", "I am arriving"),
        ("arriving", "The rider knows you are arriving.", "Rider did not come"),
        ("picked-up", "Rider on board.", "Rider dropped off"),
        ("dropped-off", "Ride completed. Thank you!", "No ride offered right now."),
    ]
    for action, said, next_button in steps:
        done = post(client, f"/drive/rides/{ride['id']}/{action}")
        assert said in " ".join(notices(done.text)), done.text
        assert next_button in done.text
    # The header and the one drive, once the drives' read model has the drop-off.
    rows_on(client, "/drives", 2)

    # The ledger is kept by the contributions consumer: the line shows once it has the ride.
    def credited() -> str | None:
        page: str = client.get("/drive/credits").text
        return page if f"fare of ride {ride['id']}" in page else None

    credits = eventually(credited)
    assert "My earnings and credits" in credits


def test_a_ride_action_out_of_turn_is_a_message_and_changes_nothing(
    client: TestClient,
) -> None:
    on_duty_driver(client, "Jo")
    rider = sign_up(client, "Kim")
    ride = request_ride(client, rider["accessToken"])
    refused = post(client, f"/drive/rides/{ride['id']}/picked-up")
    assert notices(refused.text) == [
        "This ride has moved on already; the page shows it as it is now."
    ]
    assert "Accept" in refused.text  # still offered
    assert client.post(f"/drive/rides/{ride['id']}/fly", data={}).status_code in (403, 404)
    assert post(client, f"/drive/rides/{ride['id']}/fly").status_code == 404


def test_off_duty_mid_ride_is_refused(client: TestClient) -> None:
    on_duty_driver(client, "Lou")
    rider = sign_up(client, "Max")
    ride = request_ride(client, rider["accessToken"])
    post(client, f"/drive/rides/{ride['id']}/accept")
    refused = post(client, "/drive/duty", duty="off")
    assert "Finish your ride first." in refused.text
    assert "Accepted: drive to the pickup" in client.get("/drive").text


def test_the_driver_panel_moves_live() -> None:
    app = create_app(SETTINGS, clock=past_clock())
    with (
        serving(app) as url,
        httpx.Client(base_url=url, timeout=10, follow_redirects=True) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        on_duty_driver(client, "Nel")
        with client.stream("GET", "/live/driver") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = Stream(response)
            assert "On duty, waiting for a ride" in stream.next().data
            rider = sign_up(client, "Oda")  # type: ignore[arg-type]
            ride = request_ride(client, rider["accessToken"], batch=False)  # type: ignore[arg-type]
            run_batch(client)  # type: ignore[arg-type]
            offered = stream.next().data
            while "Why this ride came to you:" not in offered:
                offered = stream.next().data
            assert f'action="/drive/rides/{ride["id"]}/accept"' in offered
            assert 'name="csrf_token"' in offered  # its forms post as the page's do


def test_a_no_show_too_early_is_refused_with_the_wait_and_changes_nothing(
    client: TestClient,
) -> None:
    on_duty_driver(client, "Pim")
    rider = sign_up(client, "Quin")
    ride = request_ride(client, rider["accessToken"])
    post(client, f"/drive/rides/{ride['id']}/accept")
    post(client, f"/drive/rides/{ride['id']}/arriving")
    refused = post(client, f"/drive/rides/{ride['id']}/no-show")
    [said] = notices(refused.text)
    assert said.startswith("A no-show can be marked after 5 minutes at the pickup")
    assert "Arriving at the pickup" in refused.text  # the ride is as it was


def test_my_drives_and_my_credits_are_paged(client: TestClient) -> None:
    on_duty_driver(client, "Ruud")
    for n in range(6):  # two credit lines per ride (earnings, hours): 12 lines
        rider = sign_up(client, f"Rider {n}")
        ride = request_ride(client, rider["accessToken"])
        for action in ("accept", "picked-up", "dropped-off"):
            post(client, f"/drive/rides/{ride['id']}/{action}")
    drives = rows_on(client, "/drives", 7)  # the header and six drives
    assert 'rel="next"' not in drives

    def both_pages() -> tuple[str, str] | None:
        # The ledger is kept by the contributions consumer: wait until it has every line.
        first = client.get("/drive/credits").text
        found = re.search(r'href="(/drive/credits\?after=[^"]+)" rel="next"', first)
        if not found:
            return None
        second = client.get(found.group(1).replace("&amp;", "&")).text
        return (first, second) if second.count("<tr>") == 3 else None

    first, second = eventually(both_pages)
    assert first.count("<tr>") == 11  # the header and ten lines
    assert 'rel="next"' not in second
