"""What the desk's and the board's forms send, read and checked before any GraphQL call, and
the API's typed problems as text by the field they concern, in the member's language.

A field a person typed wrongly (a latitude that is not a number, an end before a start) is
refused here with `BadField`, naming the field, and nothing is sent. What only the service can
judge (outside the service area, no consent, a window the van cannot fit) comes back as a typed
problem and goes through `problem_text`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gateway.web.forms import FORM, N_, problem_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class BadField(ValueError):
    """A form field that cannot be sent as it is; `field` names it, `text` is an msgid."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(f"{field}: {text}")
        self.field = field
        self.text = text


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float

    def as_input(self) -> dict[str, float]:
        return {"lat": self.lat, "lon": self.lon}


def place(form: Callable[[str], str], name: str) -> Place:
    """The place in fields `<name>_lat` and `<name>_lon` (a comma is read as a decimal point)."""
    try:
        lat = float(form(f"{name}_lat").replace(",", "."))
        lon = float(form(f"{name}_lon").replace(",", "."))
    except ValueError:
        raise BadField(
            name, N_("Write the latitude and longitude as numbers, like 51.05 and 3.72.")
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadField(
            name, N_("A latitude is between -90 and 90, a longitude between -180 and 180.")
        )
    return Place(lat, lon)


def seats(text: str, *, most: int = 8) -> int:
    try:
        found = int(text)
    except ValueError:
        raise BadField("seats", N_("Choose how many seats: a whole number from 1 to 8.")) from None
    if not 1 <= found <= most:
        raise BadField("seats", N_("Choose how many seats: a whole number from 1 to 8."))
    return found


def weeks(text: str, *, most: int = 52) -> int:
    """How many weeks a weekly booking runs (1: just this once)."""
    try:
        found = int(text)
    except ValueError:
        raise BadField(
            "weeks", N_("Choose for how many weeks: a whole number, 1 for once.")
        ) from None
    if not 1 <= found <= most:
        raise BadField("weeks", N_("Choose for how many weeks: a whole number, 1 for once."))
    return found


def day(text: str, field: str = "day") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadField(field, N_("Choose a date, like 2026-12-04.")) from None


def window(day_text: str, start: str, end: str, timezone: str) -> tuple[datetime, datetime]:
    """A pickup window on one day, as aware datetimes in the city's zone."""
    on = day(day_text, "window")
    try:
        begins = datetime.combine(on, time.fromisoformat(start), ZoneInfo(timezone))
        ends = datetime.combine(on, time.fromisoformat(end), ZoneInfo(timezone))
    except ValueError:
        raise BadField(
            "window", N_("Choose the window's start and end times, like 09:00.")
        ) from None
    if ends <= begins:
        raise BadField("window", N_("The window must end after it starts."))
    return begins, ends


# By problem type: the desk's and board's words for what the service refused.
PROBLEMS: dict[str, str] = {
    "NoConsent": N_(
        "This member has not given (or has withdrawn) consent for the desk to act for them. "
        "Read them the statement and record their consent first."
    ),
    "UnknownMember": N_("There is no member with this id."),
    "NotFound": N_("No member signed up with this email or phone."),
    "TooManyOpenRides": N_(
        "This member has {openRides} rides open already, as many as the co-op allows at once."
    ),
    "BookingDoesNotFit": N_(
        "No vehicle can take this window without breaking a promise to another rider. "
        "The nearest windows that fit are listed below."
    ),
    "CodeNotAllowed": N_(
        "Members who hold a role that sees other members' data cannot sign in with a code."
    ),
    "RangeTooLong": N_("Choose at most {maxDays} days."),
    "NotCaughtUp": N_("The list is catching up with the latest changes. Reload in a moment."),
    "TryAgain": N_("Something changed at the same moment. Nothing was saved: try again."),
    "DriverBusy": N_("This driver is not free just now: choose another, or wait."),
    "DriverNotRegistered": N_("This member is not a registered driver."),
    "NoProxy": N_("This member has no standing proxy to withdraw."),
    "NotYourRide": N_("Only the dispatcher who booked this ride (or its rider) can cancel it."),
    "RideNotInState": N_("The ride has moved on since this page was read: reload it."),
    "ScheduledRideCancelled": N_("This scheduled ride is cancelled already."),
    "ScheduledRideNotFound": N_("There is no such scheduled ride."),
}
# InvalidInput and OutsideServiceArea, by the field they name.
FIELDS: dict[str, str] = {
    "pickup": N_("Choose a pickup inside the area our rides serve, not the same as the drop-off."),
    "dropoff": N_("Choose a drop-off inside the area our rides serve, not the same as the pickup."),
    "seats": N_("Choose how many seats: a whole number from 1 to 8."),
    "window": N_(
        "Choose a pickup window on a service day, far enough ahead and as long as the co-op "
        "allows (10 minutes to 2 hours)."
    ),
    "day": N_("Choose a date, like 2026-12-04."),
    "from": N_("Choose a start date, like 2026-11-01."),
    "to": N_("Choose an end date on or after the start date."),
    "account": N_("Choose one of the accounts of the trial balance."),
    "onBehalfOf": N_("There is no member with this id."),
    "driverId": N_("Choose a free driver on duty."),
    "reason": N_("Say why, in a few words (at most a few hundred characters)."),
    "weeks": N_("Choose fewer weeks: the co-op books weekly rides only so many weeks ahead."),
    "memberId": N_("There is no member with this id."),
    "after": N_("This page link is no longer valid. Start from the first page."),
    "first": N_("This page link is no longer valid. Start from the first page."),
}
PROXY_HOLDER = N_("Name another member to vote for them (not the member themself).")
OUTSIDE = N_("This place is outside the area our rides serve.")


def problem_text(
    answer: Mapping[str, Any], gettext: Callable[[str], str], *, fields: frozenset[str]
) -> dict[str, str]:
    """`{field: text}` for a typed problem, as `forms.problem_errors` but with the desk's and
    board's problems; `fields` are the form's own fields (anything else goes to FORM)."""
    kind = str(answer.get("__typename", ""))
    field = answer.get("field")
    if kind == "OutsideServiceArea" and isinstance(field, str):
        return {field if field in fields else FORM: gettext(OUTSIDE)}
    if kind == "InvalidInput" and isinstance(field, str) and field in FIELDS:
        return {field if field in fields else FORM: gettext(FIELDS[field])}
    if kind in PROBLEMS:
        text = gettext(PROBLEMS[kind])
        try:
            return {FORM: text.format(**answer)}
        except (KeyError, IndexError):
            return {FORM: text}
    return problem_errors(answer, gettext, fields=fields)


def bad_field(exc: BadField, gettext: Callable[[str], str]) -> dict[str, str]:
    return {exc.field: gettext(exc.text)}
