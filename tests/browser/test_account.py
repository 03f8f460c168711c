"""My account through the real pages: what it shows (accessible in both languages and sizes),
a member exports and erases their data, a display name with HTML in it shows as text and runs
nothing, the language a member chooses follows them to a fresh browser, and `next` never leads
off the site."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.browser.conftest import SIZES, assert_accessible, screenshot
from tests.browser.members import sign_in_in_browser, sign_up_in_browser

if TYPE_CHECKING:
    from pathlib import Path

    from tests.browser.conftest import Served

HEADING = {"en": "My account", "nl": "Mijn account"}
ERASE_HEADING = {"en": "Erase my personal data", "nl": "Mijn persoonsgegevens wissen"}
DOWNLOAD = {"en": "Download my data (JSON)", "nl": "Mijn gegevens downloaden (JSON)"}
ERASE_LINK = {"en": "Erase my data…", "nl": "Mijn gegevens wissen…"}
ERASE_BUTTON = {"en": "Erase my data", "nl": "Mijn gegevens wissen"}
ERASED = {
    "en": "Your personal data is erased and you are signed out.",
    "nl": "Je persoonsgegevens zijn gewist en je bent uitgelogd.",
}
WRONG = {
    "en": "That login, password or code is not right.",
    "nl": "Die login, dat wachtwoord of die code klopt niet.",
}
SIGN_OUT = {"en": "Sign out", "nl": "Uitloggen"}
HOSTILE = "<script>alert(1)</script><b>x</b>"


def test_the_account_pages_are_accessible(page, language, size):
    sign_up_in_browser(page, "Ada Lovelace")
    page.goto("/account")
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == HEADING[language]
    assert page.locator(".display-name").inner_text() == "Ada Lovelace"
    assert_accessible(page)
    if language == "en":
        screenshot(page, "account", size)

    page.get_by_role("link", name=ERASE_LINK[language]).click()
    page.wait_for_url("**/account/erase")
    assert page.get_by_role("heading", level=1).inner_text() == ERASE_HEADING[language]
    assert_accessible(page)
    if language == "en":
        screenshot(page, "account-erase", size)

    # pressing the red button without ticking the box: said by the box, in the page's language
    page.get_by_role("button", name=ERASE_BUTTON[language]).click()
    page.wait_for_url("**/account/erase")
    assert page.locator("#f-confirm").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-confirm-error").is_visible()
    assert_accessible(page)


def test_a_member_exports_and_erases_their_data(page, language, tmp_path: Path):
    login = sign_up_in_browser(page, "Bram Peeters")
    page.goto("/account")
    member_id = page.locator(".member-id").inner_text()

    # the download is the API's JSON: it holds their id and their name
    with page.expect_download() as found:
        page.get_by_role("link", name=DOWNLOAD[language]).click()
    download = found.value
    assert download.suggested_filename.endswith(".json")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["memberId"] == member_id
    assert "Bram Peeters" in json.dumps(data, ensure_ascii=False)

    # erase, behind the confirmation: the box ticked, the red button pressed
    page.get_by_role("link", name=ERASE_LINK[language]).click()
    page.wait_for_url("**/account/erase")
    page.locator("#f-confirm").check()
    page.get_by_role("button", name=ERASE_BUTTON[language]).click()
    page.wait_for_url(lambda url: "/account" not in url)
    assert ERASED[language] in page.get_by_role("status").inner_text()
    page.goto("/account")
    assert "/signin" in page.url  # signed out

    # signing in again fails, with the page's message
    page.locator("#f-login").fill(login["email"])
    page.locator("#f-password").fill(login["password"])
    page.locator("form[action='/signin'] button[type=submit]").click()
    assert page.get_by_role("alert").inner_text() == WRONG[language]
    assert "/signin" in page.url


def test_a_display_name_with_html_shows_as_text_and_runs_nothing(page):
    dialogs: list[str] = []

    def seen(dialog: Any) -> None:  # an alert() would open one
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)

    sign_up_in_browser(page, HOSTILE)
    page.goto("/account")

    name = page.locator(".display-name")
    assert name.inner_text() == HOSTILE  # the very characters, visible
    assert name.is_visible()
    assert name.locator("script, b").count() == 0  # no element was made of them
    assert page.locator("main script").count() == 0
    assert dialogs == []  # and nothing ran


def test_the_chosen_language_follows_the_member_to_a_fresh_browser(browser, gateway: Served):
    first = browser.new_context(viewport=SIZES["phone"], locale="en", base_url=gateway.url)
    page = first.new_page()
    login = sign_up_in_browser(page, "Cleo")
    page.goto("/account")
    page.get_by_role("radio", name="Nederlands").check()
    page.get_by_role("button", name="Keep this language").click()
    page.wait_for_url("**/account")
    assert page.get_by_role("heading", level=1).inner_text() == HEADING["nl"]
    page.get_by_role("button", name="Uitloggen", exact=True).click()
    page.wait_for_url("**/")
    first.close()

    # a browser that prefers English, with no cookie of this site
    fresh = browser.new_context(viewport=SIZES["desktop"], locale="en", base_url=gateway.url)
    page = fresh.new_page()
    page.goto("/account")
    assert page.locator("html").get_attribute("lang") == "en"  # a visitor: the browser's
    sign_in_in_browser(page, login["email"], login["password"])
    page.goto("/account")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == HEADING["nl"]
    fresh.close()


def test_a_language_chosen_before_signing_up_is_kept_on_the_account(browser, gateway: Served):
    first = browser.new_context(viewport=SIZES["phone"], locale="en", base_url=gateway.url)
    page = first.new_page()
    page.goto("/signup")
    page.get_by_role("button", name="Nederlands").click()  # the footer's language switch
    page.wait_for_url("**/signup")
    assert page.locator("html").get_attribute("lang") == "nl"
    login = sign_up_in_browser(page, "Daan")
    first.close()

    fresh = browser.new_context(viewport=SIZES["desktop"], locale="en", base_url=gateway.url)
    page = fresh.new_page()
    sign_in_in_browser(page, login["email"], login["password"])
    page.goto("/account")
    assert page.locator("html").get_attribute("lang") == "nl"
    fresh.close()


def test_next_off_the_site_lands_on_this_site(page, language, gateway: Served):
    login = sign_up_in_browser(page, "Dina")
    page.get_by_role("button", name=SIGN_OUT[language], exact=True).click()
    page.wait_for_url("**/")
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        page.goto(f"/signin?next={target}")
        page.locator("#f-login").fill(login["email"])
        page.locator("#f-password").fill(login["password"])
        page.locator("form[action='/signin'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/signin" not in url)
        assert page.url.startswith(gateway.url + "/"), page.url
        page.get_by_role("button", name=SIGN_OUT[language], exact=True).click()
        page.wait_for_url("**/")


ASK = {"en": "Ask the board", "nl": "Aanvragen bij het bestuur"}
ASKED = {"en": "Driver", "nl": "Chauffeur"}
NONE = {"en": "None", "nl": "Geen"}
EVERYWHERE = {"en": "Sign out everywhere", "nl": "Overal uitloggen"}
SIGNED_OUT_EVERYWHERE = {
    "en": "You are signed out on every device.",
    "nl": "Je bent op elk apparaat uitgelogd.",
}


def test_a_member_asks_for_a_role_and_an_empty_reason_is_said_by_its_field(page, language):
    sign_up_in_browser(page, "Emre")
    page.goto("/account")
    page.locator("#f-role").select_option("driver")
    page.get_by_role("button", name=ASK[language]).click()
    page.wait_for_url("**/account/role")
    assert page.locator("#f-reason").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-reason-error").is_visible()
    assert page.locator(".requested-roles").inner_text() == NONE[language]  # nothing asked
    assert_accessible(page)

    page.locator("#f-reason").fill("I have a van with a ramp")
    page.get_by_role("button", name=ASK[language]).click()
    page.wait_for_url("**/account")
    assert page.locator(".requested-roles").inner_text() == ASKED[language]
    assert page.get_by_role("status").inner_text() != ""


def test_signing_out_everywhere_signs_this_browser_out_too(page, language):
    sign_up_in_browser(page, "Fien")
    page.goto("/account")
    page.get_by_role("button", name=EVERYWHERE[language]).click()
    page.wait_for_url(lambda url: "/account" not in url)
    assert SIGNED_OUT_EVERYWHERE[language] in page.get_by_role("status").inner_text()
    page.goto("/account")
    assert "/signin" in page.url
