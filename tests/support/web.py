"""Web app helpers for Starlette TestClient tests: a member signed up over GraphQL and their
browser session, sealed by the gateway's own `Sessions` (the cookie a sign-in page writes), and
the CSRF token a page's forms carry."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.web.session import COOKIE, Session
from tests.support.accounts import sign_up, unique_email

if TYPE_CHECKING:
    from starlette.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ADDRESSES = itertools.count(1)


def browser_on(app: Any) -> TestClient:
    """A client with cookies and an address of its own (so the per-address rate limits of
    sign-up and sign-in count each test's browser apart, as they would count people)."""
    from starlette.testclient import TestClient

    n = next(_ADDRESSES)
    return TestClient(app, client=(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", 50000))


def signed_in(client: TestClient, name: str, **login: str) -> dict[str, Any]:
    """Sign `name` up over GraphQL and put their session cookie in `client`: its next page
    requests are theirs. Returns the SignedIn answer, with the login used (`email` or `phone`)."""
    login = login or {"email": unique_email(name)}
    answer = {**sign_up(client, name, **login), **login}
    session = Session(
        member_id=answer["memberId"],
        roles=tuple(answer["roles"]),
        access_token=answer["accessToken"],
        access_expires_at=datetime.fromisoformat(answer["accessTokenExpiresAt"]).timestamp(),
        refresh_token=answer["refreshToken"],
    )
    web = client.app.state.web  # type: ignore[attr-defined]
    client.cookies.set(COOKIE, web.sessions.seal(session))
    return answer


def csrf_of(client: TestClient, path: str = "/account") -> str:
    """The CSRF token in the forms of the page at `path` (this session's)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = CSRF.search(response.text)
    assert found is not None, "no form with a CSRF token on " + path
    return found.group(1)
