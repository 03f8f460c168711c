"""The rider's pages through Starlette's TestClient on the real gateway (embedded): the quote
form without JavaScript, typed problems by their field (changing nothing), requesting, the
ride page, cancelling, and my rides paged."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import MY_RIDES, SETTINGS, eventually, my_rides, past_clock
from tests.unit.web.signing import csrf, signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

PICKUP = {"pickup_lat": "51.06", "pickup_lon": "3.71"}
DROPOFF = {"dropoff_lat": "51.03", "dropoff_lon": "3.75"}
OUTSIDE = {"pickup_lat": "50.85", "pickup_lon": "4.35"}  # Brussels


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client


def error_of(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert found, f"no error by {field}"
    return found.group(1)


def rides_of(client: TestClient, token: str, count: int) -> list[dict[str, Any]]:
    """The member's rides once myRides lists `count` (its read model may lag a moment)."""

    def listed() -> list[dict[str, Any]] | None:
        page = my_rides(client, token, MY_RIDES, first=50)
        found = [edge["node"] for edge in page["edges"]]
        return found if len(found) == count else None

    return eventually(listed)


def nothing_requested(client: TestClient, token: str) -> None:
    """No ride was made: once a ride requested after it is listed, it is the only one (the
    read model applies the rides' events in order)."""
    assert request(client).status_code == 303
    assert len(rides_of(client, token, 1)) == 1


def request(client: TestClient, **fields: str) -> Any:
    form = client.get("/ride").text
    return client.post(
        "/ride",
        data={"csrf_token": csrf(form), **PICKUP, **DROPOFF, **fields},
        follow_redirects=False,
    )


def test_a_visitor_is_asked_to_sign_in_first(client: TestClient) -> None:
    for path in ("/ride", "/rides", "/ride/whatever"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next={path}"


def test_the_form_works_without_javascript_and_the_map_asks_no_other_site(
    client: TestClient,
) -> None:
    signed_in(client, "Ria")
    page = client.get("/ride")
    assert page.status_code == 200
    for field in ("pickup_lat", "pickup_lon", "dropoff_lat", "dropoff_lon", "seats"):
        assert f'<label for="{field}">' in page.text
    assert "_address" not in page.text  # the demo city names no geocoder
    # The service area's polygon for the map, and no tiles: no request to another site.
    assert 'data-area="[[50.96, 3.62], [50.98, 3.84]' in page.text
    assert 'data-tiles=""' in page.text
    assert "https://" not in page.text


def test_a_quote_shows_the_fare_and_its_split(client: TestClient) -> None:
    signed_in(client, "Sam")
    page = client.get("/ride", params={"quote": "1", **PICKUP, **DROPOFF})
    assert page.status_code == 200
    assert "€12.12" in page.text
    assert "The common fund" in page.text
    assert 'action="/ride"' in page.text
    assert "Request this ride" in page.text


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        (OUTSIDE, "pickup", "outside the area our rides serve"),
        ({"pickup_lat": "north", "pickup_lon": "3.7"}, "pickup", "Type a latitude"),
        ({"pickup_lat": "95", "pickup_lon": "3.7"}, "pickup", "Type a latitude"),
        ({"dropoff_lat": "", "dropoff_lon": ""}, "dropoff", "Choose this point on the map"),
        ({"seats": "12"}, "seats", "Choose 1 to 8 seats."),
    ],
)
def test_a_bad_quote_names_its_field(
    client: TestClient, fields: dict[str, str], field: str, says: str
) -> None:
    signed_in(client, "Tom")
    page = client.get("/ride", params={"quote": "1", **PICKUP, **DROPOFF, **fields})
    assert page.status_code == 422
    assert says in error_of(page.text, field)
    assert "Request this ride" not in page.text


def test_requesting_goes_to_the_ride_page(client: TestClient) -> None:
    rider = signed_in(client, "Uma")
    response = request(client, seats="2")
    assert response.status_code == 303
    ride_path = response.headers["location"]
    page = client.get(ride_path)
    assert "Your ride is requested." in page.text
    assert "Waiting for a driver" in page.text
    assert f'sse-connect="/live{ride_path.replace("/ride/", "/rides/")}"' in page.text
    assert 'aria-live="polite"' in page.text
    assert f'href="{ride_path}">Refresh' in page.text  # without JavaScript
    [ride] = rides_of(client, rider["accessToken"], 1)
    assert ride["seats"] == 2
    assert ride["state"] == "WAITING"


def test_a_request_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    rider = signed_in(client, "Vic")
    response = client.post("/ride", data={**PICKUP, **DROPOFF})
    assert response.status_code == 403
    nothing_requested(client, rider["accessToken"])


def test_outside_the_area_is_refused_by_the_field_and_changes_nothing(
    client: TestClient,
) -> None:
    rider = signed_in(client, "Wim")
    response = request(client, **OUTSIDE)
    assert response.status_code == 422
    assert "outside the area our rides serve" in error_of(response.text, "pickup")
    nothing_requested(client, rider["accessToken"])


def test_too_many_open_rides_is_a_message_and_changes_nothing(client: TestClient) -> None:
    rider = signed_in(client, "Xia")
    assert request(client).status_code == 303
    assert request(client).status_code == 303
    third = request(client)
    assert third.status_code == 422
    assert "You have 2 rides open already, the most at once (2)." in third.text
    assert len(rides_of(client, rider["accessToken"], 2)) == 2


def test_cancelling_a_waiting_ride(client: TestClient) -> None:
    rider = signed_in(client, "Yara")
    ride_path = request(client).headers["location"]
    page = client.get(ride_path)
    done = client.post(
        f"{ride_path}/cancel", data={"csrf_token": csrf(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get(ride_path)
    assert "Your ride is cancelled." in page.text
    assert "Cancelled" in page.text
    assert "sse-connect" not in page.text  # nothing more will change
    # My rides says so too, once its read model has the cancellation.
    eventually(lambda: client.get("/rides").text.count("<td>Cancelled</td>") == 1)
    assert len(rides_of(client, rider["accessToken"], 1)) == 1


def test_another_members_ride_is_not_found(client: TestClient) -> None:
    signed_in(client, "Zoe")
    ride_path = request(client).headers["location"]
    signed_in(client, "Abe")
    assert client.get(ride_path).status_code == 404
    assert client.get("/ride/not-a-ride").status_code == 404


def test_my_rides_are_paged(client: TestClient) -> None:
    signed_in(client, "Bea")
    for _ in range(11):
        ride_path = request(client).headers["location"]
        page = client.get(ride_path)
        client.post(f"{ride_path}/cancel", data={"csrf_token": csrf(page.text)})
    row = '<th scope="row"><a href="/ride/'

    def both_pages() -> tuple[str, str] | None:
        # Once the rides' read model lists all eleven.
        first = client.get("/rides").text
        found = re.search(r'href="(/rides\?after=[^"]+)" rel="next"', first)
        if not found:
            return None
        second = client.get(found.group(1).replace("&amp;", "&")).text
        return (first, second) if second.count(row) == 1 else None

    first, second = eventually(both_pages)
    assert first.count(row) == 10
    assert 'rel="next"' not in second


def test_what_a_member_typed_is_escaped(client: TestClient) -> None:
    signed_in(client, "Cor")
    page = client.get("/ride", params={"pickup_lat": '"><script>x</script>', "quote": "1"})
    assert "<script>x</script>" not in page.text
    assert "&#34;&gt;&lt;script&gt;" in page.text
