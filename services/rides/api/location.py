"""A point on the map, as GraphQL answers it and takes it."""

from __future__ import annotations

import strawberry


@strawberry.type
class Location:
    lat: float
    lon: float


@strawberry.input
class LocationInput:
    lat: float
    lon: float
