"""My account's pages through the real gateway (TestClient): who I am, asking for a role, my
data as a download, erasing my data behind its confirmation, signing out everywhere. Every
refusal is shown by its field and changes nothing; the API is read back to show it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, past_clock
from tests.support.accounts import PASSWORD, REFRESH, SIGN_IN
from tests.support.graphql import gql
from tests.support.web import browser_on, csrf_of, signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

MY_ACCOUNT = """
{ myAccount {
    __typename ... on Account { roles requestedRoles language } ... on Problem { message }
} }"""
MY_DATA = "{ myData { __typename ... on MemberExport { data } ... on Problem { message } } }"


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client.app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """A browser of its own (its own cookies and address) on the module's gateway."""
    client = browser_on(app)  # not entered: the module's client runs the app's lifespan
    yield client
    client.close()


def account_of(client: TestClient, member: dict[str, Any]) -> dict[str, Any]:
    """The member's account as the API says (a fresh sign-in, so the page's tokens stay)."""
    token = signed_in_token(client, member)
    answer: dict[str, Any] = gql(client, MY_ACCOUNT, token=token)["myAccount"]
    return answer


def signed_in_token(client: TestClient, member: dict[str, Any]) -> str:
    answer = gql(client, SIGN_IN, {"login": member["email"], "password": PASSWORD})["signIn"]
    assert answer["__typename"] == "SignedIn", answer
    return str(answer["accessToken"])


def test_a_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/account"


def test_the_page_says_who_i_am(client: TestClient) -> None:
    member = signed_in(client, "Ada Lovelace")
    page = client.get("/account")
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text
    assert member["memberId"] in page.text
    assert "Email address" in page.text  # the kind of login, never its value
    assert member["email"] not in page.text
    assert '<a href="/account" aria-current="page">My account</a>' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_asking_for_a_role_shows_it_as_asked_for(client: TestClient) -> None:
    member = signed_in(client, "Bram")
    response = client.post(
        "/account/role",
        data={"csrf_token": csrf_of(client), "role": "driver", "reason": "I have a van"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account")
    page = client.get("/account")
    assert "You asked for the role Driver. The board will look at it." in page.text
    assert account_of(client, member)["requestedRoles"] == ["driver"]


@pytest.mark.parametrize(
    ("role", "reason", "field", "message"),
    [
        ("pope", "I would like to", "role", "Choose one of the roles in the list."),
        ("member", "I would like to", "role", "Choose one of the roles in the list."),
        ("driver", "   ", "reason", "Say why in 1 to 200 characters."),
        ("driver", "x" * 201, "reason", "Say why in 1 to 200 characters."),
    ],
)
def test_a_bad_role_request_is_shown_by_its_field_and_changes_nothing(
    client: TestClient, role: str, reason: str, field: str, message: str
) -> None:
    member = signed_in(client, "Cleo")
    response = client.post(
        "/account/role", data={"csrf_token": csrf_of(client), "role": role, "reason": reason}
    )
    assert response.status_code == 400
    assert f'<p class="field-error" id="f-{field}-error">{message}</p>' in response.text
    assert f'aria-describedby="f-{field}-error"' in response.text or (
        f'aria-describedby="f-{field}-hint f-{field}-error"' in response.text
    )
    assert 'aria-invalid="true"' in response.text
    assert account_of(client, member)["requestedRoles"] == []


def test_my_data_downloads_exactly_what_the_api_answers(client: TestClient) -> None:
    member = signed_in(client, "Dina")
    response = client.get("/account/my-data")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="my-data-')
    downloaded = json.loads(response.text)
    assert downloaded["memberId"] == member["memberId"]
    assert "Dina" in response.text
    api = gql(client, MY_DATA, token=signed_in_token(client, member))["myData"]
    assert downloaded == api["data"]


def test_erasing_needs_the_box_ticked_and_changes_nothing_without(client: TestClient) -> None:
    member = signed_in(client, "Emre")
    page = client.get("/account/erase")
    assert page.status_code == 200
    assert "What the co-op keeps, and why" in page.text
    response = client.post("/account/erase", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 400
    assert "Tick the box to say you understand" in response.text
    assert 'aria-invalid="true"' in response.text
    signed_in_token(client, member)  # still signs in: nothing was erased
    assert "Emre" in client.get("/account").text


def test_erasing_signs_out_and_the_login_is_gone(client: TestClient) -> None:
    member = signed_in(client, "Fien")
    response = client.post(
        "/account/erase",
        data={"csrf_token": csrf_of(client), "confirm": "yes"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/")
    home = client.get("/")
    assert "Your personal data is erased and you are signed out." in home.text
    assert client.get("/account", follow_redirects=False).status_code == 303
    answer = gql(client, SIGN_IN, {"login": member["email"], "password": PASSWORD})["signIn"]
    assert answer["__typename"] == "InvalidCredentials"


def test_signing_out_everywhere_ends_every_session(client: TestClient) -> None:
    member = signed_in(client, "Gust")
    response = client.post(
        "/account/sign-out-everywhere",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert "You are signed out on every device." in client.get("/").text
    assert client.get("/account", follow_redirects=False).status_code == 303
    answer = gql(client, REFRESH, {"token": member["refreshToken"]})["refreshToken"]
    assert answer["__typename"] != "SignedIn"


def test_choosing_a_language_keeps_it_on_the_account(client: TestClient) -> None:
    member = signed_in(client, "Hanne")
    response = client.post(
        "/language",
        data={"csrf_token": csrf_of(client), "language": "nl", "next": "/account"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account")
    assert response.cookies.get("muni_lang") == "nl"
    assert account_of(client, member)["language"] == "nl"
    assert '<html lang="nl">' in client.get("/account").text


def test_a_language_the_city_does_not_offer_changes_nothing(client: TestClient) -> None:
    member = signed_in(client, "Ilse")
    response = client.post(
        "/language",
        data={"csrf_token": csrf_of(client), "language": "xx", "next": "/account"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "muni_lang" not in response.cookies
    assert account_of(client, member)["language"] is None
