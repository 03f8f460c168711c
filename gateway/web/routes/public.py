"""The public page of the co-op's fares and splits, readable without signing in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.forms import N_
from gateway.web.routing import NavLink, get

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import WebRequest


async def fares(page: WebRequest) -> Response:
    rules = (await page.query("public/cityRules", member=False))["cityRules"]
    return page.render("public/fares.html", rules=rules)


ROUTES = [get("/fares", fares, "fares")]
NAV = [NavLink(N_("Fares"), "/fares")]
