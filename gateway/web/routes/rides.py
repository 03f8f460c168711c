"""What the rider's and the driver's pages share: a ride's state in words, the rides' typed
problems as form errors, coordinates typed into a form, and a page of a Relay connection.

Not a page module (it has no ROUTES and is not in PAGES): it sits under routes/ so that its
words are filed in an area catalog of their own, `locale/<lang>/LC_MESSAGES/rides.po`
(gateway/web/catalogs.py files strings by the module under routes/ they come from)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.web.forms import FORM, N_

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gateway.web.routing import WebRequest

# A ride's state, as its rider reads it.
RIDER_STATES: dict[str, str] = {
    "WAITING": N_("Waiting for a driver"),
    "OFFERED": N_("Offered to a driver, waiting for their answer"),
    "ACCEPTED": N_("A driver is on the way"),
    "ARRIVING": N_("Your driver is arriving at the pickup"),
    "PICKED_UP": N_("On the way to your drop-off"),
    "DROPPED_OFF": N_("Dropped off"),
    "COMPLETED": N_("Completed"),
    "CANCELLED": N_("Cancelled"),
    "NO_SHOW": N_("Marked as a no-show"),
    "UNSERVABLE": N_("Nobody could take this ride"),
}
# The same states as a driver reads them.
DRIVER_STATES: dict[str, str] = {
    "WAITING": N_("Waiting"),
    "OFFERED": N_("Offered to you"),
    "ACCEPTED": N_("Accepted: drive to the pickup"),
    "ARRIVING": N_("Arriving at the pickup"),
    "PICKED_UP": N_("Rider on board"),
    "DROPPED_OFF": N_("Dropped off"),
    "COMPLETED": N_("Completed"),
    "CANCELLED": N_("Cancelled"),
    "NO_SHOW": N_("No-show"),
    "UNSERVABLE": N_("Unservable"),
}
FINAL = frozenset({"COMPLETED", "CANCELLED", "NO_SHOW", "UNSERVABLE"})
CANCELLABLE = frozenset({"WAITING", "OFFERED", "ACCEPTED", "ARRIVING"})
PARTS: dict[str, str] = {
    "driver": N_("The driver"),
    "coop": N_("The co-op"),
    "common_fund": N_("The common fund"),
    "protocol": N_("The shared protocol"),
}
DRIVER_STATUS: dict[str, str] = {
    "OFF_DUTY": N_("Off duty"),
    "AVAILABLE": N_("On duty, waiting for a ride"),
    "OFFERED": N_("A ride is offered to you"),
    "ON_RIDE": N_("On a ride"),
}

# The rides' problems, in a member's words; `{name}` fields come from the answer.
PROBLEMS: dict[str, str] = {
    "OutsideServiceArea": N_("This point is outside the area our rides serve."),
    "TooManyOpenRides": N_(
        "You have {openRides} rides open already, the most at once ({limit}). "
        "Wait for one to end, or cancel one."
    ),
    "AddressNotFound": N_("We found no place with this address inside the area we serve."),
    "GeocoderUnavailable": N_(
        "The address search is not answering. Pick the point on the map or type its coordinates."
    ),
    "RideNotInState": N_("This ride has moved on already; the page shows it as it is now."),
    "NotYourRide": N_("This ride is not yours to act on."),
    "OfferExpired": N_("The offer lapsed before you accepted it; the ride went to another batch."),
    "NoShowTooEarly": N_(
        "A no-show can be marked after {requiredMinutes} minutes at the pickup "
        "(you have waited {waitedMinutes})."
    ),
    "DriverBusy": N_("Finish your ride first."),
    "DriverNotRegistered": N_("Register your vehicle first."),
    "DriverAlreadyRegistered": N_("Your vehicle is registered already."),
    "TryAgain": N_("The ride changed at the same moment. Try again."),
    "RideNotFound": N_("There is no such ride."),
}
INVALID: dict[str, str] = {
    "pickup": N_("Type a latitude (-90 to 90) and a longitude (-180 to 180)."),
    "dropoff": N_("Type a latitude (-90 to 90) and a longitude (-180 to 180)."),
    "position": N_("Type a latitude (-90 to 90) and a longitude (-180 to 180)."),
    "address": N_("Type an address of at most 200 characters."),
    "seats": N_("Choose 1 to 8 seats."),
}


def ride_errors(
    page: WebRequest, answer: Mapping[str, Any], field: str | None = None
) -> dict[str, str]:
    """A rides problem as `{field: text}`: by the field it names (pickup, dropoff), by `field`
    when given (an address the geocoder did not find), else for the whole form."""
    kind = str(answer.get("__typename", ""))
    named = answer.get("field") if isinstance(answer.get("field"), str) else None
    where = field or named or FORM
    if kind == "InvalidInput" and named in INVALID:
        return {where: page.gettext(INVALID[named])}
    if kind in PROBLEMS:
        text = page.gettext(PROBLEMS[kind])
        try:
            return {where: text.format(**answer)}
        except (KeyError, IndexError):
            return {where: text}
    return page.errors(answer, *([where] if where != FORM else []))


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    def variables(self) -> dict[str, float]:
        return {"lat": self.lat, "lon": self.lon}


class BadPoint(ValueError):
    pass


def point(lat: str, lon: str) -> Point:
    """Coordinates typed into a form (a comma as decimal sign too), or BadPoint."""
    try:
        found = Point(float(lat.replace(",", ".")), float(lon.replace(",", ".")))
    except ValueError:
        raise BadPoint(f"not coordinates: {lat!r}, {lon!r}") from None
    if not (math.isfinite(found.lat) and math.isfinite(found.lon)):
        raise BadPoint("not finite")
    if not (-90 <= found.lat <= 90 and -180 <= found.lon <= 180):
        raise BadPoint("out of range")
    return found


def page_of(connection: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """A connection's nodes and the cursor of the next page (None on the last)."""
    info = connection["pageInfo"]
    return list(connection["nodes"]), info["endCursor"] if info["hasNextPage"] else None


PAGE_SIZE = 10
