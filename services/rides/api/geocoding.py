"""`geocode(address)`: the places inside the service area that the city's geocoder finds for an
address a rider typed (the web app's rider page asks it; services/rides/geocoding.py asks the
service). Typed answers for a city without a geocoder, an address nothing matches, and a
geocoder that did not answer; none of them changes anything."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, InvalidInput, NotAuthenticated, NotAuthorized, Problem
from services.rides import geocoding
from services.rides.api.location import Location
from services.rides.application import Rides


@strawberry.type(description="A place the geocoder found, inside the service area.")
class Place:
    name: str = strawberry.field(description="The geocoder's name for it (its display name).")
    location: Location


@strawberry.type(description="The places found for an address, best first (at least one).")
class Places:
    address: str
    places: list[Place]


@strawberry.type(
    description="The city names no geocoder: pick points on the map or type coordinates."
)
class NoGeocoder(Problem):
    pass


@strawberry.type(description="Nothing inside the service area matches the address.")
class AddressNotFound(Problem):
    address: str


@strawberry.type(description="The geocoder did not answer (or answered nonsense); try again.")
class GeocoderUnavailable(Problem):
    pass


GeocodeResult = Annotated[
    Places
    | NoGeocoder
    | AddressNotFound
    | GeocoderUnavailable
    | InvalidInput
    | NotAuthenticated
    | NotAuthorized,
    strawberry.union("GeocodeResult"),
]


@strawberry.type
class GeocodingQuery:
    @strawberry.field(
        description="Places inside the service area for an address (the city's geocoder, "
        "Nominatim-compatible). `language`: the language of the places' names."
    )
    async def geocode(
        self, info: Info[Context, None], address: str, language: str | None = None
    ) -> GeocodeResult:
        rides = info.context.app(Rides)
        geocoder = rides.city.geocoder
        if geocoder is None:
            return NoGeocoder(message=f"the city {rides.city.id!r} names no geocoder")
        if language is not None and language not in rides.city.languages:
            return InvalidInput(
                message=f"language must be one of {', '.join(rides.city.languages)}",
                field="language",
            )
        try:
            found = await geocoding.search(geocoder, address, area=rides.area, language=language)
        except geocoding.BadAddress as exc:
            return InvalidInput(message=str(exc), field="address")
        except geocoding.GeocoderFailed as exc:
            return GeocoderUnavailable(message=str(exc))
        if not found:
            text = " ".join(address.split())
            return AddressNotFound(
                message=f"nothing inside the service area matches {text!r}", address=text
            )
        return Places(
            address=" ".join(address.split()),
            places=[Place(name=p.name, location=Location(lat=p.lat, lon=p.lon)) for p in found],
        )
