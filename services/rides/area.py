"""The service area: is a point inside the city's polygon?

A city's area is a few kilometres across, so the polygon is read as plane (lat, lon)
coordinates: the error against a geodesic test is metres, far below a pickup's precision. Ray
casting (even-odd rule); a point on an edge counts as inside.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceArea:
    """A polygon of (lat, lon) vertices in order; the last joins the first."""

    vertices: tuple[tuple[float, float], ...]

    def contains(self, lat: float, lon: float) -> bool:
        inside = False
        n = len(self.vertices)
        for i in range(n):
            (y1, x1), (y2, x2) = self.vertices[i], self.vertices[(i + 1) % n]
            if _on_segment(lat, lon, y1, x1, y2, x2):
                return True
            if (y1 > lat) != (y2 > lat):
                # The longitude where the edge crosses this latitude.
                cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
                if lon < cross:
                    inside = not inside
        return inside


def _on_segment(y: float, x: float, y1: float, x1: float, y2: float, x2: float) -> bool:
    cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)
    if abs(cross) > 1e-12:
        return False
    return min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2)
