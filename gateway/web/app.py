"""The web app, mounted in the gateway's Starlette app at `/` (after /graphql, /health, /ready,
/metrics and /me/export, which keep their paths).

`WebApp` is what every page shares: the GraphQL client, the session cookies, the languages and
their templates, the navigation. It is made once per gateway by `create_app` and found by pages
at `request.app.state.web`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from gateway.web import i18n
from gateway.web.client import Client, load_documents
from gateway.web.pages import PAGES
from gateway.web.routing import WebRequest, secure_headers
from gateway.web.session import Sessions
from gateway.web.templating import STATIC_DIR, environments
from kernel.cities import load_city

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from gateway.app import MuniGraphQL
    from gateway.web.routing import NavLink
    from kernel.config import Settings

log = logging.getLogger("gateway.web")

# Paths that are not the web app's: their errors stay JSON or plain text, as before.
NOT_PAGES = ("/graphql", "/health", "/healthz", "/ready", "/metrics", "/me/export", "/static/")


class WebApp:
    def __init__(self, graphql: MuniGraphQL, settings: Settings) -> None:
        city = load_city(settings.city)
        self.city = city  # its config only (maps, the geocoder's presence), never its data
        self.city_name = city.name
        self.languages: tuple[str, ...] = city.languages
        self.language_names = [(code, i18n.language_name(code)) for code in self.languages]
        self.translations = i18n.load_translations(self.languages)
        self.client = Client(graphql, load_documents())
        self.sessions = Sessions(settings.signing_key)
        self.nav: list[NavLink] = [link for page in PAGES for link in page.NAV]
        self.environments = environments(
            self.translations,
            timezone=city.timezone,
            globals={"city_name": city.name},
        )

    def language_of(self, request: Request) -> str:
        return i18n.choose_language(request, self.languages)

    def routes(self) -> list[BaseRoute]:
        """Every page module's routes, then the static files."""
        routes: list[BaseRoute] = [route for page in PAGES for route in page.ROUTES]
        routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
        return routes

    async def error_page(self, request: Request, exc: Exception) -> Response:
        """404, 405 and 500 as pages in the visitor's language; other paths as before."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status >= 500:
            log.error("web page %s failed", request.url.path, exc_info=exc)
        if request.url.path.startswith(NOT_PAGES):
            detail = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
            return PlainTextResponse(str(detail), status_code=status)
        page = WebRequest(
            self, request, self.sessions.load(request), self.language_of(request), None
        )
        titles = {
            404: page.gettext("Page not found"),
            405: page.gettext("This page cannot do that"),
        }
        details = {
            404: page.gettext(
                "There is no page at this address. Check it, or start again from the home page."
            ),
            405: page.gettext("Go back to the page you came from and try again."),
        }
        response: HTMLResponse = page.render(
            "errors/error.html",
            status_code=status,
            title=titles.get(status, page.gettext("Something went wrong")),
            detail=details.get(
                status,
                page.gettext("We could not finish this. Try again in a moment."),
            ),
        )
        secure_headers(response, private=True)
        return response

    def exception_handlers(self) -> dict[Any, Any]:
        return {404: self.error_page, 405: self.error_page, 500: self.error_page}
