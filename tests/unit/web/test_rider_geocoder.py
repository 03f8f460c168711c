"""The quote form with an address, where the city names a geocoder (the local fake Nominatim
server of tests/unit/rides/test_geocoding.py): the address becomes the first place inside the
service area, and an address nothing matches is named by its field, changing nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from kernel.cities import Geocoder
from tests.e2e.conftest import SETTINGS, past_clock
from tests.unit.rides.test_geocoding import nominatim  # noqa: F401 (fixture)
from tests.unit.web.signing import signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.unit.rides.test_geocoding import FakeNominatim


@pytest.fixture
def client(nominatim: FakeNominatim) -> Iterator[TestClient]:  # noqa: F811 (the fixture)
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        # The demo city, with a geocoder: as a city config's [geocoder] section names it.
        geocoder = Geocoder(search_url=nominatim.url)
        web = client.app.state.web  # type: ignore[attr-defined]
        rides = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
        web.city = web.city.model_copy(update={"geocoder": geocoder})
        rides.city = rides.city.model_copy(update={"geocoder": geocoder})
        yield client


def test_an_address_becomes_a_place_inside_the_area(
    client: TestClient,
    nominatim: FakeNominatim,  # noqa: F811 (the fixture)
) -> None:
    signed_in(client, "Pia")
    form = client.get("/ride")
    assert '<label for="pickup_address">Address</label>' in form.text
    page = client.get(
        "/ride",
        params={
            "quote": "1",
            "pickup_address": "Korenmarkt",
            "dropoff_lat": "51.03",
            "dropoff_lon": "3.75",
        },
    )
    assert page.status_code == 200, page.text
    assert '<p class="place">Korenmarkt, Gent</p>' in page.text
    assert 'name="pickup_lat" value="51.0548"' in page.text  # what the request will send
    assert "Request this ride" in page.text
    assert nominatim.languages == ["en"]


def test_an_address_nothing_matches_is_named_by_its_field(client: TestClient) -> None:
    signed_in(client, "Quinten")
    page = client.get(
        "/ride",
        params={
            "quote": "1",
            "pickup_lat": "51.06",
            "pickup_lon": "3.71",
            "dropoff_address": "Atlantis",
        },
    )
    assert page.status_code == 422
    assert (
        'id="dropoff-error">We found no place with this address inside the area we serve.'
        in page.text
    )
    assert "Request this ride" not in page.text


def test_address_searches_are_rate_limited_per_member(
    client: TestClient,
    nominatim: FakeNominatim,  # noqa: F811 (the fixture)
) -> None:
    # The city's geocoder is another site with its own usage policy: a member's searches are
    # capped (gateway/limits.py), and a refused one never reaches it.
    signed_in(client, "Rik")
    params = {"quote": "1", "pickup_address": "Korenmarkt", "dropoff_address": "Gent"}
    answers = [client.get("/ride", params=params) for _ in range(16)]  # two searches each
    assert [a.status_code for a in answers[:15]] == [200] * 15
    assert answers[15].status_code == 422
    assert "Too many tries." in answers[15].text
    assert len(nominatim.queries) == 30  # the 31st and 32nd were refused before asking it
