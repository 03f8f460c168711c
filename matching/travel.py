"""Travel times between points: a provider interface, a no-network default, and OSRM over HTTP.

A provider answers one question: how long (and how far) from each origin to each destination.
Matrices are numpy arrays because the batch matcher works on thousands of pairs every batch window;
`math.inf` marks a pair with no route (unreachable), never a sentinel like -1 or 0.

Points are `(lat, lon)` tuples in WGS84 degrees (note: OSRM's own URL order is lon,lat; the OSRM
provider swaps them, callers never do).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import numpy as np

from matching.status import InvalidProblem

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from numpy.typing import NDArray

LatLon = tuple[float, float]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the same as kernel.geo


class InvalidCoordinates(InvalidProblem):
    """A point is not a finite (lat, lon) with lat in [-90, 90] and lon in [-180, 180]."""


class TravelTimeError(RuntimeError):
    """A provider could not produce a matrix (network, routing engine, or a malformed answer)."""


class TravelTimeTimeout(TravelTimeError):
    """The routing engine did not answer within the provider's timeout."""


class TravelTimeHttpError(TravelTimeError):
    """Transport failure or an HTTP error status without a routing-engine error body."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class OsrmError(TravelTimeError):
    """OSRM answered with `code != "Ok"` (e.g. InvalidQuery, TooBig, NoTable) and its message."""

    def __init__(self, code: str, message: str, *, status_code: int) -> None:
        super().__init__(f"OSRM {code}: {message} (HTTP {status_code})")
        self.code = code
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """`seconds[i, j]` and `metres[i, j]` from origin i to destination j; `inf` means no route.

    Arrays are read-only float64 of shape (origins, destinations). `metres` is None when the
    source of the matrix gave no distances (a precomputed time matrix).
    """

    seconds: NDArray[np.float64]
    metres: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        for name in ("seconds", "metres"):
            array = getattr(self, name)
            if array is None:
                continue
            if array.ndim != 2:
                raise InvalidProblem(f"travel matrix {name} must be 2-D, got shape {array.shape}")
            if np.isnan(array).any() or (array < 0).any():
                raise InvalidProblem(f"travel matrix {name} has a negative or NaN entry")
        if self.metres is not None and self.seconds.shape != self.metres.shape:
            raise InvalidProblem(
                f"travel matrix shapes differ: seconds {self.seconds.shape}, "
                f"metres {self.metres.shape}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.seconds.shape
        return int(rows), int(cols)

    @classmethod
    def from_rows(
        cls,
        seconds: Sequence[Sequence[float | None]],
        metres: Sequence[Sequence[float | None]] | None = None,
    ) -> TravelMatrix:
        """Build from nested lists; `None` (as in OSRM's JSON) becomes `inf` (unreachable)."""
        sec = _frozen(_to_array(seconds, "seconds"))
        met = _frozen(_to_array(metres, "metres")) if metres is not None else None
        return cls(seconds=sec, metres=met)


class TravelTimeProvider(Protocol):
    """Anything that can give travel times and distances between points."""

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon]) -> TravelMatrix:
        """Travel from each origin to each destination: shape (len(origins), len(destinations))."""
        ...


def validate_points(points: Sequence[LatLon], what: str = "point") -> NDArray[np.float64]:
    """Points as an (n, 2) array of (lat, lon); InvalidCoordinates names the first bad one."""
    if not len(points):
        return np.empty((0, 2), dtype=np.float64)
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidCoordinates(f"{what}s must be (lat, lon) pairs of numbers") from exc
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidCoordinates(f"{what}s must be (lat, lon) pairs, got shape {array.shape}")
    bad_lat = ~np.isfinite(array[:, 0]) | (np.abs(array[:, 0]) > 90.0)
    bad_lon = ~np.isfinite(array[:, 1]) | (np.abs(array[:, 1]) > 180.0)
    bad = np.flatnonzero(bad_lat | bad_lon)
    if bad.size:
        i = int(bad[0])
        lat, lon = float(array[i, 0]), float(array[i, 1])
        axis = "latitude" if bad_lat[i] else "longitude"
        bound = "[-90, 90]" if bad_lat[i] else "[-180, 180]"
        raise InvalidCoordinates(f"{what} {i} ({lat}, {lon}): {axis} must be finite and in {bound}")
    return array


def great_circle_m(
    origins: Sequence[LatLon], destinations: Sequence[LatLon]
) -> NDArray[np.float64]:
    """Haversine distance in metres between every origin and every destination."""
    a = np.radians(validate_points(origins, "origin"))
    b = np.radians(validate_points(destinations, "destination"))
    dlat = b[None, :, 0] - a[:, None, 0]
    dlon = b[None, :, 1] - a[:, None, 1]
    h = (
        np.sin(dlat / 2) ** 2
        + np.cos(a[:, None, 0]) * np.cos(b[None, :, 0]) * np.sin(dlon / 2) ** 2
    )
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return result


class HaversineProvider:
    """Straight-line distance times a detour factor, at a constant speed. Needs no network.

    The detour factor stands in for the street grid (1.3 is a common figure for cities; rural roads
    are often 1.2-1.4). Every pair is reachable.
    """

    def __init__(self, detour_factor: float = 1.3, speed_kmh: float = 30.0) -> None:
        if not (math.isfinite(detour_factor) and detour_factor >= 1.0):
            raise InvalidProblem(f"detour_factor must be >= 1, got {detour_factor}")
        if not (math.isfinite(speed_kmh) and speed_kmh > 0):
            raise InvalidProblem(f"speed_kmh must be > 0, got {speed_kmh}")
        self.detour_factor = detour_factor
        self.speed_kmh = speed_kmh

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon]) -> TravelMatrix:
        metres = great_circle_m(origins, destinations) * self.detour_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return TravelMatrix(seconds=_frozen(seconds), metres=_frozen(metres))


class OsrmTableProvider:
    """Travel times from an OSRM server's Table service (`/table/v1/{profile}/...`).

    Large matrices are split into blocks of at most `max_table_size` sources by `max_table_size`
    destinations, because OSRM refuses bigger tables with `TooBig` (its `--max-table-size`,
    default 100). A `null` in OSRM's answer (no route) becomes `inf`.

    Pass an `httpx.Client` to share a connection pool; otherwise the provider owns one (close it,
    or use the provider as a context manager).
    """

    def __init__(
        self,
        base_url: str,
        profile: str = "driving",
        *,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
        max_table_size: int = 100,
    ) -> None:
        if timeout <= 0:
            raise InvalidProblem(f"timeout must be > 0, got {timeout}")
        if max_table_size < 1:
            raise InvalidProblem(f"max_table_size must be >= 1, got {max_table_size}")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = timeout
        self.max_table_size = max_table_size
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OsrmTableProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon]) -> TravelMatrix:
        src = validate_points(origins, "origin")
        dst = validate_points(destinations, "destination")
        seconds = np.full((len(src), len(dst)), math.inf, dtype=np.float64)
        metres = np.full((len(src), len(dst)), math.inf, dtype=np.float64)
        step = self.max_table_size
        for i in range(0, len(src), step):
            for j in range(0, len(dst), step):
                sec, met = self._table(src[i : i + step], dst[j : j + step])
                seconds[i : i + step, j : j + step] = sec
                metres[i : i + step, j : j + step] = met
        return TravelMatrix(seconds=_frozen(seconds), metres=_frozen(metres))

    def _table(
        self, src: NDArray[np.float64], dst: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One Table request: sources are the first len(src) coordinates, then destinations."""
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in np.vstack([src, dst]).tolist())
        n, m = len(src), len(dst)
        params = {
            "sources": ";".join(str(k) for k in range(n)),
            "destinations": ";".join(str(n + k) for k in range(m)),
            "annotations": "duration,distance",
        }
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}"
        try:
            response = self._client.get(url, params=params, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise TravelTimeTimeout(f"OSRM table did not answer within {self.timeout} s") from exc
        except httpx.HTTPError as exc:
            raise TravelTimeHttpError(f"OSRM table request failed: {exc}") from exc
        body = _json_or_none(response)
        # OSRM reports its own errors (InvalidQuery, TooBig, ...) as JSON with HTTP 400; prefer
        # that code and message over the bare status.
        if isinstance(body, dict) and isinstance(body.get("code"), str) and body["code"] != "Ok":
            message = body.get("message")
            raise OsrmError(
                body["code"],
                message if isinstance(message, str) else "(no message)",
                status_code=response.status_code,
            )
        if response.is_error:
            raise TravelTimeHttpError(
                f"OSRM table answered HTTP {response.status_code}",
                status_code=response.status_code,
            )
        if not isinstance(body, dict) or body.get("code") != "Ok":
            raise TravelTimeError("OSRM table answer is not a JSON object with code 'Ok'")
        return _annotation(body, "durations", n, m), _annotation(body, "distances", n, m)


def _annotation(body: dict[str, Any], key: str, n: int, m: int) -> NDArray[np.float64]:
    rows = body.get(key)
    if not isinstance(rows, list) or len(rows) != n:
        raise TravelTimeError(f"OSRM table answer has no {n}-row '{key}' array")
    for row in rows:
        if not isinstance(row, list) or len(row) != m:
            raise TravelTimeError(f"OSRM table answer '{key}' rows must have {m} entries")
        for value in row:
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise TravelTimeError(f"OSRM table answer '{key}' has a bad entry {value!r}")
    return np.array(
        [[math.inf if v is None else float(v) for v in row] for row in rows], dtype=np.float64
    ).reshape(n, m)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _to_array(rows: Sequence[Sequence[float | None]], name: str) -> NDArray[np.float64]:
    width = len(rows[0]) if len(rows) else 0
    if any(len(row) != width for row in rows):
        raise InvalidProblem(f"travel matrix {name} rows have different lengths")
    values = [[math.inf if v is None else float(v) for v in row] for row in rows]
    return np.array(values, dtype=np.float64).reshape(len(rows), width)


def _frozen(array: NDArray[np.float64]) -> NDArray[np.float64]:
    array.setflags(write=False)
    return array
