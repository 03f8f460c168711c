"""First matcher: offer a waiting ride to the nearest suitable available driver.

Pure: it takes the ride's needs, the candidates and a travel-time provider, and returns the
choices, nearest first, each with a reason the driver can read. The batch optimiser
(matching.assignment) replaces it for batch windows; this one serves one request at a time.

Candidates come from the drivers read model, inside a bounding box (`reach_box`) that holds
every point from which a driver could reach the pickup within the city's maximum pickup time,
so the matcher never sees, and dispatch never loads, drivers who could not serve the ride.
Dispatch reads a small box first (`RINGS`): with travel time growing with distance, a suitable
driver inside its circle is nearer than anyone outside it, so the whole reach is read only
when nobody is close, and the rows read follow the density around the pickup, not the city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from kernel.geo import EARTH_RADIUS_KM, Point, great_circle_km

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matching.travel import TravelTimeProvider

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# Widen the box a little: it must hold every driver within reach despite float rounding.
BOX_MARGIN = 1.01
# The search radii, as shares of the reach: a quarter first (a sixteenth of the area), then all.
RINGS = (0.25, 1.0)


@dataclass(frozen=True)
class Candidate:
    member_id: str
    lat: float
    lon: float
    seats: int
    wheelchair_accessible: bool


@dataclass(frozen=True)
class Choice:
    member_id: str
    pickup_minutes: Decimal
    reason: str


@dataclass(frozen=True)
class Box:
    """Inclusive latitude and longitude ranges, in degrees (never across the antimeridian)."""

    lat: tuple[float, float]
    lon: tuple[float, float]


def reach_km(*, max_pickup_minutes: int, speed_kmh: float, detour_factor: float) -> float:
    """The straight-line distance a driver covers in the maximum pickup time on the road."""
    return max_pickup_minutes / 60 * speed_kmh / detour_factor


def reach_box(lat: float, lon: float, km: float) -> list[Box]:
    """Boxes holding every point within `km` (great circle) of (lat, lon): one, or two where
    the box crosses the antimeridian; the longitude span is whole near the poles."""
    dlat = km * BOX_MARGIN / KM_PER_DEGREE
    south, north = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    # The widest longitude span is at the latitude farthest from the equator.
    widest = math.cos(math.radians(max(abs(south), abs(north))))
    if widest <= 1e-9 or km * BOX_MARGIN / (KM_PER_DEGREE * widest) >= 180.0:
        return [Box((south, north), (-180.0, 180.0))]
    dlon = km * BOX_MARGIN / (KM_PER_DEGREE * widest)
    west, east = lon - dlon, lon + dlon
    if west < -180.0:
        return [Box((south, north), (-180.0, east)), Box((south, north), (west + 360.0, 180.0))]
    if east > 180.0:
        return [Box((south, north), (west, 180.0)), Box((south, north), (-180.0, east - 360.0))]
    return [Box((south, north), (west, east))]


def ranked(
    *,
    pickup: tuple[float, float],
    seats: int,
    wheelchair: bool,
    candidates: Sequence[Candidate],
    exclude: Sequence[str],
    travel: TravelTimeProvider,
    max_pickup_minutes: int,
    within_km: float | None = None,
) -> list[Choice]:
    """Every suitable candidate within the maximum pickup time, nearest first (ties by id);
    only those within `within_km` of the pickup (great circle) if given."""
    here = Point(*pickup)
    suitable = [
        c
        for c in candidates
        if c.member_id not in exclude
        and c.seats >= seats
        and (c.wheelchair_accessible or not wheelchair)
        and (within_km is None or great_circle_km(Point(c.lat, c.lon), here) <= within_km)
    ]
    if not suitable:
        return []
    matrix = travel.matrix([(c.lat, c.lon) for c in suitable], [pickup])
    reachable = sorted(
        (
            (seconds, c.member_id)
            for i, c in enumerate(suitable)
            if math.isfinite(seconds := float(matrix.seconds[i, 0]))
            and seconds <= max_pickup_minutes * 60
        ),
    )
    needs = f"{seats} seat(s)" + (", wheelchair access" if wheelchair else "")
    choices = []
    for seconds, member_id in reachable:
        minutes = Decimal(seconds / 60).quantize(Decimal("0.1"))
        reason = (
            f"nearest on-duty driver with {needs}: {minutes} min to pickup "
            f"(of {len(reachable)} suitable)"
        )
        choices.append(Choice(member_id, minutes, reason))
    return choices
