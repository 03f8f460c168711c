"""The home page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.routing import get

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import NavLink, WebRequest


async def home(page: WebRequest) -> Response:
    return page.render("home.html")


ROUTES = [get("/", home, "home")]
NAV: list[NavLink] = []
