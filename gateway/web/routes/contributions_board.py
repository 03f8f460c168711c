"""The board's contributions dashboard (`/board/contributions`, role board): a period's shares
as charts (by member, by contribution type, over the periods) with the same figures as tables,
the distribution and levy, the protocol co-op's share; opening, closing and distributing a
period; contests to review; the report as CSV. And a proposed equation simulated beside the one
in force (`/board/contributions/simulate`), from where it can be put to a vote.

Charts are Chart.js (vendored), drawn by `static/contributions.js` from the figures the page
puts in `data-chart` attributes; the tables hold the same figures, for screen readers and for
browsers without JavaScript.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from gateway.web.forms import FORM, N_
from gateway.web.routes.contributions import PAGE_SIZE, chosen_period, link, periods
from gateway.web.routes.value_words import UNITS, decimal, errors, percent
from gateway.web.routing import NavLink, get, post

if TYPE_CHECKING:
    from gateway.web.routing import WebRequest

CSV_PARTS = ("shares", "types", "distribution", "participation")
DASHBOARD = "/board/contributions"


async def dashboard(page: WebRequest, **context: Any) -> Response:
    known = await periods(page)
    period = chosen_period(page, known)
    after = page.request.query_params.get("after") or None
    report: dict[str, Any] | None = None
    problem = None
    if period is not None:
        answer = (
            await page.query(
                "contributions/periodReport",
                {"period": period, "first": PAGE_SIZE, "after": after},
            )
        )["periodReport"]
        if page.is_problem(answer):
            problem = next(iter(errors(page, answer).values()))
        else:
            report = answer
            for share in report["shares"]["nodes"]:
                share["percent"] = percent(share["share"])
            if not report["frozen"]:
                # An open period's own totals are set at close; until then, the live ones.
                live = sum((Decimal(t["points"]) for t in report["byType"]), Decimal(0))
                report["period"]["totalPoints"] = str(live)
                report["period"]["members"] = report["participation"]["contributors"]
                equations = (await page.query("contributions/valueEquations"))["valueEquations"]
                if not page.is_problem(equations):
                    report["period"]["equationVersion"] = equations["inForce"]["version"]
                for known_period in known:
                    if known_period["period"] == period:
                        known_period["totalPoints"] = str(live)
                        known_period["members"] = report["period"]["members"]
    contests = (await page.query("contributions/contests", {"inReview": True, "first": 50}))[
        "contests"
    ]
    charts: dict[str, Any] = {}
    next_page = None
    if report is not None:
        shares = report["shares"]
        charts["members"] = {
            "kind": "bar",
            "label": page.gettext("Share (%)"),
            "labels": [s["memberId"][-8:] for s in shares["nodes"]],
            "values": [float(s["percent"]) for s in shares["nodes"]],
        }
        charts["types"] = {
            "kind": "bar",
            "label": page.gettext("Points"),
            "labels": [t["type"] for t in report["byType"]],
            "values": [float(t["points"]) for t in report["byType"]],
        }
        if shares["pageInfo"]["hasNextPage"]:
            next_page = link(DASHBOARD, period=period, after=shares["pageInfo"]["endCursor"])
    over_time = list(reversed(known))
    charts["time"] = {
        "kind": "line",
        "label": page.gettext("Points"),
        "labels": [p["period"] for p in over_time],
        "values": [float(p["totalPoints"]) for p in over_time],
    }
    return page.render(
        "contributions/board.html",
        periods=known,
        over_time=over_time,
        period=period,
        report=report,
        problem=problem,
        contests=[] if page.is_problem(contests) else contests["nodes"],
        charts=charts,
        next_page=next_page,
        csv_parts=CSV_PARTS,
        units=UNITS,
        **context,
    )


async def show_dashboard(page: WebRequest) -> Response:
    return await dashboard(page)


async def period_command(page: WebRequest) -> Response:
    """Open, close or distribute a period (the button pressed names which)."""
    action = page.field("action")
    period = page.field("period")
    if action == "distribute":
        surplus = decimal(page.field("surplus"))
        if surplus is None:
            problems = {
                "surplus": page.gettext(
                    "Give the surplus as an amount with at most two decimals, like 1000.00."
                )
            }
            return await dashboard(
                page, errors=problems, values={"surplus": page.field("surplus")}, status_code=400
            )
        answer = (
            await page.query(
                "contributions/distributeSurplus", {"period": period, "surplus": str(surplus)}
            )
        )["distributeSurplus"]
        done = N_("The surplus of %(period)s is distributed.")
    elif action == "close":
        answer = (await page.query("contributions/closePeriod", {"period": period}))["closePeriod"]
        done = N_("The period %(period)s is closed; its shares are frozen.")
    else:
        answer = (await page.query("contributions/openPeriod", {"period": period}))["openPeriod"]
        done = N_("The period %(period)s is open.")
    if page.is_problem(answer):
        problems = errors(page, answer, "surplus", "period")
        field = "open-period" if action == "open" and "period" in problems else None
        if field:
            problems = {field: problems.pop("period"), **problems}
        return await dashboard(
            page,
            errors=problems,
            values={"surplus": page.field("surplus"), "open-period": period},
            status_code=400,
        )
    page.notify(page.gettext(done, period=answer["period"]["period"]), "success")
    return page.redirect(link(DASHBOARD, period=answer["period"]["period"]))


async def review(page: WebRequest) -> Response:
    outcome = page.field("outcome").upper()
    variables: dict[str, Any] = {"contestId": page.field("contestId"), "outcome": outcome}
    back = link(DASHBOARD, period=page.field("period"))
    if outcome not in ("KEPT", "CHANGED", "REMOVED"):
        page.notify(page.gettext("Choose an outcome: kept, changed or removed."), "error")
        return page.redirect(back)
    if outcome == "CHANGED":
        quantity = decimal(page.field("quantity"))
        if quantity is None:
            page.notify(page.gettext("Give the corrected amount as a number."), "error")
            return page.redirect(back)
        variables["quantity"] = str(quantity)
    answer = (await page.query("contributions/reviewContest", variables))["reviewContest"]
    if page.is_problem(answer):
        page.notify(errors(page, answer)[FORM], "error")
    else:
        page.notify(page.gettext("The review is recorded; the member sees it."), "success")
    return page.redirect(back)


async def report_csv(page: WebRequest) -> Response:
    """A part of the period report as CSV, read over GraphQL page by page (the columns of
    `/reports/contributions/<period>/<part>.csv`, which wants a bearer token)."""
    period = page.request.path_params["period"]
    part = page.request.path_params["part"]
    if part not in CSV_PARTS:
        return Response("unknown part", status_code=404, media_type="text/plain")
    variables: dict[str, Any] = {"period": period, "first": 100, "after": None}
    answer = (await page.query("contributions/periodReport", variables))["periodReport"]
    if page.is_problem(answer):
        status = 403 if answer.get("__typename") == "NotAuthorized" else 400
        return Response(str(answer.get("message")), status_code=status, media_type="text/plain")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    version = answer["period"]["equationVersion"]
    if part == "shares":
        w.writerow(["period", "equation_version", "member_id", "points", "share", "dividend"])
        while True:
            for s in answer["shares"]["nodes"]:
                w.writerow([period, version, s["memberId"], s["points"], s["share"], s["dividend"]])
            info = answer["shares"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            variables["after"] = info["endCursor"]
            answer = (await page.query("contributions/periodReport", variables))["periodReport"]
    elif part == "types":
        w.writerow(["period", "equation_version", "type", "points", "members"])
        for t in answer["byType"]:
            w.writerow([period, version, t["type"], t["points"], t["members"]])
    elif part == "distribution":
        d, p = answer["distribution"], answer["protocolShare"]
        w.writerow(["period", "item", "amount", "currency"])
        if d is not None:
            for item, key in (
                ("surplus", "surplus"),
                ("levy", "levy"),
                ("to_members", "toMembers"),
                ("unclaimed_to_commons", "unclaimed"),
            ):
                w.writerow([period, item, d[key], p["currency"]])
            w.writerow([period, "levy_percent", d["levyPercent"], "%"])
        for item, key in (
            ("revenue", "revenue"),
            ("protocol_owed", "owed"),
            ("protocol_set_aside", "setAside"),
            ("protocol_difference", "difference"),
        ):
            w.writerow([period, item, p[key], p["currency"]])
    else:
        q = answer["participation"]
        w.writerow(["period", "measure", "value"])
        for measure, key in (
            ("contributors", "contributors"),
            ("credits", "credits"),
            ("credits_per_contributor", "creditsPerContributor"),
            ("active_days", "activeDays"),
        ):
            w.writerow([period, measure, q[key]])
        for b in q["byFrequency"]:
            w.writerow([period, f"contributors_with_{b['credits']}_credits", b["members"]])
    safe = "".join(c for c in period if c.isalnum() or c == "-")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contributions-{safe}-{part}.csv"'},
    )


ROUTES = [
    get(DASHBOARD, show_dashboard, "board-contributions"),
    post(f"{DASHBOARD}/period", period_command, "board-contributions-period"),
    post(f"{DASHBOARD}/review", review, "board-contributions-review"),
    get(f"{DASHBOARD}/{{period}}/{{part}}.csv", report_csv, "board-contributions-csv"),
]
NAV = [NavLink(N_("Contributions"), DASHBOARD, "board")]
