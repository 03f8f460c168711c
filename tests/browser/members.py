"""Members for browser tests: signed up through the real pages, or made over GraphQL with the
roles a test needs (the city's operator grants them, as `muni grant` does) and then signed in
through the sign-in page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.support.accounts import PASSWORD, SIGN_UP, unique_email

if TYPE_CHECKING:
    from tests.browser.conftest import Served


def sign_up_in_browser(page: Any, name: str, *, password: str = PASSWORD) -> dict[str, str]:
    """Sign a fresh member up through /signup; they land signed in. Returns their login."""
    email = unique_email(name)
    page.goto("/signup")
    page.locator("#f-displayName").fill(name)
    page.locator("#f-email").fill(email)
    page.locator("#f-password").fill(password)
    page.locator("form[action='/signup'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signup" not in url)
    return {"email": email, "password": password}


def sign_in_in_browser(page: Any, login: str, password: str = PASSWORD) -> None:
    """Sign in through /signin with a password; waits until the page has moved on."""
    page.goto("/signin")
    page.locator("#f-login").fill(login)
    page.locator("#f-password").fill(password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def member_with_roles(gateway: Served, name: str, *roles: str) -> dict[str, str]:
    """A member made over GraphQL, holding `roles` (driver, dispatcher, board, safety...)
    granted by the city's operator. Returns {"email", "password", "memberId"}; sign in with
    `sign_in_in_browser` (the session then carries the roles)."""
    email = unique_email(name)
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={
            "query": SIGN_UP,
            "variables": {"input": {"displayName": name, "password": PASSWORD, "email": email}},
        },
        timeout=30,
    ).json()["data"]["signUp"]
    assert answer["__typename"] == "SignedIn", answer
    members = gateway.app.state.runtime.apps["members"]
    for role in roles:
        members.roles.grant_as_operator(
            operator="tests", member=answer["memberId"], role=role, reason="browser test set-up"
        )
    return {"email": email, "password": PASSWORD, "memberId": answer["memberId"]}
