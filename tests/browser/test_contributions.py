"""Contributions through the real pages: a member logs work and peers validate it (their own
refused on the page), a member contests a statement line and the board reviews it; axe on
every page in both languages and both sizes, and screenshots of the statement and the dashboard.
A period closing is `test_contributions_close.py` (it closes this month, on its own gateway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.members import sign_in_in_browser, sign_up_in_browser
from tests.browser.value_support import (
    counted_work,
    member,
    open_period,
    own_gateway,
    signed_in_page,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.browser.conftest import Served


@pytest.fixture(scope="module")
def gateway() -> Iterator[Served]:
    yield from own_gateway()


@pytest.fixture(scope="module")
def base_url(gateway: Served) -> str:
    return gateway.url


def today(gateway: Served) -> str:
    return gateway.clock.now().date().isoformat()


def fits(page: Any) -> bool:
    """Nothing makes the page wider than the screen (wide tables scroll in their own region)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def notice(page: Any) -> str:
    return str(page.locator("#notices").inner_text())


def waiting(page: Any, who: dict[str, str]) -> Any:
    """The row of `who`'s work in the list waiting for validation."""
    table = page.locator("table", has_text="Work other members logged")
    return table.locator("tbody tr", has_text=who["memberId"])


def test_a_member_logs_work_and_peers_validate_it(browser: Any, gateway: Served) -> None:
    ana = member(gateway, "Ana")
    page = signed_in_page(browser, gateway, ana)
    page.goto("/contributions/work")
    page.get_by_label("Kind of work").select_option("translation")
    page.get_by_label("Hours").fill("2,5")
    page.get_by_label("Day", exact=True).fill(today(gateway))
    page.get_by_role("button", name="Log this work").click()
    assert "Your work is logged" in notice(page)
    assert page.get_by_text("Waiting (0 of 2)").is_visible()

    # her own work: the button is there, the refusal is the API's, in words
    waiting(page, ana).get_by_role("button", name="Validate").click()
    assert "Nobody validates their own work" in notice(page)

    ben, cy = member(gateway, "Ben"), member(gateway, "Cy")
    for peer in (ben, cy):
        other = signed_in_page(browser, gateway, peer)
        other.goto("/contributions/work")
        waiting(other, ana).get_by_role("button", name="Validate").click()
        assert "Validated" in notice(other)
        other.context.close()
    page.reload()
    row = page.locator("table", has_text="Your logged work").locator("tbody tr").first
    assert "Counts" in row.inner_text()
    assert ben["memberId"] in row.inner_text()
    assert cy["memberId"] in row.inner_text()
    page.context.close()


def test_a_member_contests_a_line_and_the_board_reviews_it(browser: Any, gateway: Served) -> None:
    board = member(gateway, "Bo", "board")
    ana, ben, cy = (member(gateway, n) for n in ("Ana", "Ben", "Cy"))
    open_period(gateway, board, today(gateway)[:7])
    counted_work(gateway, ana, [ben, cy], today(gateway), "4")

    page = signed_in_page(browser, gateway, ana)
    page.goto("/contributions")
    lines = page.locator("table.lines tbody tr")
    assert lines.count() == 1
    assert "validated by 2 peers" in lines.first.inner_text()
    lines.first.get_by_role("button").click()
    assert "The board will review it" in notice(page)
    assert "In review" in page.locator("table.lines").inner_text()

    desk = signed_in_page(browser, gateway, board)
    desk.goto("/board/contributions")
    review = desk.locator("form.review", has_text=ana["memberId"])
    review.get_by_label("Changed", exact=True).check()
    review.get_by_label("Corrected amount (when changed)").fill("3")
    review.get_by_role("button", name="Record the review").click()
    assert "The review is recorded" in notice(desk)
    desk.context.close()

    page.goto("/contributions")
    contests = page.locator("table", has_text="Lines you contested").inner_text()
    assert "Changed: 3" in contests
    page.context.close()


PAGES = (
    "/contributions",
    "/contributions/work",
    "/board/contributions",
    "/board/contributions/simulate",
)


def test_the_contributions_pages_are_accessible(
    page: Any, gateway: Served, language: str, size: str
) -> None:
    board = member(gateway, "Axel", "board")
    ana, ben = member(gateway, "Ana"), member(gateway, "Ben")
    open_period(gateway, board, today(gateway)[:7])
    counted_work(gateway, ana, [ben, board], today(gateway), "2")
    sign_in_in_browser(page, board["email"], board["password"])
    for path in PAGES:
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        assert fits(page), f"{path} is wider than the screen"
        if language == "en" and path == "/board/contributions":
            screenshot(page, "contributions-dashboard", size)
    page.goto("/board/contributions/simulate?run=1&weight-work/care=2&weight-work/code=1")
    assert_accessible(page)
    if language == "en":
        screenshot(page, "contributions-simulation", size)
    # a member's statement, with a line to contest
    page.context.clear_cookies()
    sign_in_in_browser(page, ana["email"], ana["password"])
    page.goto("/contributions")
    assert page.locator("table.lines tbody tr").count() >= 1
    assert_accessible(page)
    if language == "en":
        screenshot(page, "contributions-statement", size)


def test_a_fresh_member_sees_an_empty_statement(page: Any) -> None:
    sign_up_in_browser(page, "Nora <i>New</i>")
    page.goto("/contributions")
    assert page.get_by_role("heading", level=1).is_visible()
    assert_accessible(page)
