"""Sign a Starlette TestClient into the web app as a member holding roles, without the sign-in
page: the member signs up over GraphQL, the operator grants the roles, and the refreshed tokens
go into a sealed session cookie exactly as the sign-in page would keep them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.web.session import COOKIE, Session
from tests.support.accounts import operator_grant, refreshed, sign_up

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def signed_in(client: TestClient, name: str, *roles: str) -> tuple[str, Session]:
    """Sign `client` in as a new member holding `roles`; return (member id, the session)."""
    member = sign_up(client, name)
    operator_grant(client, member["memberId"], *roles)
    tokens = refreshed(client, member["refreshToken"])
    session = Session()
    session.sign_in(
        member_id=tokens["memberId"],
        roles=list(tokens["roles"]),
        access_token=tokens["accessToken"],
        access_expires_at=datetime.fromisoformat(tokens["accessTokenExpiresAt"]).timestamp(),
        refresh_token=tokens["refreshToken"],
    )
    web = client.app.state.web  # type: ignore[attr-defined]
    client.cookies.delete(COOKIE)  # a visitor's session from an earlier page, if any
    client.cookies.set(COOKIE, web.sessions.seal(session))
    return tokens["memberId"], session


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "no form with a CSRF token on this page"
    return found.group(1)
