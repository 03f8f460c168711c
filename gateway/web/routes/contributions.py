"""A member's contributions: their statement for a period (paged line items, each pointing at
the entry it came from, a contest button per line and the outcome of past contests), work no
service sees logged for peers to validate, and other members' logged work to validate.

The board's dashboard is `contributions_board`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from gateway.web.forms import FORM, N_
from gateway.web.routes.value_words import UNITS, decimal, errors, percent
from gateway.web.routing import NavLink, get, post

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import WebRequest

PAGE_SIZE = 20


async def periods(page: WebRequest) -> list[dict[str, Any]]:
    """The periods, newest first (the most a page offers to choose from)."""
    answer = (await page.query("contributions/periods", {"first": 24}))["periods"]
    if page.is_problem(answer):
        return []
    nodes: list[dict[str, Any]] = answer["nodes"]
    return nodes


def chosen_period(page: WebRequest, known: list[dict[str, Any]]) -> str | None:
    """The `period` asked for, else the newest open one, else the newest."""
    asked = page.request.query_params.get("period", "").strip()
    if asked:
        return asked[:16]
    for p in known:
        if p["state"] == "open":
            return str(p["period"])
    return str(known[0]["period"]) if known else None


def link(path: str, **params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


async def statement(page: WebRequest) -> Response:
    known = await periods(page)
    period = chosen_period(page, known)
    after = page.request.query_params.get("after") or None
    found: dict[str, Any] | None = None
    problem: str | None = None
    if period is not None:
        answer = (
            await page.query(
                "contributions/myStatement",
                {"period": period, "first": PAGE_SIZE, "after": after},
            )
        )["myStatement"]
        if page.is_problem(answer):
            problem = next(iter(errors(page, answer).values()))
        else:
            found = answer
    contested: dict[tuple[str, int], dict[str, Any]] = {}
    if found is not None:
        for contest in found["contests"]:
            contested[(contest["entryId"], contest["line"])] = contest
        found["sharePercent"] = percent(found["share"])
    next_page = None
    if found is not None and found["lines"]["pageInfo"]["hasNextPage"]:
        next_page = link(
            "/contributions", period=period, after=found["lines"]["pageInfo"]["endCursor"]
        )
    return page.render(
        "contributions/statement.html",
        periods=known,
        period=period,
        statement=found,
        problem=problem,
        contested=contested,
        next_page=next_page,
        units=UNITS,
        currency=next((p["currency"] for p in known if p["period"] == period), None),
    )


async def contest(page: WebRequest) -> Response:
    period = page.field("period")
    back = link("/contributions", period=period)
    try:
        line = int(page.field("line"))
    except ValueError:
        page.notify(page.gettext("That line is not on your statement."), "error")
        return page.redirect(back)
    answer = (
        await page.query(
            "contributions/contestLine", {"entryId": page.field("entryId"), "line": line}
        )
    )["contestLine"]
    if page.is_problem(answer):
        page.notify(errors(page, answer)[FORM], "error")
    else:
        page.notify(page.gettext("Your contest is recorded. The board will review it."), "success")
    return page.redirect(back)


async def work(page: WebRequest, **context: Any) -> Response:
    types = (await page.query("contributions/contributionTypes"))["contributionTypes"]
    kinds = [t for t in types.get("types", []) if t["logged"]]
    mine = (await page.query("contributions/loggedContributions", {"mine": True, "first": 50}))[
        "loggedContributions"
    ]
    after = page.request.query_params.get("after") or None
    waiting = (
        await page.query(
            "contributions/loggedContributions",
            {"mine": False, "first": PAGE_SIZE, "after": after},
        )
    )["loggedContributions"]
    next_page = None
    if not page.is_problem(waiting) and waiting["pageInfo"]["hasNextPage"]:
        next_page = link("/contributions/work", after=waiting["pageInfo"]["endCursor"])
    return page.render(
        "contributions/work.html",
        kinds=kinds,
        mine=[] if page.is_problem(mine) else mine["nodes"],
        waiting=[] if page.is_problem(waiting) else waiting["nodes"],
        next_page=next_page,
        me=page.session.member_id,
        **context,
    )


async def show_work(page: WebRequest) -> Response:
    return await work(page)


async def log_work(page: WebRequest) -> Response:
    values = {
        "kind": page.field("kind"),
        "hours": page.field("hours"),
        "workedOn": page.field("workedOn"),
    }
    hours = decimal(values["hours"])
    problems: dict[str, str] = {}
    if hours is None:
        problems["hours"] = page.gettext(
            "Give the hours as a number above 0 and at most 24, like 2.5."
        )
    if not values["workedOn"]:
        problems["workedOn"] = page.gettext("Give the day you did the work (not in the future).")
    if not problems:
        answer = (
            await page.query(
                "contributions/logContribution",
                {"input": {**values, "hours": str(hours)}},
            )
        )["logContribution"]
        if not page.is_problem(answer):
            page.notify(
                page.gettext(
                    "Your work is logged. It counts once %(n)s other members validate it.",
                    n=answer["contribution"]["required"],
                ),
                "success",
            )
            return page.redirect("/contributions/work")
        problems = errors(page, answer, "kind", "hours", "workedOn")
    return await work(page, errors=problems, values=values, status_code=400)


async def validate(page: WebRequest) -> Response:
    answer = (
        await page.query(
            "contributions/validateContribution", {"contributionId": page.field("contributionId")}
        )
    )["validateContribution"]
    if page.is_problem(answer):
        page.notify(errors(page, answer)[FORM], "error")
    elif answer["contribution"]["status"] == "counted":
        page.notify(page.gettext("Validated. This work now counts."), "success")
    else:
        page.notify(
            page.gettext("Validated. It needs another member's validation to count."), "success"
        )
    return page.redirect("/contributions/work")


ROUTES = [
    get("/contributions", statement, "contributions"),
    post("/contributions/contest", contest, "contributions-contest"),
    get("/contributions/work", show_work, "contributions-work"),
    post("/contributions/work", log_work, "contributions-log"),
    post("/contributions/validate", validate, "contributions-validate"),
]
NAV = [
    NavLink(N_("My statement"), "/contributions", "members"),
    NavLink(N_("Logged work"), "/contributions/work", "members"),
]
