"""First matcher: offer a waiting ride to the nearest suitable available driver.

Pure: it takes the ride's needs, the candidates and a travel-time provider, and returns the
choice with a reason the driver can read. The batch optimiser (matching.assignment) replaces it
for batch windows; this one serves one request at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matching.travel import TravelTimeProvider


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


def nearest_suitable(
    *,
    pickup: tuple[float, float],
    seats: int,
    wheelchair: bool,
    candidates: Sequence[Candidate],
    exclude: Sequence[str],
    travel: TravelTimeProvider,
    max_pickup_minutes: int,
) -> Choice | None:
    suitable = [
        c
        for c in candidates
        if c.member_id not in exclude
        and c.seats >= seats
        and (c.wheelchair_accessible or not wheelchair)
    ]
    if not suitable:
        return None
    matrix = travel.matrix([(c.lat, c.lon) for c in suitable], [pickup])
    seconds = [float(matrix.seconds[i, 0]) for i in range(len(suitable))]
    best = min(range(len(suitable)), key=lambda i: (seconds[i], suitable[i].member_id))
    if not math.isfinite(seconds[best]) or seconds[best] > max_pickup_minutes * 60:
        return None
    minutes = Decimal(seconds[best] / 60).quantize(Decimal("0.1"))
    needs = f"{seats} seat(s)" + (", wheelchair access" if wheelchair else "")
    reason = (
        f"nearest on-duty driver with {needs}: {minutes} min to pickup "
        f"(of {len(suitable)} suitable)"
    )
    return Choice(suitable[best].member_id, minutes, reason)
