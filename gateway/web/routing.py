"""How a page is written: a route made with `get` or `post`, whose handler receives a
`WebRequest` (the session, the language, the GraphQL client, the form) and returns a response.

- `post` routes check the CSRF token before the handler runs (the form's `csrf_token` field, or
  htmx's `X-CSRF-Token` header): a POST without it is a 403 page and changes nothing;
- `WebRequest.query` runs a named document as the signed-in member (refreshing the access token
  with `refreshToken` first when it has expired) or as a visitor;
- `WebRequest.render` renders a template with the layout's context (nav, notices, languages);
- `WebRequest.redirect` answers 303 (after a POST, the browser GETs the next page);
- the session cookie is written back when it changed.

A page module (`gateway/web/routes/*.py`) exports `ROUTES` and `NAV`; `gateway/web/pages.py`
lists the modules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.web.client import GraphQLFailure
from gateway.web.forms import FORM, is_problem, problem_errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

    from starlette.datastructures import FormData
    from starlette.requests import Request

    from gateway.web.app import WebApp
    from gateway.web.session import Session

log = logging.getLogger("gateway.web")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SIGN_IN = "/signin"
DESK_PATH = "/desk"


@dataclass(frozen=True)
class NavLink:
    """A link in the layout's navigation. `audience` is "everyone", "visitors" (not signed
    in), "members" (signed in) or a role ("driver", "dispatcher", "board"): the link shows to
    members holding it. `label` is an English msgid marked with `N_`."""

    label: str
    path: str
    audience: str = "everyone"

    def shown_to(self, session: Session) -> bool:
        if self.audience == "everyone":
            return True
        if session.acting_for is not None:
            # Acting for a member: their pages, and the way back to the desk.
            return self.audience in ("members", "dispatcher")
        if self.audience == "visitors":
            return not session.signed_in
        if self.audience == "members":
            return session.signed_in
        return session.holds(self.audience)


class SignInRequired(Exception):
    """The page needs a member and there is none (or the session ended)."""


class CsrfRefused(Exception):
    pass


class WebRequest:
    """One request as a page sees it."""

    def __init__(
        self,
        web: WebApp,
        request: Request,
        session: Session,
        language: str,
        form: FormData | None,
    ) -> None:
        self.web = web
        self.request = request
        self.session = session
        self.language = language
        self.form = form
        self.cookies: list[Callable[[Response], None]] = []

    # -- words ----------------------------------------------------------------------------------
    def gettext(self, message: str, **values: Any) -> str:
        text = self.web.translations[self.language].gettext(message)
        return text % values if values else text

    def field(self, name: str, default: str = "") -> str:
        """A posted field's text, stripped of surrounding spaces ('' if absent)."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    # -- data -----------------------------------------------------------------------------------
    async def query(
        self, name: str, variables: Mapping[str, Any] | None = None, *, member: bool = True
    ) -> dict[str, Any]:
        """Run document `name` as the signed-in member (`member=False`: as a visitor, even
        when signed in). Raises SignInRequired when the session cannot be kept alive."""
        token = None
        if member and self.session.signed_in:
            token = self._acting_token() or await self._access_token()
        return await self.web.client.execute(self.request, name, variables, token=token)

    def _acting_token(self) -> str | None:
        """The member's delegated token while the dispatcher acts for them, on every page but
        the desk's own (which stay the dispatcher's). An ended one is dropped, with a notice."""
        session = self.session
        if session.acting_for is None or self.request.url.path.startswith(DESK_PATH):
            return None
        if not session.acting():
            session.stop_acting()
            session.notify(
                self.gettext("Acting for the member has ended: start again from the desk.")
            )
            return None
        return session.acting_token

    async def subscribe(
        self, name: str, variables: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Subscription document `name`'s updates as the signed-in member (gateway/web/live.py
        sends them as server-sent events). The token is got (or refreshed) now, so a session
        that cannot be kept alive raises SignInRequired before any answer starts."""
        if not self.session.signed_in:
            raise SignInRequired
        token = await self._access_token()
        return self.web.client.subscribe(self.request, name, variables, token=token)

    async def _access_token(self) -> str:
        session = self.session
        if session.access_expired() or session.access_token is None:
            answer = (
                await self.web.client.execute(
                    self.request,
                    "auth/refreshToken",
                    {"refreshToken": session.refresh_token},
                )
            )["refreshToken"]
            if answer.get("__typename") != "SignedIn":
                session.sign_out()
                session.notify(self.gettext("Your session has ended. Please sign in again."))
                raise SignInRequired
            self.keep_tokens(answer, rotate_csrf=False)
        assert session.access_token is not None  # noqa: S101 (kept just above)
        return session.access_token

    def keep_tokens(self, signed_in: Mapping[str, Any], *, rotate_csrf: bool = True) -> None:
        """Keep a `SignedIn` answer's tokens in the session (sign-in: a fresh CSRF token)."""
        expires = datetime.fromisoformat(str(signed_in["accessTokenExpiresAt"])).timestamp()
        csrf = self.session.csrf
        self.session.sign_in(
            member_id=str(signed_in["memberId"]),
            roles=list(signed_in["roles"]),
            access_token=str(signed_in["accessToken"]),
            access_expires_at=expires,
            refresh_token=str(signed_in["refreshToken"]),
        )
        if not rotate_csrf:
            self.session.csrf = csrf

    def errors(self, answer: Mapping[str, Any], *fields: str) -> dict[str, str]:
        """A typed problem as `{field: text}` for the form's fields (else under FORM)."""
        return problem_errors(answer, self.gettext, fields=frozenset(fields))

    @staticmethod
    def is_problem(answer: Mapping[str, Any] | None) -> bool:
        return is_problem(answer)

    # -- answers --------------------------------------------------------------------------------
    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        env = self.web.environments[self.language]
        # A page's own `errors` and `values` (a refused form) win over the layout's empty ones.
        body = env.get_template(template).render({**self.layout(), **context})
        return HTMLResponse(body, status_code=status_code)

    def layout(self) -> dict[str, Any]:
        """What the layout (`base.html`) needs on every page."""
        path = self.request.url.path
        return {
            "request_path": path,
            "session": self.session,
            "signed_in": self.session.signed_in,
            "csrf": self.session.csrf,
            "csrf_field": CSRF_FIELD,
            "nav": [
                {"label": link.label, "path": link.path, "current": link.path == path}
                for link in self.web.nav
                if link.shown_to(self.session)
            ],
            "notices": self.session.take_notices(),
            "acting_for": self.session.acting_for,
            "languages": self.web.language_names,
            "errors": {},
            "values": {},
            "FORM": FORM,
        }

    def not_found(self, title: str, detail: str) -> HTMLResponse:
        """The 404 page for a thing the address names that is not there (a ride, a member)."""
        return self.render("errors/error.html", status_code=404, title=title, detail=detail)

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)

    def notify(self, message: str, kind: str = "info") -> None:
        """A notice for the next page this browser sees (shown in the live region)."""
        self.session.notify(message, kind)


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` if it is a path on this site ("/account?x=1"), else `default`: a `next`
    parameter never sends a member to another site."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or "\\" in candidate:
        return default
    return candidate


def _endpoint(handler: Callable[[WebRequest], Awaitable[Response]], *, post: bool) -> Any:
    async def endpoint(request: Request) -> Response:
        web: WebApp = request.app.state.web
        session = web.sessions.load(request)
        language = web.language_of(request)
        form = None
        page = WebRequest(web, request, session, language, None)
        try:
            if post:
                form = await request.form()
                page.form = form
                sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
                if not session.csrf_matches(sent if isinstance(sent, str) else None):
                    raise CsrfRefused
            response = await handler(page)
        except SignInRequired:
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            response = page.redirect(f"{SIGN_IN}?next={target}")
        except CsrfRefused:
            response = page.render(
                "errors/error.html",
                status_code=403,
                title=page.gettext("This form has expired"),
                detail=page.gettext(
                    "The page was open too long, or came from somewhere else. "
                    "Go back, reload the page and send the form again."
                ),
            )
        except GraphQLFailure as exc:
            if exc.timed_out:
                log.warning("web page %s ran out of time in %s", request.url.path, exc.document)
            else:
                log.error("web page %s: %s", request.url.path, exc)
            response = page.render(
                "errors/error.html",
                status_code=503 if exc.timed_out else 500,
                title=page.gettext("Something went wrong"),
                detail=page.gettext(
                    "We could not finish this. Nothing you sent is lost: try again in a moment."
                ),
            )
        finally:
            if form is not None:
                await form.close()
        for set_cookie in page.cookies:
            set_cookie(response)
        web.sessions.store(request, response, session)
        secure_headers(response, private=True)
        return response

    return endpoint


def get(path: str, handler: Callable[[WebRequest], Awaitable[Response]], name: str) -> Route:
    return Route(path, _endpoint(handler, post=False), methods=["GET"], name=name)


def post(path: str, handler: Callable[[WebRequest], Awaitable[Response]], name: str) -> Route:
    """A POST route: the CSRF token is checked before `handler` runs."""
    return Route(path, _endpoint(handler, post=True), methods=["POST"], name=name)


# Scripts and styles from this site only (htmx, leaflet, chart.js are vendored under static/),
# no inline script, no framing. Map tiles, when a city configures them, are images.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def secure_headers(response: Response, *, private: bool) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if private:
        # Pages show a member's data: never kept by a shared cache or the back button's disk.
        response.headers.setdefault("Cache-Control", "no-store")
