"""The dispatcher's desk (role dispatcher): find the member who phoned, see and record their
consent, book a ride for them (now, or in a pickup window days ahead), hand them a one-time
sign-in code; every ride in progress and every driver on duty on a map and in tables; every
vehicle's schedule for a day and a vehicle's route on a map.

The maps (static/desk.js, Leaflet) are drawn from the tables' rows, so the tables are the page
and the map is a picture of them: without JavaScript, or with a screen reader, nothing is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from gateway.web import desk_input, i18n
from gateway.web.desk_input import BadField, bad_field, problem_text
from gateway.web.forms import FORM, N_
from gateway.web.roles import for_role
from gateway.web.routing import NavLink, get, post

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.responses import Response

    from gateway.web.routing import WebRequest

ROLE = "dispatcher"
PAGE_SIZE = 20
MEMBER_RIDES = 5  # the member page shows their latest rides; the rest page by `?after=`
RIDE_FIELDS = frozenset({"pickup", "dropoff", "seats"})
SCHEDULED_FIELDS = frozenset({"pickup", "dropoff", "seats", "window"})


def _desk(handler: Callable[[WebRequest], Awaitable[Response]]) -> Any:
    return for_role(ROLE, handler)


def _arg(page: WebRequest, name: str) -> str | None:
    value = page.request.query_params.get(name, "").strip()
    return value or None


async def _timezone(page: WebRequest) -> str:
    return str((await page.query("desk/cityClock", member=False))["cityRules"]["timezone"])


def _why(problem: dict[str, Any], page: WebRequest) -> str:
    """A typed problem in the member's words, for an error page."""
    return problem_text(problem, page.gettext, fields=frozenset())[FORM]


def _member_path(member_id: str) -> str:
    return f"/desk/members/{quote(member_id, safe='')}"


# -- the desk: what is moving now ---------------------------------------------------------------
async def desk(page: WebRequest) -> Response:
    return await _desk_page(page)


async def _desk_page(
    page: WebRequest, *, errors: dict[str, str] | None = None, login: str = "", status: int = 200
) -> Response:
    rides = (
        await page.query("desk/ridesInProgress", {"first": PAGE_SIZE, "after": _arg(page, "after")})
    )["ridesInProgress"]
    drivers = (
        await page.query(
            "desk/driversOnDuty", {"first": PAGE_SIZE, "after": _arg(page, "drivers_after")}
        )
    )["driversOnDuty"]
    problems = {}
    for name, answer in (("rides", rides), ("drivers", drivers)):
        if page.is_problem(answer):
            problems[name] = _why(answer, page)
    return page.render(
        "desk/desk.html",
        status_code=status,
        rides=None if "rides" in problems else rides,
        drivers=None if "drivers" in problems else drivers,
        problems=problems,
        field_errors=errors or {},
        field_values={"login": login},
        drivers_after=_arg(page, "drivers_after"),
        rides_after=_arg(page, "after"),
    )


async def find(page: WebRequest) -> Response:
    """GET /desk/find?login=: the member's page, or the desk with the problem by the field."""
    login = (page.request.query_params.get("login") or "").strip()
    if not login:
        errors = {"login": page.gettext("Write the email or phone the member signed up with.")}
        return await _desk_page(page, errors=errors, status=400)
    found = (await page.query("desk/findMember", {"login": login}))["findMember"]
    if page.is_problem(found):
        errors = problem_text(found, page.gettext, fields=frozenset({"login"}))
        if "login" not in errors and found.get("__typename") == "NotFound":
            errors = {"login": errors.pop(FORM)}
        return await _desk_page(page, errors=errors, login=login, status=404)
    return page.redirect(_member_path(str(found["memberId"])))


# -- one member: consent, booking, a sign-in code -----------------------------------------------
async def member(page: WebRequest) -> Response:
    return await _member_page(page)


async def _member_page(
    page: WebRequest,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    nearest: list[dict[str, Any]] | None = None,
    quoted: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    member_id = str(page.request.path_params["member_id"])
    consent = (await page.query("desk/memberConsent", {"memberId": member_id}))["memberConsent"]
    kind = consent.get("__typename")
    if kind not in ("Consent", "NoConsent"):
        return page.not_found(page.gettext("No such member"), _why(consent, page))
    timezone = await _timezone(page)
    today = datetime.now(ZoneInfo(timezone)).date().isoformat()
    their_rides = (
        await page.query(
            "desk/memberRides",
            {"memberId": member_id, "first": MEMBER_RIDES, "after": _arg(page, "after")},
        )
    )["memberRides"]
    return page.render(
        "desk/member.html",
        rides=None if page.is_problem(their_rides) else their_rides,
        status_code=status,
        member_id=member_id,
        consent=consent if kind == "Consent" else None,
        form=form,
        field_errors=errors or {},
        field_values=values or {},
        nearest=nearest or [],
        quoted=quoted,
        today=today,
        statement=page.gettext(CONSENT_STATEMENT),
    )


CONSENT_STATEMENT = N_(
    "I agree that the co-op's desk may book, change and cancel rides for me when I ask by "
    "phone, and that it records each time it does. I can withdraw this at any time."
)


async def give_consent(page: WebRequest) -> Response:
    member_id = str(page.request.path_params["member_id"])
    statement = page.field("statement")
    if not statement:
        errors = {
            "statement": page.gettext("Write what the member said, or the statement you read them.")
        }
        return await _member_page(page, form="consent", errors=errors, status=400)
    answer = (
        await page.query("desk/giveConsent", {"memberId": member_id, "statement": statement})
    )["giveConsent"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset({"statement"}))
        return await _member_page(
            page, form="consent", errors=errors, values={"statement": statement}, status=400
        )
    page.notify(page.gettext("Consent recorded: the desk may now book for this member."), "success")
    return page.redirect(_member_path(member_id))


BOOKING_FIELDS = (
    *("pickup_lat", "pickup_lon", "dropoff_lat", "dropoff_lon", "seats", "wheelchair"),
    *("day", "start", "end", "weeks"),
)


async def withdraw_consent(page: WebRequest) -> Response:
    """The member asked the desk to stop acting for them: recorded with what they said."""
    member_id = str(page.request.path_params["member_id"])
    statement = page.field("statement") or page.gettext(WITHDRAW_STATEMENT)
    answer = (
        await page.query("desk/withdrawConsent", {"memberId": member_id, "statement": statement})
    )["withdrawConsent"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset())
        return await _member_page(page, form="withdraw", errors=errors, status=400)
    page.notify(
        page.gettext("Consent withdrawn: the desk can no longer book for this member."), "success"
    )
    return page.redirect(_member_path(member_id))


WITHDRAW_STATEMENT = N_("The member asked by phone that the desk no longer act for them.")


async def give_proxy(page: WebRequest) -> Response:
    """The member's standing proxy (their vote, until withdrawn) to another member, named by
    email, phone or member id; recorded as the desk acting for them, with their consent."""
    member_id = str(page.request.path_params["member_id"])
    to = page.field("to")
    if not to:
        errors = {"to": page.gettext("Write the email, phone or member id of who votes for them.")}
        return await _member_page(page, form="proxy", errors=errors, status=400)
    holder = to
    if ":" not in to:  # a login: the desk finds the member, as for the one who phoned
        found = (await page.query("desk/findMember", {"login": to}))["findMember"]
        if page.is_problem(found):
            errors = {"to": _why(found, page)}
            return await _member_page(
                page, form="proxy", errors=errors, values={"to": to}, status=400
            )
        holder = str(found["memberId"])
    answer = (await page.query("desk/giveProxy", {"to": holder, "onBehalfOf": member_id}))[
        "giveProxy"
    ]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset({"to"}))
        if answer.get("field") == "to":  # the board's `to` is a date: this one is a member
            errors = {"to": page.gettext(desk_input.PROXY_HOLDER)}
        return await _member_page(page, form="proxy", errors=errors, values={"to": to}, status=400)
    page.notify(page.gettext("Proxy recorded: %(to)s votes for this member.", to=to), "success")
    return page.redirect(_member_path(member_id))


async def withdraw_proxy(page: WebRequest) -> Response:
    member_id = str(page.request.path_params["member_id"])
    answer = (await page.query("desk/withdrawProxy", {"onBehalfOf": member_id}))["withdrawProxy"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset())
        return await _member_page(page, form="proxy", errors=errors, status=400)
    page.notify(page.gettext("Proxy withdrawn: the member votes for themself."), "success")
    return page.redirect(_member_path(member_id))


def _ride_values(page: WebRequest) -> dict[str, str]:
    """What a booking form sent, to show it again beside a refusal."""
    return {name: page.field(name) for name in BOOKING_FIELDS}


async def quote_ride(page: WebRequest) -> Response:
    """What the ride would cost, to read to the member before booking (nothing is booked)."""
    values = _ride_values(page)
    try:
        places = {
            "pickup": desk_input.place(page.field, "pickup").as_input(),
            "dropoff": desk_input.place(page.field, "dropoff").as_input(),
        }
    except BadField as exc:
        return await _member_page(
            page, form="ride", errors=bad_field(exc, page.gettext), values=values, status=400
        )
    answer = (await page.query("desk/quoteRide", places, member=False))["quoteRide"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=RIDE_FIELDS)
        return await _member_page(page, form="ride", errors=errors, values=values, status=400)
    return await _member_page(page, form="ride", values=values, quoted=answer)


async def book_ride(page: WebRequest) -> Response:
    """An immediate ride for the member: it waits for the next batch, then is offered."""
    member_id = str(page.request.path_params["member_id"])
    values = _ride_values(page)
    try:
        ride_input: dict[str, Any] = {
            "pickup": desk_input.place(page.field, "pickup").as_input(),
            "dropoff": desk_input.place(page.field, "dropoff").as_input(),
            "seats": desk_input.seats(values["seats"] or "1"),
            "wheelchair": values["wheelchair"] == "yes",
            "onBehalfOf": member_id,
        }
    except BadField as exc:
        return await _member_page(
            page, form="ride", errors=bad_field(exc, page.gettext), values=values, status=400
        )
    answer = (await page.query("desk/bookRide", {"input": ride_input}))["requestRide"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=RIDE_FIELDS)
        return await _member_page(page, form="ride", errors=errors, values=values, status=400)
    page.notify(
        page.gettext("Ride booked for the member. It is in the list of rides in progress."),
        "success",
    )
    return page.redirect("/desk")


async def book_scheduled(page: WebRequest) -> Response:
    """A ride in a pickup window days ahead; the day is re-planned at once."""
    member_id = str(page.request.path_params["member_id"])
    values = _ride_values(page)
    try:
        start, end = desk_input.window(
            values["day"], values["start"], values["end"], await _timezone(page)
        )
        ride_input: dict[str, Any] = {
            "pickup": desk_input.place(page.field, "pickup").as_input(),
            "dropoff": desk_input.place(page.field, "dropoff").as_input(),
            "window": {"start": start.isoformat(), "end": end.isoformat()},
            "seats": desk_input.seats(values["seats"] or "1"),
            "wheelchair": values["wheelchair"] == "yes",
            "onBehalfOf": member_id,
        }
        desk_input.weeks(values["weeks"] or "1")
    except BadField as exc:
        return await _member_page(
            page, form="scheduled", errors=bad_field(exc, page.gettext), values=values, status=400
        )
    weeks = desk_input.weeks(values["weeks"] or "1")
    if weeks > 1:
        return await _book_recurring(page, member_id, ride_input, weeks, values)
    answer = (await page.query("desk/bookScheduledRide", {"input": ride_input}))[
        "bookScheduledRide"
    ]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=SCHEDULED_FIELDS)
        return await _member_page(
            page,
            form="scheduled",
            errors=errors,
            values=values,
            nearest=list(answer.get("nearestWindows") or []),
            status=400,
        )
    ride = answer["ride"]
    page.notify(page.gettext("Scheduled ride booked for %(day)s.", day=str(ride["day"])), "success")
    return page.redirect(f"/desk/schedules?day={ride['day']}")


async def _book_recurring(
    page: WebRequest,
    member_id: str,
    ride_input: dict[str, Any],
    weeks: int,
    values: dict[str, str],
) -> Response:
    """The same window every week: each occurrence is its own ride, booked or refused alone."""
    answer = (await page.query("desk/bookRecurringRide", {"input": ride_input, "weeks": weeks}))[
        "bookRecurringRide"
    ]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=SCHEDULED_FIELDS)
        return await _member_page(page, form="scheduled", errors=errors, values=values, status=400)
    booked = [str(ride["day"]) for ride in answer["booked"]]
    refused = [str(occurrence["day"]) for occurrence in answer["refused"]]
    page.notify(
        page.gettext("Weekly ride booked on %(booked)s.", booked=", ".join(booked) or "-"),
        "success",
    )
    if refused:
        page.notify(
            page.gettext(
                "No room on %(refused)s: those weeks are not booked.", refused=", ".join(refused)
            ),
            "error",
        )
    first_day = booked[0] if booked else str(values["day"])
    return page.redirect(f"/desk/schedules?day={first_day}")


async def sign_in_code(page: WebRequest) -> Response:
    """A one-time code for a member without a smartphone: shown once, in the next page's notice
    (the session cookie is sealed, so the code is never readable on the way)."""
    member_id = str(page.request.path_params["member_id"])
    answer = (await page.query("desk/issueSignInCode", {"memberId": member_id}))["issueSignInCode"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset())
        return await _member_page(page, form="code", errors=errors, status=400)
    until = i18n.when(
        datetime.fromisoformat(str(answer["expiresAt"])), page.language, await _timezone(page)
    )
    page.notify(
        page.gettext(
            "Sign-in code for the member: %(code)s. Read it to them; it works once, "
            "until %(until)s.",
            code=str(answer["code"]),
            until=until,
        ),
        "success",
    )
    return page.redirect(_member_path(member_id))


async def act_for(page: WebRequest) -> Response:
    """Act for the member who phoned (with their consent): every page but the desk's then
    shows and does what the member would, until the token ends or the dispatcher stops."""
    member_id = str(page.request.path_params["member_id"])
    answer = (await page.query("desk/actForMember", {"memberId": member_id}))["actForMember"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset())
        return await _member_page(page, form="act", errors=errors, status=400)
    expires = datetime.fromisoformat(str(answer["accessTokenExpiresAt"])).timestamp()
    page.session.start_acting(str(answer["memberId"]), str(answer["accessToken"]), expires)
    page.notify(page.gettext("You are now acting for the member. Stop with the button on top."))
    return page.redirect("/ride")


async def stop_acting(page: WebRequest) -> Response:
    member_id = page.session.acting_for
    page.session.stop_acting()
    page.notify(page.gettext("You stopped acting for the member."), "success")
    return page.redirect(_member_path(member_id) if member_id else "/desk")


async def cancel_ride(page: WebRequest) -> Response:
    """Cancel a ride this dispatcher booked (the rider phoned again); the charge, if any, names
    its rule."""
    ride_id = str(page.request.path_params["ride_id"])
    answer = (
        await page.query(
            "desk/cancelRide",
            {
                "rideId": ride_id,
                "reason": page.gettext("Cancelled by the desk at the rider's request."),
            },
        )
    )["cancelRide"]
    if page.is_problem(answer):
        page.notify(_why(answer, page), "error")
    else:
        page.notify(page.gettext("Ride cancelled."), "success")
    return page.redirect("/desk")


async def ride(page: WebRequest) -> Response:
    return await _ride_page(page)


async def _ride_page(
    page: WebRequest,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """One ride as the desk sees it, with the free drivers on duty to assign it to by hand."""
    ride_id = str(page.request.path_params["ride_id"])
    found = (await page.query("desk/deskRide", {"id": ride_id}))["ride"]
    if page.is_problem(found):
        return page.not_found(page.gettext("No such ride"), _why(found, page))
    drivers = (await page.query("desk/driversOnDuty", {"first": 100}))["driversOnDuty"]
    free = [] if page.is_problem(drivers) else drivers["nodes"]
    return page.render(
        "desk/ride.html",
        status_code=status,
        ride=found,
        drivers=[d for d in free if d["status"] == "AVAILABLE"],
        field_errors=errors or {},
        field_values=values or {},
    )


async def assign(page: WebRequest) -> Response:
    """Offer the ride to the driver the desk names, overriding the batch, with a reason."""
    ride_id = str(page.request.path_params["ride_id"])
    values = {"driverId": page.field("driverId"), "reason": page.field("reason")}
    if not values["driverId"]:
        errors = {"driverId": page.gettext("Choose a free driver on duty.")}
        return await _ride_page(page, errors=errors, values=values, status=400)
    if not values["reason"]:
        errors = {"reason": page.gettext("Say why the desk overrides the batch.")}
        return await _ride_page(page, errors=errors, values=values, status=400)
    answer = (
        await page.query(
            "desk/assignRide",
            {"rideId": ride_id, "driverId": values["driverId"], "reason": values["reason"]},
        )
    )["assignRide"]
    if page.is_problem(answer):
        errors = problem_text(answer, page.gettext, fields=frozenset({"driverId", "reason"}))
        return await _ride_page(page, errors=errors, values=values, status=400)
    page.notify(page.gettext("Ride offered to the driver you chose."), "success")
    return page.redirect(f"/desk/rides/{quote(ride_id, safe='')}")


async def cancel_scheduled(page: WebRequest) -> Response:
    """Cancel one scheduled ride (one week of a series, alone); the day is re-planned."""
    ride_id = str(page.request.path_params["ride_id"])
    day = local_day(page.field("day"))
    answer = (await page.query("desk/cancelScheduledRide", {"rideId": ride_id}))[
        "cancelScheduledRide"
    ]
    if page.is_problem(answer):
        page.notify(_why(answer, page), "error")
    else:
        page.notify(page.gettext("Scheduled ride cancelled; the day is planned again."), "success")
    return page.redirect(f"/desk/schedules?day={day}" if day else "/desk/schedules")


async def scheduled_ride(page: WebRequest) -> Response:
    return await _scheduled_page(page)


async def _scheduled_page(
    page: WebRequest,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    nearest: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    ride_id = str(page.request.path_params["ride_id"])
    ride = (await page.query("desk/scheduledRide", {"id": ride_id}))["scheduledRide"]
    if page.is_problem(ride):
        return page.not_found(page.gettext("There is no such scheduled ride."), _why(ride, page))
    return page.render(
        "desk/scheduled.html",
        status_code=status,
        ride=ride,
        field_errors=errors or {},
        field_values=values or {},
        nearest=nearest or [],
    )


async def change_scheduled(page: WebRequest) -> Response:
    """Move the pickup window within its day; if the new window cannot fit, nothing changes."""
    ride_id = str(page.request.path_params["ride_id"])
    values = {name: page.field(name) for name in ("day", "start", "end")}
    try:
        start, end = desk_input.window(
            values["day"], values["start"], values["end"], await _timezone(page)
        )
    except BadField as exc:
        return await _scheduled_page(
            page, errors=bad_field(exc, page.gettext), values=values, status=400
        )
    answer = (
        await page.query(
            "desk/changeScheduledRide",
            {"rideId": ride_id, "window": {"start": start.isoformat(), "end": end.isoformat()}},
        )
    )["changeScheduledRide"]
    if page.is_problem(answer):
        return await _scheduled_page(
            page,
            errors=problem_text(answer, page.gettext, fields=frozenset({"window"})),
            values=values,
            nearest=list(answer.get("nearestWindows") or []),
            status=400,
        )
    page.notify(page.gettext("Pickup window changed; the day is planned again."), "success")
    return page.redirect(f"/desk/schedules?day={answer['ride']['day']}")


def local_day(text: str) -> str | None:
    try:
        return desk_input.day(text).isoformat()
    except BadField:
        return None


# -- vehicles: the day's schedules, a route --------------------------------------------------
async def _day(page: WebRequest) -> tuple[str, dict[str, str]]:
    text = _arg(page, "day")
    if text is None:
        return datetime.now(ZoneInfo(await _timezone(page))).date().isoformat(), {}
    try:
        return desk_input.day(text).isoformat(), {}
    except BadField as exc:
        return text, bad_field(exc, page.gettext)


async def schedules(page: WebRequest) -> Response:
    day, errors = await _day(page)
    found: dict[str, Any] | None = None
    if not errors:
        answer = (
            await page.query(
                "desk/vehicleSchedules",
                {"day": day, "first": PAGE_SIZE, "after": _arg(page, "after")},
            )
        )["vehicleSchedules"]
        if page.is_problem(answer):
            errors = problem_text(answer, page.gettext, fields=frozenset({"day"}))
        else:
            found = answer
    return page.render(
        "desk/schedules.html",
        status_code=400 if errors else 200,
        day=day,
        schedules=found,
        field_errors=errors,
        field_values={"day": day},
    )


async def route(page: WebRequest) -> Response:
    vehicle_id = str(page.request.path_params["vehicle_id"])
    day, errors = await _day(page)
    found: dict[str, Any] | None = None
    if not errors:
        answer = (await page.query("desk/vehicleRoute", {"vehicleId": vehicle_id, "day": day}))[
            "vehicleRoute"
        ]
        if page.is_problem(answer):
            errors = problem_text(answer, page.gettext, fields=frozenset({"day"}))
        else:
            found = answer
    return page.render(
        "desk/route.html",
        status_code=400 if errors else 200,
        day=day,
        vehicle_id=vehicle_id,
        route=found,
        field_errors=errors,
        field_values={"day": day},
    )


ROUTES = [
    get("/desk", _desk(desk), "desk"),
    get("/desk/find", _desk(find), "desk-find"),
    get("/desk/members/{member_id}", _desk(member), "desk-member"),
    post("/desk/members/{member_id}/consent", _desk(give_consent), "desk-consent"),
    post("/desk/members/{member_id}/ride", _desk(book_ride), "desk-ride"),
    post("/desk/members/{member_id}/quote", _desk(quote_ride), "desk-quote"),
    post("/desk/members/{member_id}/scheduled", _desk(book_scheduled), "desk-scheduled"),
    post("/desk/members/{member_id}/code", _desk(sign_in_code), "desk-code"),
    post("/desk/members/{member_id}/act", _desk(act_for), "desk-act"),
    post("/desk/act/stop", stop_acting, "desk-act-stop"),
    post("/desk/members/{member_id}/withdraw", _desk(withdraw_consent), "desk-withdraw"),
    post("/desk/members/{member_id}/proxy", _desk(give_proxy), "desk-proxy"),
    post("/desk/members/{member_id}/proxy/withdraw", _desk(withdraw_proxy), "desk-unproxy"),
    get("/desk/rides/{ride_id}", _desk(ride), "desk-ride-page"),
    post("/desk/rides/{ride_id}/assign", _desk(assign), "desk-assign"),
    post("/desk/rides/{ride_id}/cancel", _desk(cancel_ride), "desk-cancel"),
    get("/desk/scheduled/{ride_id}", _desk(scheduled_ride), "desk-scheduled-ride"),
    post("/desk/scheduled/{ride_id}/change", _desk(change_scheduled), "desk-change-scheduled"),
    post("/desk/scheduled/{ride_id}/cancel", _desk(cancel_scheduled), "desk-cancel-scheduled"),
    get("/desk/schedules", _desk(schedules), "desk-schedules"),
    get("/desk/schedules/{vehicle_id}", _desk(route), "desk-route"),
]
NAV = [NavLink(N_("Desk"), "/desk", ROLE)]
