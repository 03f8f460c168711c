"""The dispatcher's desk, read side: every ride in progress and every driver on duty.

Use cases beside the application's (services/rides/application.py), on its read models only:
a page of each, with the position its read model had applied (`asOf`) and, given a mutation's
`position` as `seen`, only once that write shows. Booking for a member is `requestRide` with
`onBehalfOf` (the members service checks their consent); this module only reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.paging import page_request
from kernel.readside.freshness import read_after
from services.rides.dispatch import Box
from services.rides.domain import InvalidRideRequest
from services.rides.projections import Drivers, Listing, RideRecords
from services.rides.projections.desk import BY_DRIVER, drivers_on_duty, rides_in_progress
from services.rides.projections.rides import BY_REQUEST

if TYPE_CHECKING:
    from services.rides.application import Rides
    from services.rides.projections import DriverRecord, RideRecord


def area(*, south: float, west: float, north: float, east: float) -> Box:
    """The map's visible area as a box; `InvalidRideRequest` naming `within` if it is none."""
    if not (-90 <= south <= north <= 90):
        raise InvalidRideRequest("within", "south and north must be latitudes, south <= north")
    if not (-180 <= west <= east <= 180):
        raise InvalidRideRequest(
            "within", "west and east must be longitudes, west <= east (not across 180°)"
        )
    return Box(lat=(south, north), lon=(west, east))


def rides_in_progress_page(
    rides: Rides, *, first: int | None, after: str | None, seen: str | None
) -> Listing[RideRecord]:
    """Every ride not yet ended, the longest waiting first (raises `InvalidPage`,
    `NotCaughtUp`)."""
    request = page_request(first, after, arity=len(BY_REQUEST))
    as_of = read_after(rides, RideRecords, seen)
    return Listing(rides_in_progress(rides.read_model(RideRecords), request), as_of)


def drivers_on_duty_page(
    rides: Rides,
    *,
    first: int | None,
    after: str | None,
    seen: str | None,
    within: Box | None = None,
) -> Listing[DriverRecord]:
    """Every driver on duty (inside `within`, the map's area, if given), by id."""
    request = page_request(first, after, arity=len(BY_DRIVER))
    as_of = read_after(rides, Drivers, seen)
    return Listing(drivers_on_duty(rides.read_model(Drivers), request, within=within), as_of)
