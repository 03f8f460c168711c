"""`geocode(address)` against a small local server speaking Nominatim's search format (jsonv2),
over a real socket: places inside the service area only, typed answers for no geocoder, no
match, bad input and a geocoder that fails."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.schema import build_schema
from kernel.api import Context
from kernel.auth import Identity
from kernel.cities import Geocoder, WebMap
from kernel.config import Settings
from services.rides.application import Rides
from tests.support.rides import DEMO

if TYPE_CHECKING:
    from collections.abc import Iterator

SCHEMA = build_schema()
GEOCODE = """query Geocode($address: String!, $language: String) {
  geocode(address: $address, language: $language) {
    __typename
    ... on Problem { message }
    ... on InvalidInput { field }
    ... on AddressNotFound { address }
    ... on Places { address places { name location { lat lon } } }
  }
}"""
# In Ghent (inside the demo area), and in Brussels (inside the box? no: outside the polygon).
KORENMARKT = {"display_name": "Korenmarkt, Gent", "lat": "51.0548", "lon": "3.7218"}
STATION = {"display_name": "Gent-Sint-Pieters", "lat": "51.0356", "lon": "3.7101"}
# Inside the area's bounding box, outside its polygon (the south-west corner).
CORNER = {"display_name": "A field near Merelbeke", "lat": "50.965", "lon": "3.57"}


@dataclass
class FakeNominatim:
    url: str
    queries: list[dict[str, list[str]]] = field(default_factory=list)
    languages: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.state.queries.append(query)
        self.server.state.languages.append(self.headers.get("Accept-Language"))
        text = query.get("q", [""])[0].lower()
        if parts.path != "/search" or query.get("format") != ["jsonv2"]:
            self._send(400, b'{"error": "bad request"}')
        elif text == "broken":
            self._send(500, b"Internal Server Error")
        elif text == "garbage":
            self._send(200, b"<html>not json</html>")
        elif text == "korenmarkt":
            self._json([KORENMARKT, {"lat": "x", "lon": "y", "display_name": "bad"}, CORNER])
        elif text == "gent":
            self._json([KORENMARKT, STATION])
        elif text == "merelbeke field":
            self._json([CORNER])
        else:
            self._json([])

    def _json(self, body: Any) -> None:
        self._send(200, json.dumps(body).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeNominatim


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.state = FakeNominatim(url=f"http://{host!s}:{port}/search")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def rides_with(geocoder: Geocoder | None) -> Rides:
    city = type(DEMO).model_validate(
        {**DEMO.model_dump(), "geocoder": None if geocoder is None else geocoder.model_dump()}
    )
    return Rides(Settings(persistence="popo"), city=city)


async def geocode(rides: Rides, address: str, language: str | None = None) -> dict[str, Any]:
    context = Context(
        settings=Settings(persistence="popo"),
        apps={Rides: rides},
        identity=Identity("m-rider", "demo", frozenset({"member"})),
    )
    result = await SCHEMA.execute(
        GEOCODE, variable_values={"address": address, "language": language}, context_value=context
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    answer: dict[str, Any] = result.data["geocode"]
    return answer


async def test_places_inside_the_service_area_only(nominatim: FakeNominatim) -> None:
    rides = rides_with(Geocoder(search_url=nominatim.url))
    found = await geocode(rides, "  Korenmarkt ", language="nl")
    assert found["__typename"] == "Places"
    assert found["address"] == "Korenmarkt"
    # The malformed result is dropped, and so is the one outside the polygon.
    assert found["places"] == [
        {"name": "Korenmarkt, Gent", "location": {"lat": 51.0548, "lon": 3.7218}}
    ]
    [query] = nominatim.queries
    assert query["q"] == ["Korenmarkt"]
    assert query["bounded"] == ["1"]
    assert query["viewbox"] == ["3.56,51.16,3.9,50.96"]  # the area's box: west,north,east,south
    assert nominatim.languages == ["nl"]


async def test_at_most_max_places(nominatim: FakeNominatim) -> None:
    rides = rides_with(Geocoder(search_url=nominatim.url, max_places=1))
    found = await geocode(rides, "Gent")
    assert [p["name"] for p in found["places"]] == ["Korenmarkt, Gent"]


async def test_nothing_inside_the_area_is_address_not_found(nominatim: FakeNominatim) -> None:
    rides = rides_with(Geocoder(search_url=nominatim.url))
    assert (await geocode(rides, "Merelbeke field"))["__typename"] == "AddressNotFound"
    nowhere = await geocode(rides, "Atlantis")
    assert nowhere == {
        "__typename": "AddressNotFound",
        "message": "nothing inside the service area matches 'Atlantis'",
        "address": "Atlantis",
    }


async def test_a_city_without_a_geocoder_answers_no_geocoder(nominatim: FakeNominatim) -> None:
    found = await geocode(rides_with(None), "Korenmarkt")
    assert found["__typename"] == "NoGeocoder"
    assert nominatim.queries == []


@pytest.mark.parametrize(
    ("address", "language", "bad_field"),
    [("   ", None, "address"), ("x" * 201, None, "address"), ("Gent", "fr", "language")],
)
async def test_bad_input_is_refused_before_asking(
    nominatim: FakeNominatim, address: str, language: str | None, bad_field: str
) -> None:
    found = await geocode(rides_with(Geocoder(search_url=nominatim.url)), address, language)
    assert found["__typename"] == "InvalidInput"
    assert found["field"] == bad_field
    assert nominatim.queries == []


@pytest.mark.parametrize(("address", "says"), [("broken", "HTTP 500"), ("garbage", "not JSON")])
async def test_a_failing_geocoder_is_unavailable(
    nominatim: FakeNominatim, address: str, says: str
) -> None:
    found = await geocode(rides_with(Geocoder(search_url=nominatim.url)), address)
    assert found["__typename"] == "GeocoderUnavailable"
    assert says in found["message"]


async def test_an_unreachable_geocoder_is_unavailable() -> None:
    # A port nothing listens on (the fixture's server is not started here).
    server = _Server(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    server.server_close()
    rides = rides_with(Geocoder(search_url=f"http://127.0.0.1:{port}/search", timeout_seconds=1))
    found = await geocode(rides, "Gent")
    assert found["__typename"] == "GeocoderUnavailable"
    assert "could not be reached" in found["message"]


def test_the_city_config_checks_the_geocoder_url() -> None:
    with pytest.raises(ValueError, match="search_url"):
        Geocoder(search_url="ftp://example/search")


@pytest.mark.parametrize(
    "tiles", ["http://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/map.png"]
)
def test_the_city_config_checks_the_map_tiles(tiles: str) -> None:
    # Tiles are images from another site: https only, and a Leaflet {z}/{x}/{y} template.
    with pytest.raises(ValueError, match="tiles_url"):
        WebMap(tiles_url=tiles)
    assert WebMap().tiles_url is None  # the default: no tiles, no request to any other site
