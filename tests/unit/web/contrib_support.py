"""For the contributions and decisions page tests (Starlette TestClient, the real embedded app):
a member's browser session made from a GraphQL sign-up, sealed by the gateway's own `Sessions`,
and the CSRF token of their forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.web.session import COOKIE, Session
from tests.support.accounts import operator_grant, refreshed, sign_up

if TYPE_CHECKING:
    from starlette.testclient import TestClient

# What the TestClient answers (an httpx response; typed loosely, as its httpx is vendored).
Page = Any

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """One member's cookie jar on the shared app (TestClient keeps one jar, so each request
    sets this member's cookie first)."""

    client: TestClient
    member_id: str
    token: str
    cookie: str

    def get(self, path: str, **kwargs: Any) -> Page:
        self._wear()
        response = self.client.get(path, **kwargs)
        self._keep(response)
        return response

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Page:
        self._wear()
        page = self.client.get("/contributions")
        found = CSRF.search(page.text)
        assert found is not None
        self._keep(page)
        self._wear()
        response = self.client.post(
            path, data={"csrf_token": found.group(1), **data}, follow_redirects=False, **kwargs
        )
        self._keep(response)
        return response

    def _wear(self) -> None:
        # The jar may hold another member's cookie, set by a response: only this member's.
        self.client.cookies.clear()
        self.client.cookies.set(COOKIE, self.cookie)

    def _keep(self, response: Page) -> None:
        cookie = response.cookies.get(COOKIE)
        if cookie:
            self.cookie = cookie


def browser_of(client: TestClient, name: str, *roles: str) -> Browser:
    """A member signed up over GraphQL (holding `roles`, granted by the operator), with the
    session a sign-in page would have written."""
    signed = sign_up(client, name)
    if roles:
        operator_grant(client, signed["memberId"], *roles)
        signed = refreshed(client, signed["refreshToken"])
    session = Session(
        member_id=signed["memberId"],
        roles=tuple(signed["roles"]),
        access_token=signed["accessToken"],
        access_expires_at=datetime.fromisoformat(signed["accessTokenExpiresAt"]).timestamp(),
        refresh_token=signed["refreshToken"],
    )
    web = client.app.state.web  # type: ignore[attr-defined]
    return Browser(client, signed["memberId"], signed["accessToken"], web.sessions.seal(session))
