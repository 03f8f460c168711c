"""A period closes with its distribution shown, through the board's dashboard: opened, work
counted in it, closed (shares frozen), a bad surplus refused by the field, the surplus
distributed exact to the cent (the levy first), the charts drawn and the CSV downloaded. On a
gateway of its own, as it closes the month the clock is in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.value_support import counted_work, member, own_gateway, signed_in_page

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.browser.conftest import Served


@pytest.fixture(scope="module")
def gateway() -> Iterator[Served]:
    yield from own_gateway()


@pytest.fixture(scope="module")
def base_url(gateway: Served) -> str:
    return gateway.url


def notice(page: Any) -> str:
    return str(page.locator("#notices").inner_text())


def test_a_period_closes_with_its_distribution_shown(browser: Any, gateway: Served) -> None:
    board = member(gateway, "Bea", "board")
    ana, ben, cy = (member(gateway, n) for n in ("Ana", "Ben", "Cy"))
    day = gateway.clock.now().date().isoformat()
    period = day[:7]

    page = signed_in_page(browser, gateway, board)
    page.goto("/board/contributions")
    page.get_by_label("Period (a month").fill(period)
    page.get_by_role("button", name="Open the period").click()
    assert f"The period {period} is open" in notice(page)
    counted_work(gateway, ana, [ben, cy], day, "3")
    counted_work(gateway, ben, [ana, cy], day, "1")

    page.goto(f"/board/contributions?period={period}")
    page.get_by_role("button", name=f"Close period {period}").click()
    assert "shares are frozen" in notice(page)
    page.get_by_label("Surplus to distribute").fill("abc")
    page.get_by_role("button", name="Distribute the surplus").click()
    assert page.locator("#surplus-error").is_visible()
    page.get_by_label("Surplus to distribute").fill("1000.00")
    page.get_by_role("button", name="Distribute the surplus").click()
    assert "is distributed" in notice(page)
    facts = page.locator("section", has_text="Distribution and levy").inner_text()
    assert "€100.00" in facts  # the 10 % levy, to the commons fund first
    assert "€900.00" in facts
    shares = page.locator("table", has_text="Shares by member").inner_text()
    assert "€675.00" in shares  # 3 of 4 hours of care
    assert "€225.00" in shares
    # the charts are drawn (Chart.js) beside their tables
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".every(c => window.Chart && window.Chart.getChart(c) !== undefined)"
    )
    assert drawn is True
    with page.expect_download() as download:
        page.get_by_role("link", name="Shares per member (CSV)").click()
    assert ana["memberId"] in download.value.path().read_text()
    page.context.close()
