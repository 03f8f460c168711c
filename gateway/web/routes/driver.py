"""The driver's pages: `/drive` (register a vehicle and ask for the driver role; go on and off
duty at a position; the ride offered, with why it came to me; accept, decline, arriving, picked
up, dropped off, no-show), live at `/live/driver`; my drives (`/drives`) and my earnings and
credits line by line (`/drive/credits`).

Every action is a plain form POSTed to `/drive/...` and answered by a 303 back to `/drive`, so
the page works without JavaScript; the live region swaps in each update of `driverUpdates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException

from gateway.web.forms import FORM, N_
from gateway.web.live import Fragment, event_stream, fragment
from gateway.web.routes.rider import map_context
from gateway.web.routes.rides import (
    DRIVER_STATES,
    DRIVER_STATUS,
    PAGE_SIZE,
    PARTS,
    BadPoint,
    page_of,
    point,
    ride_errors,
)
from gateway.web.routing import NavLink, SignInRequired, get, post

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import WebRequest

DRIVER = "driver"
# What each button on a ride does: the document, and what the driver is told after.
ACTIONS: dict[str, tuple[str, str]] = {
    "accept": ("driver/acceptRide", N_("You accepted the ride. Drive to the pickup.")),
    "decline": ("driver/declineRide", N_("You declined the ride.")),
    "arriving": ("driver/markArriving", N_("The rider knows you are arriving.")),
    "picked-up": ("driver/markPickedUp", N_("Rider on board.")),
    "dropped-off": ("driver/markDroppedOff", N_("Ride completed. Thank you!")),
    "no-show": ("driver/markNoShow", N_("The ride is marked as a no-show.")),
}
MAX_SEATS = 8


def _members_only(page: WebRequest) -> None:
    if not page.session.signed_in:
        raise SignInRequired


async def _refresh_roles(page: WebRequest) -> None:
    """Fresh tokens, so a driver role the board granted since sign-in counts from now on."""
    answer = (
        await page.query(
            "driver/refreshRoles", {"refreshToken": page.session.refresh_token}, member=False
        )
    )["refreshToken"]
    if answer.get("__typename") != "SignedIn":
        page.session.sign_out()
        raise SignInRequired
    page.keep_tokens(answer, rotate_csrf=False)


def panel_context(
    driver: dict[str, Any], ride: dict[str, Any] | None, pickup_minutes: Any = None
) -> dict[str, Any]:
    """What `driver/_panel.html` shows: the status, the ride offered or held, its actions."""
    state = ride["state"] if ride else None
    actions = {
        "OFFERED": ["accept", "decline"],
        "ACCEPTED": ["arriving", "picked-up"],
        "ARRIVING": ["picked-up", "no-show"],
        "PICKED_UP": ["dropped-off"],
    }.get(state or "", [])
    return {
        "driver": driver,
        "ride": ride,
        "pickup_minutes": pickup_minutes,
        "actions": actions,
        "states": DRIVER_STATES,
        "statuses": DRIVER_STATUS,
        "parts": PARTS,
    }


async def drive(page: WebRequest) -> Response:
    _members_only(page)
    if not page.session.holds(DRIVER):
        await _refresh_roles(page)
    if not page.session.holds(DRIVER):
        account = (await page.query("driver/myAccount"))["myAccount"]
        asked = not page.is_problem(account) and DRIVER in account["requestedRoles"]
        return page.render("driver/register.html", asked=asked)
    found = (await page.query("driver/myDriver"))["myDriver"]
    if page.is_problem(found):
        if found.get("__typename") == "DriverNotRegistered":
            return page.render("driver/register.html", asked=False)
        page.notify(ride_errors(page, found)[FORM], "error")
        return page.render("driver/register.html", asked=False)
    ride = None
    if found["currentRideId"]:
        answer = (await page.query("driver/currentRide", {"id": found["currentRideId"]}))["ride"]
        ride = None if page.is_problem(answer) else answer
    return page.render(
        "driver/drive.html",
        map=await map_context(page),
        live=found["status"] != "OFF_DUTY",
        values={},
        **panel_context(found, ride),
    )


async def register(page: WebRequest) -> Response:
    _members_only(page)
    errors: dict[str, str] = {}
    try:
        seats = int(page.field("seats") or "0")
    except ValueError:
        seats = 0
    if not 1 <= seats <= MAX_SEATS:
        errors.update(ride_errors(page, {"__typename": "InvalidInput", "field": "seats"}))
    vehicle = page.field("vehicle") or "car"
    if not errors:
        answer = (
            await page.query(
                "driver/registerDriver",
                {
                    "input": {
                        "seats": seats,
                        "wheelchairAccessible": bool(page.field("wheelchair")),
                        "vehicle": vehicle,
                    }
                },
            )
        )["registerDriver"]
        if not page.is_problem(answer):
            page.notify(
                page.gettext(
                    "Your vehicle is registered. The board is asked to give you the driver "
                    "role; this page shows your duty once it has."
                ),
                "success",
            )
            return page.redirect("/drive")
        errors.update(ride_errors(page, answer))
    return page.render(
        "driver/register.html",
        status_code=422,
        asked=False,
        errors=errors,
        values={"seats": page.field("seats"), "vehicle": vehicle},
    )


async def duty(page: WebRequest) -> Response:
    _members_only(page)
    if page.field("duty") == "off":
        answer = (await page.query("driver/goOffDuty"))["goOffDuty"]
        done = page.gettext("You are off duty.")
    else:
        try:
            at = point(page.field("position_lat"), page.field("position_lon"))
        except BadPoint:
            return await _duty_refused(
                page, ride_errors(page, {"__typename": "InvalidInput", "field": "position"})
            )
        answer = (await page.query("driver/goOnDuty", {"position": at.variables()}))["goOnDuty"]
        done = page.gettext("You are on duty. Rides near you will be offered here.")
    if page.is_problem(answer):
        return await _duty_refused(page, ride_errors(page, answer, field="position"))
    page.notify(done, "success")
    return page.redirect("/drive")


async def _duty_refused(page: WebRequest, errors: dict[str, str]) -> Response:
    """The drive page again, with the problem by the position fields; nothing changed."""
    found = (await page.query("driver/myDriver"))["myDriver"]
    if page.is_problem(found):
        page.notify(next(iter(errors.values())), "error")
        return page.redirect("/drive")
    return page.render(
        "driver/drive.html",
        status_code=422,
        map=await map_context(page),
        live=found["status"] != "OFF_DUTY",
        errors=errors,
        values={
            "position_lat": page.field("position_lat"),
            "position_lon": page.field("position_lon"),
        },
        **panel_context(found, None),
    )


async def ride_action(page: WebRequest) -> Response:
    _members_only(page)
    action = str(page.request.path_params["action"])
    if action not in ACTIONS:
        raise HTTPException(404)
    document, done = ACTIONS[action]
    ride_id = str(page.request.path_params["ride_id"])
    operation = document.split("/")[1]
    answer = (await page.query(document, {"rideId": ride_id}))[operation]
    if page.is_problem(answer):
        page.notify(next(iter(ride_errors(page, answer).values())), "error")
    else:
        page.notify(page.gettext(done), "success")
    return page.redirect("/drive")


async def drive_live(page: WebRequest) -> Response:
    """The driver's panel as server-sent events (`driverUpdates`, as the signed-in member)."""
    updates = await page.subscribe("driver/driverUpdates")

    def render(data: dict[str, Any]) -> Fragment | None:
        update = data["driverUpdates"]
        kind = update.get("__typename")
        if kind == "DriverUpdate":
            ride = update["offer"] or update["ride"]
            context = panel_context(update["driver"], ride, update["pickupMinutes"])
            return Fragment(fragment(page, "driver/_panel.html", **context))
        if kind == "NotAuthenticated":
            return None  # the token expired: the browser reconnects with a fresh one
        if kind == "TooManySubscriptions":
            text = page.gettext(
                "You are following too many things live at once. Close another page, or use "
                "the refresh link."
            )
        else:
            text = next(iter(ride_errors(page, update).values()))
        return Fragment(fragment(page, "rider/_live_notice.html", text=text), final=True)

    return event_stream(
        updates,
        render,
        failed=lambda: fragment(
            page,
            "rider/_live_notice.html",
            text=page.gettext("Live updates stopped. Use the refresh link."),
        ),
    )


async def my_drives(page: WebRequest) -> Response:
    _members_only(page)
    if not page.session.holds(DRIVER):
        return page.redirect("/drive")
    after = page.request.query_params.get("after") or None
    answer = (await page.query("driver/myDrives", {"first": PAGE_SIZE, "after": after}))["myDrives"]
    if page.is_problem(answer):
        page.notify(ride_errors(page, answer)[FORM], "error")
        return page.redirect("/drive")
    drives, next_cursor = page_of(answer)
    return page.render(
        "driver/drives.html", drives=drives, next_cursor=next_cursor, states=DRIVER_STATES
    )


async def my_credits(page: WebRequest) -> Response:
    _members_only(page)
    after = page.request.query_params.get("after") or None
    answer = (await page.query("driver/myCredits", {"first": PAGE_SIZE, "after": after}))[
        "myCredits"
    ]
    if page.is_problem(answer):
        page.notify(ride_errors(page, answer)[FORM], "error")
        return page.redirect("/drive")
    lines, next_cursor = page_of(answer["lines"])
    return page.render("driver/credits.html", credits=answer, lines=lines, next_cursor=next_cursor)


ROUTES = [
    get("/drive", drive, "drive"),
    post("/drive/register", register, "drive-register"),
    post("/drive/duty", duty, "drive-duty"),
    post("/drive/rides/{ride_id}/{action}", ride_action, "drive-ride-action"),
    get("/live/driver", drive_live, "drive-live"),
    get("/drives", my_drives, "my-drives"),
    get("/drive/credits", my_credits, "my-credits"),
]
NAV = [
    NavLink(N_("Drive"), "/drive", "members"),
    NavLink(N_("My drives"), "/drives", DRIVER),
    NavLink(N_("My earnings"), "/drive/credits", DRIVER),
]
