"""The board's period report as CSV: `GET /reports/contributions/<period>/<part>.csv` with the
bearer token, guarded by the matrix entry of `periodReport` (board).

Parts: `shares` (every member: points, share, dividend), `types` (points and members per
contribution type), `distribution` (surplus, levy, to members, unclaimed, the protocol's share)
and `participation`. The shares are read page by page from the same read models as GraphQL.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from contributions.application import Contributions
from contributions.periods import InvalidPeriod, PeriodNotOpen
from contributions.value_api import report_of
from kernel.paging import MAX_PAGE_SIZE
from kernel.permissions import refusal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from kernel.api import Context

OPERATION = "periodReport"
PARTS = ("shares", "types", "distribution", "participation")


def report_csv(app: Contributions, period: str, part: str) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    first = report_of(app, period, MAX_PAGE_SIZE, None)
    version = first.period.equation_version
    if part == "shares":
        w.writerow(["period", "equation_version", "member_id", "points", "share", "dividend"])
        report = first
        while True:
            for s in report.shares.nodes:
                w.writerow([period, version, s.member_id, s.points, s.share, s.dividend])
            if not report.shares.page_info.has_next_page:
                break
            report = report_of(app, period, MAX_PAGE_SIZE, report.shares.page_info.end_cursor)
    elif part == "types":
        w.writerow(["period", "equation_version", "type", "points", "members"])
        for t in first.by_type:
            w.writerow([period, version, t.type, t.points, t.members])
    elif part == "distribution":
        d, p = first.distribution, first.protocol_share
        w.writerow(["period", "item", "amount", "currency"])
        currency = p.currency
        if d is not None:
            for item, amount in (
                ("surplus", d.surplus),
                ("levy", d.levy),
                ("to_members", d.to_members),
                ("unclaimed_to_commons", d.unclaimed),
            ):
                w.writerow([period, item, amount, currency])
            w.writerow([period, "levy_percent", d.levy_percent, "%"])
        for item, amount in (
            ("revenue", p.revenue),
            ("protocol_owed", p.owed),
            ("protocol_set_aside", p.set_aside),
            ("protocol_difference", p.difference),
        ):
            w.writerow([period, item, amount, currency])
    else:
        q = first.participation
        w.writerow(["period", "measure", "value"])
        for measure, value in (
            ("contributors", q.contributors),
            ("credits", q.credits),
            ("credits_per_contributor", q.credits_per_contributor),
            ("active_days", q.active_days),
        ):
            w.writerow([period, measure, value])
        for b in q.by_frequency:
            w.writerow([period, f"contributors_with_{b.credits}_credits", b.members])
        for kind in q.by_type:
            w.writerow([period, f"contributors_{kind.type}", kind.amount])
    return out.getvalue()


def report_csv_endpoint(
    context_for: Callable[[Request], Awaitable[Context]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        context = await context_for(request)
        problem = refusal(context, OPERATION)
        if problem is not None:
            context.refused(OPERATION, problem)
            status = 403 if type(problem).__name__ == "NotAuthorized" else 401
            return JSONResponse(
                {"__typename": type(problem).__name__, "message": problem.message},
                status_code=status,
            )
        period = request.path_params["period"]
        part = request.path_params["part"]
        if part not in PARTS:
            return JSONResponse(
                {"__typename": "InvalidInput", "field": "part", "message": f"one of {PARTS}"},
                status_code=400,
            )
        app = context.app(Contributions)
        try:
            body = await run_in_threadpool(report_csv, app, period, part)
        except InvalidPeriod as exc:
            return JSONResponse(
                {"__typename": "InvalidInput", "field": "period", "message": str(exc)},
                status_code=400,
            )
        except PeriodNotOpen as exc:
            return JSONResponse({"__typename": "NotFound", "message": str(exc)}, status_code=404)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="contributions-{period}-{part}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return endpoint
