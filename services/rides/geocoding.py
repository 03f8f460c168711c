"""Addresses to places, through the Nominatim-compatible search service a city names
(`[geocoder] search_url`), asked server-side with httpx.

Only places inside the city's service area are answered: the search is bounded to the area's
bounding box (`viewbox`, `bounded=1`) and every answer is tested against the polygon itself,
so a rider never picks a pickup the rides service would refuse. The service's own words for a
place (`display_name`) are kept as it sent them; pages escape them like any other text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from kernel.cities import Geocoder
    from services.rides.area import ServiceArea

MAX_ADDRESS = 200


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float


class GeocodingError(Exception):
    """Why an address could not be turned into places."""


class BadAddress(GeocodingError):
    """The address is empty or too long; nothing was asked."""


class GeocoderFailed(GeocodingError):
    """The search service did not answer, or answered something that is not a search result."""


async def search(
    geocoder: Geocoder,
    address: str,
    *,
    area: ServiceArea | None,
    language: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Place]:
    """The places (best first) the service finds for `address` inside `area`; [] for none."""
    text = " ".join(address.split())
    if not text:
        raise BadAddress("type an address")
    if len(text) > MAX_ADDRESS:
        raise BadAddress(f"an address has at most {MAX_ADDRESS} characters")
    params: dict[str, str | int] = {
        "q": text,
        "format": "jsonv2",
        # More than shown: some may fall in the box but outside the polygon.
        "limit": min(geocoder.max_places * 2, 40),
    }
    if area is not None:
        lats = [lat for lat, _ in area.vertices]
        lons = [lon for _, lon in area.vertices]
        params["viewbox"] = f"{min(lons)},{max(lats)},{max(lons)},{min(lats)}"
        params["bounded"] = 1
    headers = {"User-Agent": "Muni (a platform co-op's rides service)"}
    if language:
        headers["Accept-Language"] = language
    try:
        async with httpx.AsyncClient(
            timeout=geocoder.timeout_seconds, transport=transport
        ) as client:
            response = await client.get(geocoder.search_url, params=params, headers=headers)
            response.raise_for_status()
            found = response.json()
    except httpx.TimeoutException as exc:
        raise GeocoderFailed(
            f"the geocoder did not answer in {geocoder.timeout_seconds:g} s"
        ) from exc
    except httpx.HTTPStatusError as exc:
        raise GeocoderFailed(f"the geocoder answered HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise GeocoderFailed(f"the geocoder could not be reached ({type(exc).__name__})") from exc
    except ValueError as exc:
        raise GeocoderFailed("the geocoder's answer is not JSON") from exc
    if not isinstance(found, list):
        raise GeocoderFailed("the geocoder's answer is not a list of places")
    places = [p for p in (_place(item) for item in found) if p is not None]
    if area is not None:
        places = [p for p in places if area.contains(p.lat, p.lon)]
    return places[: geocoder.max_places]


def _place(item: Any) -> Place | None:
    """A search result as a Place, or None where it lacks a name or valid coordinates."""
    if not isinstance(item, dict):
        return None
    try:
        lat, lon = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = item.get("display_name") or item.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    return Place(name=name.strip(), lat=lat, lon=lon)
