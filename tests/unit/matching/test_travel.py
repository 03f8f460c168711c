"""Travel-time providers: haversine with detour, and OSRM's Table service over a real local socket.

The OSRM tests run a small HTTP server in a thread that speaks OSRM's documented Table response
format (`code`, `durations`, `distances`, `sources`, `destinations`, `message`): it parses the
coordinates, `sources`, `destinations` and `annotations` from the request and computes the answer.
The URL profile picks the behaviour (normal, an OSRM error, HTTP 500, slow, unreachable points).
"""

from __future__ import annotations

import json
import math
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from matching.status import InvalidProblem
from matching.travel import (
    HaversineProvider,
    InvalidCoordinates,
    OsrmError,
    OsrmTableProvider,
    TravelMatrix,
    TravelTimeError,
    TravelTimeHttpError,
    TravelTimeTimeout,
    great_circle_m,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

GHENT = (51.0543, 3.7174)
BRUSSELS = (50.8503, 4.3517)
ANTWERP = (51.2194, 4.4025)
ISLAND = (51.5, 3.0)  # the fake server has no road to or from here
SPEED_MS = 10.0  # the fake server's routing speed


# --- haversine ----------------------------------------------------------------------------------


def test_ghent_to_brussels_is_about_50_km_in_a_straight_line():
    metres = great_circle_m([GHENT], [BRUSSELS])
    assert metres.shape == (1, 1)
    assert metres[0, 0] == pytest.approx(49_900, abs=300)


def test_detour_factor_and_speed_are_applied():
    plain = HaversineProvider(detour_factor=1.0, speed_kmh=36.0).matrix([GHENT], [BRUSSELS])
    city = HaversineProvider(detour_factor=1.3, speed_kmh=36.0).matrix([GHENT], [BRUSSELS])
    assert city.metres is not None
    assert plain.metres is not None
    assert city.metres[0, 0] == pytest.approx(1.3 * plain.metres[0, 0])
    assert city.seconds[0, 0] == pytest.approx(city.metres[0, 0] / 10.0)  # 36 km/h = 10 m/s
    slow = HaversineProvider(detour_factor=1.3, speed_kmh=18.0).matrix([GHENT], [BRUSSELS])
    assert slow.seconds[0, 0] == pytest.approx(2 * city.seconds[0, 0])


def test_matrix_shape_zero_diagonal_and_read_only():
    m = HaversineProvider().matrix([GHENT, BRUSSELS, ANTWERP], [GHENT, BRUSSELS])
    assert m.shape == (3, 2)
    assert m.seconds[0, 0] == 0
    assert m.seconds[1, 1] == 0
    assert m.seconds[0, 1] == pytest.approx(m.seconds[1, 0])
    with pytest.raises(ValueError, match="read-only"):
        m.seconds[0, 0] = 1.0
    assert HaversineProvider().matrix([], [GHENT]).shape == (0, 1)


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ((90.5, 3.7), r"origin 1 \(90.5, 3.7\): latitude"),
        ((-91.0, 3.7), "latitude"),
        ((51.0, 180.5), "longitude"),
        ((51.0, -181.0), "longitude"),
        ((math.nan, 3.7), "latitude must be finite"),
        ((51.0, math.inf), "longitude must be finite"),
    ],
)
def test_bad_coordinates_raise_a_typed_error(point, message):
    with pytest.raises(InvalidCoordinates, match=message):
        HaversineProvider().matrix([GHENT, point], [BRUSSELS])


def test_points_must_be_pairs():
    with pytest.raises(InvalidCoordinates, match="pairs"):
        HaversineProvider().matrix([(51.0, 3.7, 0.0)], [GHENT])  # type: ignore[list-item]
    assert issubclass(InvalidCoordinates, InvalidProblem)


@pytest.mark.parametrize(("detour", "speed"), [(0.9, 30.0), (1.3, 0.0), (1.3, -5.0)])
def test_bad_haversine_settings(detour, speed):
    with pytest.raises(InvalidProblem):
        HaversineProvider(detour_factor=detour, speed_kmh=speed)


def test_travel_matrix_from_rows():
    m = TravelMatrix.from_rows([[1.0, None], [3.0, 4.0]])
    assert m.seconds[0, 1] == math.inf
    assert m.metres is None
    with pytest.raises(InvalidProblem, match="different lengths"):
        TravelMatrix.from_rows([[1.0], [1.0, 2.0]])
    with pytest.raises(InvalidProblem, match="negative"):
        TravelMatrix.from_rows([[-1.0]])


# --- a local server speaking OSRM's Table format ------------------------------------------------


@dataclass
class FakeOsrm:
    base_url: str
    paths: list[str] = field(default_factory=list)
    max_table_size: int = 100


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.state.paths.append(self.path)
        parts = urlsplit(self.path)
        segments = parts.path.split("/")
        # /table/v1/{profile}/{coordinates}
        if len(segments) != 5 or segments[1:3] != ["table", "v1"]:
            self._json(
                400, {"code": "InvalidUrl", "message": f"URL string malformed: {parts.path}"}
            )
            return
        profile, coordinates = segments[3], segments[4]
        if profile == "broken":
            self._raw(500, b"Internal Server Error", "text/plain")
            return
        if profile == "invalid":
            self._json(
                400,
                {"code": "InvalidQuery", "message": "Query string malformed close to position 28"},
            )
            return
        if profile == "garbage":
            self._json(200, {"code": "Ok", "durations": [[1.0]]})
            return
        if profile == "slow" and self.server.release.wait(timeout=2.0):
            return
        try:
            points = [tuple(float(v) for v in c.split(",")) for c in coordinates.split(";")]
            query = parse_qs(parts.query)
            sources = [int(i) for i in query["sources"][0].split(";")]
            destinations = [int(i) for i in query["destinations"][0].split(";")]
            annotations = query.get("annotations", ["duration"])[0].split(",")
        except (KeyError, ValueError):
            self._json(400, {"code": "InvalidQuery", "message": "Query string malformed"})
            return
        limit = self.server.state.max_table_size
        if len(sources) * len(destinations) > limit * limit:
            self._json(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        lonlat = [(p[0], p[1]) for p in points]
        metres = great_circle_m(
            [(lat, lon) for lon, lat in (lonlat[i] for i in sources)],
            [(lat, lon) for lon, lat in (lonlat[j] for j in destinations)],
        )
        island = (ISLAND[1], ISLAND[0])

        def cell(i: int, j: int, value: float) -> float | None:
            if island in (lonlat[sources[i]], lonlat[destinations[j]]) and metres[i, j] > 0:
                return None
            return round(value, 1)

        body: dict[str, object] = {
            "code": "Ok",
            "sources": [
                {"location": list(lonlat[i]), "name": "", "distance": 0.0} for i in sources
            ],
            "destinations": [
                {"location": list(lonlat[j]), "name": "", "distance": 0.0} for j in destinations
            ],
        }
        grid = range(len(sources)), range(len(destinations))
        if "duration" in annotations:
            body["durations"] = [
                [cell(i, j, metres[i, j] / SPEED_MS) for j in grid[1]] for i in grid[0]
            ]
        if "distance" in annotations:
            body["distances"] = [[cell(i, j, metres[i, j]) for j in grid[1]] for i in grid[0]]
        self._json(200, body)

    def _json(self, status: int, body: object) -> None:
        self._raw(status, json.dumps(body).encode(), "application/json; charset=UTF-8")

    def _raw(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeOsrm
    release: threading.Event


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.state = FakeOsrm(base_url=f"http://{host!s}:{port}")
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_osrm_ok_response_is_parsed(osrm: FakeOsrm):
    with OsrmTableProvider(osrm.base_url) as provider:
        m = provider.matrix([GHENT, BRUSSELS], [ANTWERP, GHENT, BRUSSELS])
    expected = great_circle_m([GHENT, BRUSSELS], [ANTWERP, GHENT, BRUSSELS])
    assert m.shape == (2, 3)
    assert m.metres is not None
    np.testing.assert_allclose(m.metres, expected, atol=0.1)
    np.testing.assert_allclose(m.seconds, expected / SPEED_MS, atol=0.1)
    # one request; OSRM order is lon,lat; sources first, then destinations
    [path] = osrm.paths
    assert path.startswith("/table/v1/driving/3.717400,51.054300;4.351700,50.850300;4.402500")
    query = parse_qs(urlsplit(path).query)
    assert query["sources"] == ["0;1"]
    assert query["destinations"] == ["2;3;4"]
    assert query["annotations"] == ["duration,distance"]


def test_osrm_unreachable_pairs_become_inf(osrm: FakeOsrm):
    with OsrmTableProvider(osrm.base_url) as provider:
        m = provider.matrix([GHENT, ISLAND], [BRUSSELS, ISLAND])
    assert m.metres is not None
    assert math.isfinite(m.seconds[0, 0])
    assert m.seconds[0, 1] == math.inf
    assert m.seconds[1, 0] == math.inf
    assert m.metres[1, 0] == math.inf
    assert m.seconds[1, 1] == 0


def test_osrm_error_code_and_message_are_raised(osrm: FakeOsrm):
    with (
        OsrmTableProvider(osrm.base_url, profile="invalid") as provider,
        pytest.raises(OsrmError, match="InvalidQuery: Query string malformed") as caught,
    ):
        provider.matrix([GHENT], [BRUSSELS])
    assert caught.value.code == "InvalidQuery"
    assert caught.value.status_code == 400
    assert isinstance(caught.value, TravelTimeError)


def test_osrm_http_500_is_an_http_error(osrm: FakeOsrm):
    with (
        OsrmTableProvider(osrm.base_url, profile="broken") as provider,
        pytest.raises(TravelTimeHttpError, match="HTTP 500") as caught,
    ):
        provider.matrix([GHENT], [BRUSSELS])
    assert caught.value.status_code == 500


def test_osrm_timeout(osrm: FakeOsrm):
    with (
        OsrmTableProvider(osrm.base_url, profile="slow", timeout=0.2) as provider,
        pytest.raises(TravelTimeTimeout, match=r"0.2 s"),
    ):
        provider.matrix([GHENT], [BRUSSELS])


def test_osrm_malformed_answer(osrm: FakeOsrm):
    with (
        OsrmTableProvider(osrm.base_url, profile="garbage") as provider,
        pytest.raises(TravelTimeError, match="durations"),
    ):
        provider.matrix([GHENT, BRUSSELS], [ANTWERP])


def test_osrm_connection_refused():
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        OsrmTableProvider(f"http://127.0.0.1:{port}") as provider,
        pytest.raises(TravelTimeHttpError, match="request failed"),
    ):
        provider.matrix([GHENT], [BRUSSELS])


def test_osrm_large_tables_are_split_into_blocks(osrm: FakeOsrm):
    osrm.max_table_size = 2  # like osrm-routed --max-table-size 2
    origins = [GHENT, BRUSSELS, ANTWERP, (51.1, 3.9), (50.95, 4.0)]
    destinations = [ANTWERP, GHENT, (51.0, 4.1)]
    with OsrmTableProvider(osrm.base_url) as provider, pytest.raises(OsrmError, match="TooBig"):
        provider.matrix(origins, destinations)
    osrm.paths.clear()
    with OsrmTableProvider(osrm.base_url, max_table_size=2) as provider:
        m = provider.matrix(origins, destinations)
    assert len(osrm.paths) == 3 * 2  # ceil(5/2) source blocks x ceil(3/2) destination blocks
    np.testing.assert_allclose(
        m.seconds, great_circle_m(origins, destinations) / SPEED_MS, atol=0.1
    )


def test_osrm_shared_client_is_not_closed(osrm: FakeOsrm):
    with httpx.Client() as client:
        with OsrmTableProvider(osrm.base_url, client=client) as provider:
            provider.matrix([GHENT], [BRUSSELS])
        assert not client.is_closed


def test_osrm_validates_coordinates_before_calling(osrm: FakeOsrm):
    with OsrmTableProvider(osrm.base_url) as provider, pytest.raises(InvalidCoordinates):
        provider.matrix([(100.0, 3.7)], [BRUSSELS])
    assert osrm.paths == []
