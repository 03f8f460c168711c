"""The frame's defences, through the real gateway (TestClient): a POST without the session's
CSRF token (or with another) is a 403 page and changes nothing; what members type shows as
text; `next` never leads off the site."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.web.routing import local_path
from tests.e2e.conftest import SETTINGS, past_clock
from tests.support.accounts import PASSWORD, SIGN_IN
from tests.support.graphql import gql
from tests.support.web import browser_on, csrf_of, signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

HOSTILE_NAME = "<script>alert(1)</script><b>x</b>"
STATE = """
{
  me { __typename ... on Member { displayName } }
  myAccount { __typename ... on Account { requestedRoles language } }
}"""
OFF_SITE = [
    "//evil.example",
    "//evil.example/account",
    "https://evil.example",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
    "/%2F%2Fevil.example",  # a path on this site ("/%2F..."): kept, and harmless
]


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client.app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    client = browser_on(app)  # not entered: the module's client runs the app's lifespan
    yield client
    client.close()


def state_of(client: TestClient, member: dict[str, Any]) -> dict[str, Any]:
    """What the API holds for the member (read with a sign-in of its own)."""
    signed = gql(client, SIGN_IN, {"login": member["email"], "password": PASSWORD})["signIn"]
    assert signed["__typename"] == "SignedIn", signed
    return gql(client, STATE, token=signed["accessToken"])


# Every form the account area posts, with what would change if it went through.
FORMS = [
    ("/account/role", {"role": "driver", "reason": "I have a van"}),
    ("/account/erase", {"confirm": "yes"}),
    ("/language", {"language": "nl", "next": "/account"}),
    ("/account/sign-out-everywhere", {}),
]


@pytest.mark.parametrize(("path", "fields"), FORMS, ids=[path for path, _ in FORMS])
@pytest.mark.parametrize("token", ["none", "wrong", "another session's"])
def test_a_post_without_the_session_s_csrf_token_is_refused_and_changes_nothing(
    app: Any, client: TestClient, path: str, fields: dict[str, str], token: str
) -> None:
    member = signed_in(client, "Ada")
    before = state_of(client, member)
    sent = dict(fields)
    if token == "wrong":
        sent["csrf_token"] = csrf_of(client)[::-1]
    elif token == "another session's":
        other = browser_on(app)
        signed_in(other, "Bram")
        sent["csrf_token"] = csrf_of(other)

    response = client.post(path, data=sent, follow_redirects=False)

    assert response.status_code == 403
    assert "<h1>This form has expired</h1>" in response.text
    assert "muni_lang" not in response.cookies
    assert state_of(client, member) == before
    assert client.get("/account").status_code == 200  # still signed in, nothing ended


def test_a_csrf_token_in_the_htmx_header_is_accepted(client: TestClient) -> None:
    member = signed_in(client, "Cleo")
    response = client.post(
        "/account/role",
        data={"role": "driver", "reason": "I have a van"},
        headers={"X-CSRF-Token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert state_of(client, member)["myAccount"]["requestedRoles"] == ["driver"]


def test_the_refused_page_is_in_the_visitor_s_language(client: TestClient) -> None:
    client.cookies.set("muni_lang", "nl")
    response = client.post("/language", data={"language": "en"})
    assert response.status_code == 403
    assert '<html lang="nl">' in response.text


def test_a_display_name_with_html_shows_as_text(client: TestClient) -> None:
    signed_in(client, HOSTILE_NAME)
    page = client.get("/account").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<b>x</b>" not in page


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_the_site(client: TestClient, target: str) -> None:
    signed_in(client, "Dina")
    response = client.post(
        "/language",
        data={"csrf_token": csrf_of(client), "language": "en", "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OFF_SITE)
def test_local_path_keeps_only_paths_on_this_site(target: str) -> None:
    kept = local_path(target, "/home")
    assert kept == "/home" or (kept == target and target.startswith("/%2F"))


@pytest.mark.parametrize("target", ["/account", "/fares?x=1", "/account/erase#top"])
def test_local_path_keeps_a_path_on_this_site(target: str) -> None:
    assert local_path(target) == target
