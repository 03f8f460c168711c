"""Signing up, in (a password, or a desk's one-time code) and out, through the real pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.members import member_with_roles, sign_in_in_browser, sign_up_in_browser
from tests.support.accounts import ISSUE_CODE, PASSWORD, SIGN_IN

if TYPE_CHECKING:
    from tests.browser.conftest import Served

SIGN_OUT = {"en": "Sign out", "nl": "Uitloggen"}
WRONG = {"en": "That login, password or code is not right.", "nl": None}


def _as(gateway: Served, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    return next(iter(answer["data"].values()))


def test_the_sign_in_and_sign_up_pages_are_accessible(page, language, size):
    for path in ("/signin", "/signup"):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        if language == "en":
            screenshot(page, path.strip("/"), size)


def test_a_visitor_signs_up_signs_out_and_signs_in_again(page, language):
    login = sign_up_in_browser(page, "Amal <b>Haddad</b>")

    assert page.get_by_role("button", name=SIGN_OUT[language]).is_visible()
    page.get_by_role("button", name=SIGN_OUT[language]).click()
    page.wait_for_url("**/")
    assert page.get_by_role("button", name=SIGN_OUT[language]).count() == 0

    sign_in_in_browser(page, login["email"], login["password"])
    assert page.get_by_role("button", name=SIGN_OUT[language]).is_visible()


def test_a_wrong_password_is_refused_by_name_and_the_form_keeps_the_login(page, language):
    page.goto("/signin")
    page.locator("#f-login").fill("nobody@example.org")
    page.locator("#f-password").fill("not the password at all")
    page.locator("form[action='/signin'] button[type=submit]").click()

    alert = page.get_by_role("alert")
    assert alert.is_visible()
    if WRONG[language]:
        assert alert.inner_text() == WRONG[language]
    assert page.locator("#f-login").input_value() == "nobody@example.org"
    assert page.locator("#f-password").input_value() == ""
    assert_accessible(page)


def test_signing_up_without_an_email_or_phone_is_refused_and_makes_no_member(page, gateway):
    page.goto("/signup")
    page.locator("#f-displayName").fill("Nobody")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form[action='/signup'] button[type=submit]").click()

    assert page.get_by_role("alert").is_visible()
    assert "/signup" in page.url
    assert page.locator("#f-displayName").input_value() == "Nobody"


def test_a_member_without_a_smartphone_signs_in_with_the_desks_code(page, gateway, language):
    member = member_with_roles(gateway, "Grandma")
    desk = member_with_roles(gateway, "Dina", "dispatcher")
    desk_token = _as(gateway, SIGN_IN, {"login": desk["email"], "password": PASSWORD})
    issued = _as(gateway, ISSUE_CODE, {"member": member["memberId"]}, desk_token["accessToken"])
    assert issued["__typename"] == "SignInCodeIssued", issued

    page.goto("/signin")
    page.locator("#f-code").fill(issued["code"])
    page.locator("form[action='/signin/code'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    assert page.get_by_role("button", name=SIGN_OUT[language]).is_visible()

    # the code is used: a second sign-in with it is refused on the page
    context = page.context.browser.new_context(locale=language, base_url=gateway.url)
    other = context.new_page()
    other.goto("/signin")
    other.locator("#f-code").fill(issued["code"])
    other.locator("form[action='/signin/code'] button[type=submit]").click()
    assert other.get_by_role("alert").is_visible()
    assert "/signin" in other.url
    context.close()


def test_a_post_from_elsewhere_without_the_forms_token_is_refused(gateway):
    member = member_with_roles(gateway, "Ines")
    with httpx.Client(base_url=gateway.url, follow_redirects=False) as other_site:
        refused = other_site.post(
            "/signin", data={"login": member["email"], "password": member["password"]}
        )
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
        # nothing changed: this browser is not signed in (a signed-in one is sent on from here)
        assert other_site.get("/signin").status_code == 200
