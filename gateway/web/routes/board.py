"""The board's pages (role board): a chart of rides, fares and credits over a date range
(`cityActivity`, Chart.js drawn from the table beside it), the trial balance, the ledger's lines
(all, or one account's), the messages the contributions consumer parked, and the audit log.
Every list is paged by its cursor (`?after=`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gateway.web import desk_input
from gateway.web.desk_input import BadField, bad_field, problem_text
from gateway.web.forms import FORM, N_
from gateway.web.roles import for_role
from gateway.web.routing import NavLink, get

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.responses import Response

    from gateway.web.routing import WebRequest

ROLE = "board"
PAGE_SIZE = 20
MAX_PAGE = 100
CHART_DAYS = 30


def _board(handler: Callable[[WebRequest], Awaitable[Response]]) -> Any:
    return for_role(ROLE, handler)


def _arg(page: WebRequest, name: str) -> str | None:
    value = page.request.query_params.get(name, "").strip()
    return value or None


def _first(page: WebRequest) -> int:
    """The page size: `?first=` (1 to 100) or the default."""
    try:
        return max(1, min(MAX_PAGE, int(_arg(page, "first") or PAGE_SIZE)))
    except ValueError:
        return PAGE_SIZE


def _problem(page: WebRequest, answer: dict[str, Any], *fields: str) -> dict[str, str]:
    return problem_text(answer, page.gettext, fields=frozenset(fields))


async def _today(page: WebRequest) -> date:
    rules = (await page.query("board/cityClock", member=False))["cityRules"]
    return datetime.now(ZoneInfo(str(rules["timezone"]))).date()


async def activity(page: WebRequest) -> Response:
    """GET /board?from=&to=: the chart and its table (the last 30 days by default)."""
    found: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    start_text, end_text = _arg(page, "from"), _arg(page, "to")
    try:
        today = None if start_text and end_text else await _today(page)
        end = desk_input.day(end_text, "to") if end_text else today
        assert end is not None  # noqa: S101 (today is read whenever a date is missing)
        start = (
            desk_input.day(start_text, "from")
            if start_text
            else end - timedelta(days=CHART_DAYS - 1)
        )
        if end < start:
            raise BadField("to", N_("Choose an end date on or after the start date."))
    except BadField as exc:
        errors = bad_field(exc, page.gettext)
        values = {"from": start_text or "", "to": end_text or ""}
    else:
        values = {"from": start.isoformat(), "to": end.isoformat()}
        answer = (
            await page.query("board/cityActivity", {"from": values["from"], "to": values["to"]})
        )["cityActivity"]
        if page.is_problem(answer):
            errors = _problem(page, answer, "from", "to")
        else:
            found = answer
    return page.render(
        "board/activity.html",
        status_code=400 if errors else 200,
        activity=found,
        field_errors=errors,
        field_values=values,
    )


async def balance(page: WebRequest) -> Response:
    answer = (
        await page.query(
            "board/trialBalance", {"first": _first(page), "after": _arg(page, "after")}
        )
    )["trialBalance"]
    problem = _problem(page, answer)[FORM] if page.is_problem(answer) else None
    return page.render(
        "board/balance.html",
        balance=None if problem else answer,
        problem=problem,
        first=_arg(page, "first"),
    )


async def ledger(page: WebRequest) -> Response:
    account = _arg(page, "account")
    answer = (
        await page.query(
            "board/ledgerLines",
            {"account": account, "first": _first(page), "after": _arg(page, "after")},
        )
    )["ledgerLines"]
    problem = _problem(page, answer)[FORM] if page.is_problem(answer) else None
    return page.render(
        "board/ledger.html",
        status_code=400 if problem else 200,
        lines=None if problem else answer,
        problem=problem,
        account=account,
        first=_arg(page, "first"),
        after=_arg(page, "after"),
    )


async def parked(page: WebRequest) -> Response:
    answer = (
        await page.query(
            "board/parkedMessages", {"first": _first(page), "after": _arg(page, "after")}
        )
    )["parkedMessages"]
    problem = _problem(page, answer)[FORM] if page.is_problem(answer) else None
    return page.render(
        "board/parked.html",
        messages=None if problem else answer,
        problem=problem,
        first=_arg(page, "first"),
    )


async def audit(page: WebRequest) -> Response:
    answer = (
        await page.query("board/auditLog", {"first": _first(page), "after": _arg(page, "after")})
    )["auditLog"]
    problem = _problem(page, answer)[FORM] if page.is_problem(answer) else None
    return page.render(
        "board/audit.html",
        log=None if problem else answer,
        problem=problem,
        first=_arg(page, "first"),
    )


ROUTES = [
    get("/board", _board(activity), "board"),
    get("/board/balance", _board(balance), "board-balance"),
    get("/board/ledger", _board(ledger), "board-ledger"),
    get("/board/parked", _board(parked), "board-parked"),
    get("/board/audit", _board(audit), "board-audit"),
]
NAV = [NavLink(N_("Board"), "/board", ROLE)]
