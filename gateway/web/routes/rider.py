"""The rider's pages: quote and request a ride (`/ride`), a ride and its live status
(`/ride/<id>`, `/live/rides/<id>`), and my rides (`/rides`).

Without JavaScript the quote form takes coordinates (or, where the city names a geocoder, an
address); `static/rider.js` adds the map, where a click sets the pickup, then the drop-off. A
quote changes nothing, so it is a GET; the request is a POST answered by a 303 to the ride.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException

from gateway.web.forms import FORM, N_
from gateway.web.live import Fragment, event_stream, fragment
from gateway.web.routes.rides import (
    CANCELLABLE,
    FINAL,
    PAGE_SIZE,
    PARTS,
    RIDER_STATES,
    BadPoint,
    Point,
    page_of,
    point,
    ride_errors,
)
from gateway.web.routing import NavLink, SignInRequired, get, post

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import WebRequest

ENDS = ("pickup", "dropoff")
NOT_FOUND = frozenset({"RideNotFound", "InvalidInput"})
MAX_SEATS = 8
NO_POINT = N_("Choose this point on the map, or type its coordinates.")
NO_PLACE = N_("Choose this point on the map, type its address, or type its coordinates.")


def _members_only(page: WebRequest) -> None:
    if not page.session.signed_in:
        raise SignInRequired


async def map_context(page: WebRequest) -> dict[str, Any]:
    """What the page's map shows: the service area, the centre, the tiles (if any)."""
    rules = (await page.query("rider/cityMap", member=False))["cityRules"]
    tiles = page.web.city.map
    return {
        "area": json.dumps([[p["lat"], p["lon"]] for p in rules["serviceArea"] or []]),
        "centre": json.dumps([rules["centre"]["lat"], rules["centre"]["lon"]]),
        "tiles": tiles.tiles_url or "",
        "attribution": tiles.attribution,
    }


async def _end(
    page: WebRequest, values: dict[str, str], end: str, errors: dict[str, str]
) -> Point | None:
    """The pickup or drop-off the form names: typed coordinates, else the address's first
    place inside the area (its coordinates and name are put back into the form)."""
    lat, lon = values.get(f"{end}_lat", ""), values.get(f"{end}_lon", "")
    address = values.get(f"{end}_address", "")
    if lat or lon:
        try:
            return point(lat, lon)
        except BadPoint:
            errors.update(ride_errors(page, {"__typename": "InvalidInput", "field": end}))
            return None
    if address and page.web.city.geocoder is not None:
        answer = (
            await page.query("rider/geocode", {"address": address, "language": page.language})
        )["geocode"]
        if page.is_problem(answer):
            errors.update(ride_errors(page, answer, field=end))
            return None
        first = answer["places"][0]
        found = Point(first["location"]["lat"], first["location"]["lon"])
        values[f"{end}_lat"], values[f"{end}_lon"] = str(found.lat), str(found.lon)
        values[f"{end}_place"] = first["name"]
        return found
    errors[end] = page.gettext(NO_POINT if page.web.city.geocoder is None else NO_PLACE)
    return None


def _values(page: WebRequest, source: Any) -> dict[str, str]:
    names = [f"{e}_{k}" for e in ENDS for k in ("lat", "lon", "address")] + ["seats"]
    values = {name: str(source.get(name, "") or "").strip() for name in names}
    values["wheelchair"] = "on" if source.get("wheelchair") else ""
    return values


def _seats(page: WebRequest, values: dict[str, str], errors: dict[str, str]) -> int:
    """The seats asked for (1 to 8), or 0 with the error by the field."""
    try:
        seats = int(values.get("seats") or 1)
    except ValueError:
        seats = 0
    if not 1 <= seats <= MAX_SEATS:
        errors.update(ride_errors(page, {"__typename": "InvalidInput", "field": "seats"}))
        return 0
    return seats


async def ride_form(page: WebRequest) -> Response:
    """The quote form; with `quote` in the query, the quote for the points it names."""
    _members_only(page)
    values = _values(page, page.request.query_params)
    errors: dict[str, str] = {}
    quote = None
    if "quote" in page.request.query_params:
        quote = await _quote(page, values, errors)
    return page.render(
        "rider/ride.html",
        status_code=422 if errors else 200,
        map=await map_context(page),
        values=values,
        errors=errors,
        quote=quote,
        geocoder=page.web.city.geocoder is not None,
        parts=PARTS,
    )


async def _quote(
    page: WebRequest, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any] | None:
    pickup = await _end(page, values, "pickup", errors)
    dropoff = await _end(page, values, "dropoff", errors)
    seats = _seats(page, values, errors)
    if pickup is None or dropoff is None or not seats:
        return None
    answer = (
        await page.query(
            "rider/quoteRide", {"pickup": pickup.variables(), "dropoff": dropoff.variables()}
        )
    )["quoteRide"]
    if page.is_problem(answer):
        errors.update(ride_errors(page, answer))
        return None
    return dict(answer)


async def request_ride(page: WebRequest) -> Response:
    """Request the quoted ride; a typed problem re-shows the form with it by its field."""
    _members_only(page)
    values = _values(page, page.form or {})
    errors: dict[str, str] = {}
    points = {}
    for end in ENDS:
        try:
            points[end] = point(values[f"{end}_lat"], values[f"{end}_lon"])
        except BadPoint:
            errors.update(ride_errors(page, {"__typename": "InvalidInput", "field": end}))
    seats = _seats(page, values, errors)
    if not errors:
        answer = (
            await page.query(
                "rider/requestRide",
                {
                    "input": {
                        "pickup": points["pickup"].variables(),
                        "dropoff": points["dropoff"].variables(),
                        "seats": seats,
                        "wheelchair": bool(values["wheelchair"]),
                    }
                },
            )
        )["requestRide"]
        if not page.is_problem(answer):
            page.notify(page.gettext("Your ride is requested."), "success")
            return page.redirect(f"/ride/{answer['ride']['id']}")
        errors.update(ride_errors(page, answer))
    return page.render(
        "rider/ride.html",
        status_code=422,
        map=await map_context(page),
        values=values,
        errors=errors,
        quote=None,
        geocoder=page.web.city.geocoder is not None,
        parts=PARTS,
    )


def _status_context(ride: dict[str, Any], update: dict[str, Any] | None) -> dict[str, Any]:
    """What `rider/_status.html` shows: the ride, and the live update's extras if any."""
    return {
        "ride": ride,
        "update": update or {},
        "states": RIDER_STATES,
        "parts": PARTS,
        "cancellable": ride["state"] in CANCELLABLE,
    }


def _status(page: WebRequest, ride: dict[str, Any], update: dict[str, Any] | None) -> str:
    return fragment(page, "rider/_status.html", **_status_context(ride, update))


async def ride_page(page: WebRequest) -> Response:
    _members_only(page)
    ride_id = str(page.request.path_params["ride_id"])
    answer = (await page.query("rider/ride", {"id": ride_id}))["ride"]
    if page.is_problem(answer):
        if answer.get("__typename") in NOT_FOUND:
            raise HTTPException(404)
        page.notify(ride_errors(page, answer)[FORM], "error")
        return page.redirect("/rides")
    return page.render(
        "rider/ride_status.html",
        map=await map_context(page),
        live=answer["state"] not in FINAL,
        **_status_context(answer, None),
    )


async def cancel_ride(page: WebRequest) -> Response:
    _members_only(page)
    ride_id = str(page.request.path_params["ride_id"])
    answer = (await page.query("rider/cancelRide", {"rideId": ride_id}))["cancelRide"]
    if page.is_problem(answer):
        page.notify(next(iter(ride_errors(page, answer).values())), "error")
    else:
        page.notify(page.gettext("Your ride is cancelled."), "success")
    return page.redirect(f"/ride/{ride_id}")


async def ride_live(page: WebRequest) -> Response:
    """The ride's status as server-sent events (`rideUpdates`, as the signed-in member)."""
    ride_id = str(page.request.path_params["ride_id"])
    updates = await page.subscribe("rider/rideUpdates", {"rideId": ride_id})

    def render(data: dict[str, Any]) -> Fragment | None:
        update = data["rideUpdates"]
        kind = update.get("__typename")
        if kind == "RideUpdate":
            return Fragment(_status(page, update["ride"], update), final=bool(update["final"]))
        if kind == "NotAuthenticated":
            return None  # the token expired mid-stream: the browser reconnects with a fresh one
        return Fragment(_notice(page, _live_problem(page, update)), final=True)

    return event_stream(updates, render, failed=lambda: _notice(page, _live_failed(page)))


def _live_problem(page: WebRequest, update: dict[str, Any]) -> str:
    if update.get("__typename") == "TooManySubscriptions":
        return page.gettext(
            "You are following too many things live at once. Close another page, or use "
            "the refresh link."
        )
    return next(iter(ride_errors(page, update).values()))


def _live_failed(page: WebRequest) -> str:
    return page.gettext("Live updates stopped. Use the refresh link.")


def _notice(page: WebRequest, text: str) -> str:
    return fragment(page, "rider/_live_notice.html", text=text)


async def my_rides(page: WebRequest) -> Response:
    _members_only(page)
    after = page.request.query_params.get("after") or None
    answer = (await page.query("rider/myRides", {"first": PAGE_SIZE, "after": after}))["myRides"]
    if page.is_problem(answer):
        page.notify(ride_errors(page, answer)[FORM], "error")
        return page.redirect("/rides")
    rides, next_cursor = page_of(answer)
    return page.render(
        "rider/rides.html", rides=rides, next_cursor=next_cursor, states=RIDER_STATES, parts=PARTS
    )


ROUTES = [
    get("/ride", ride_form, "ride"),
    post("/ride", request_ride, "request-ride"),
    get("/ride/{ride_id}", ride_page, "ride-status"),
    post("/ride/{ride_id}/cancel", cancel_ride, "cancel-ride"),
    get("/live/rides/{ride_id}", ride_live, "ride-live"),
    get("/rides", my_rides, "my-rides"),
]
NAV = [NavLink(N_("Ride"), "/ride", "members"), NavLink(N_("My rides"), "/rides", "members")]
