"""The public fares page, without signing in, in both languages, at phone and desktop size."""

from __future__ import annotations

from tests.browser.conftest import assert_accessible, screenshot

HEADINGS = {"en": "Our fares", "nl": "Onze tarieven"}


def test_the_fares_page_is_readable_without_signing_in(page, language, size):
    page.goto("/fares")
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[language]
    assert page.get_by_role("table").locator("tbody tr").count() == 4
    assert_accessible(page)
    if language == "en":
        screenshot(page, "fares", size)


def test_the_skip_link_moves_focus_to_the_main_content(page):
    page.goto("/fares")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
