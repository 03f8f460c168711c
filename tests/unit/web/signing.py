"""A signed-in browser for Starlette's TestClient: a member signed up over GraphQL, whose
tokens are sealed into the web app's session cookie as the sign-in page would keep them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.web.session import COOKIE, Session
from tests.support.accounts import refreshed, sign_up

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def keep(client: TestClient, signed_in: dict[str, Any]) -> Session:
    """Seal `signed_in` (a SignedIn answer) into the client's session cookie."""
    session = Session()
    session.sign_in(
        member_id=signed_in["memberId"],
        roles=list(signed_in["roles"]),
        access_token=signed_in["accessToken"],
        access_expires_at=datetime.fromisoformat(signed_in["accessTokenExpiresAt"]).timestamp(),
        refresh_token=signed_in["refreshToken"],
    )
    web = client.app.state.web  # type: ignore[attr-defined]
    # As the server sets it (the cookie jar names a dotless host "<host>.local"), so the
    # server's later cookies replace this one rather than sit beside it.
    host = client.base_url.host
    client.cookies.delete(COOKIE)
    client.cookies.set(
        COOKIE, web.sessions.seal(session), domain=host if "." in host else f"{host}.local"
    )
    return session


def signed_in(client: TestClient, name: str) -> dict[str, Any]:
    """Sign a fresh member up and keep their session in `client`; the SignedIn answer."""
    answer = sign_up(client, name)
    keep(client, answer)
    return answer


def resign(client: TestClient, refresh_token: str) -> dict[str, Any]:
    """Refresh the member's tokens (to carry a role granted since) and keep them."""
    answer = refreshed(client, refresh_token)
    keep(client, answer)
    return answer


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)
