"""Decisions through the real pages: a board proposes a value equation from its simulation,
members vote (a second vote refused with the API's typed problem), one gives a proxy with
consent, the vote runs its week, a late vote is refused, it is closed and ratified and the policy
version it made shows, from when. axe on every page in both languages and both sizes. On a
gateway of its own: the test moves its clock a week on."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.members import sign_in_in_browser
from tests.browser.value_support import (
    counted_work,
    gql,
    member,
    open_period,
    own_gateway,
    signed_in_page,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.browser.conftest import Served

WEEK = timedelta(days=7, minutes=1)
PROPOSE = """mutation($input: ProposeInput!) { proposePolicyChange(input: $input) { __typename
  ... on Problem { message } ... on DecisionChanged { decision { id } } } }"""


@pytest.fixture(scope="module")
def gateway() -> Iterator[Served]:
    yield from own_gateway()


@pytest.fixture(scope="module")
def base_url(gateway: Served) -> str:
    return gateway.url


def fits(page: Any) -> bool:
    """Nothing makes the page wider than the screen (wide tables scroll in their own region)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def notice(page: Any) -> str:
    return str(page.locator("#notices").inner_text())


def vote(page: Any, path: str, choice: str) -> None:
    page.goto(path)
    page.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()


def test_a_board_proposes_an_equation_members_vote_and_it_is_ratified(
    browser: Any, gateway: Served
) -> None:
    board = member(gateway, "Bo", "board")
    ana, ben, cy = (member(gateway, n) for n in ("Ana", "Ben", "Cy"))
    day = gateway.clock.now().date().isoformat()
    open_period(gateway, board, day[:7])
    counted_work(gateway, ana, [ben, cy], day, "2")

    # the board simulates a proposed equation beside the one in force, then proposes it
    desk = signed_in_page(browser, gateway, board)
    desk.goto("/board/contributions/simulate")
    assert desk.get_by_label("Weight of work/care").input_value() == "1.5"
    desk.get_by_label("Weight of work/care").fill("-1")
    desk.get_by_role("button", name="Simulate").click()
    assert (
        desk.locator(".field-error").first.inner_text() == "A weight must be a number of 0 or more."
    )
    desk.get_by_label("Weight of work/care").fill("3")
    desk.get_by_role("button", name="Simulate").click()
    side_by_side = desk.locator("table", has_text="under the equation in force").inner_text()
    assert ana["memberId"] in side_by_side
    assert "100 %" in side_by_side or "100.0 %" in side_by_side
    desk.get_by_label("Title of the proposal").fill("Care counts three times")
    desk.get_by_role("button", name="Propose this equation").click()
    assert "open for votes" in notice(desk)
    path = desk.url.removeprefix(gateway.url)
    assert desk.get_by_text("contributions.equation").is_visible()

    # members vote on the page; a second vote is refused by the API's typed problem
    voter = signed_in_page(browser, gateway, ana)
    vote(voter, path, "For")
    assert "Your vote is counted" in notice(voter)
    vote(voter, path, "Against")
    assert voter.locator("#choice-error").inner_text() == (
        "You have voted on this decision already: one member, one vote."
    )
    voter.context.close()
    second = signed_in_page(browser, gateway, ben)
    vote(second, path, "For")
    assert "Your vote is counted" in notice(second)
    second.context.close()

    # a proxy is given only with the member's consent
    third = signed_in_page(browser, gateway, cy)
    third.goto(path)
    third.get_by_label("Member id of who votes for you").fill(ana["memberId"])
    third.get_by_role("button", name="Give my proxy").click()
    assert third.locator("#consent-error").is_visible()
    third.get_by_label("I agree that this member votes for me").check()
    third.get_by_role("button", name="Give my proxy").click()
    assert "Your proxy is given" in notice(third)

    # closing early is refused; after the week a late vote is refused; the board closes it
    desk.goto(path)
    desk.get_by_role("button", name="Close and count the vote").click()
    assert "still open" in desk.get_by_role("alert").inner_text()
    gateway.clock.advance(WEEK)
    vote(third, path, "Against")
    assert "Voting on this decision has closed" in third.locator("#choice-error").inner_text()
    third.context.close()
    desk.goto(path)
    desk.get_by_role("button", name="Close and count the vote").click()
    assert "closed and counted" in notice(desk)
    assert "passed" in desk.locator(".state").first.inner_text()
    assert "Policy version 2, in force from" in desk.locator("main").inner_text()
    result = desk.locator("table", has_text="The result").locator("tbody").inner_text()
    assert result.split() == ["2", "0", "0", "0"]

    desk.goto("/decisions/policies")
    assert "In force now: version 2." in desk.locator("main").inner_text()
    assert "contributions.equation" in desk.locator("table").inner_text()
    desk.goto("/decisions?state=closed")
    assert desk.get_by_role("link", name="Care counts three times").is_visible()
    desk.context.close()


def test_the_decisions_pages_are_accessible(
    page: Any, gateway: Served, language: str, size: str
) -> None:
    board = member(gateway, "Axel", "board")
    made = gql(
        gateway,
        PROPOSE,
        {
            "input": {
                "title": "Drivers keep 87 %",
                "changes": [
                    {
                        "path": "rides.split",
                        "value": {"driver": 87, "coop": 8, "common_fund": 4, "protocol": 1},
                    }
                ],
            }
        },
        board["token"],
    )
    assert made["__typename"] == "DecisionChanged", made
    decision = made["decision"]["id"]
    sign_in_in_browser(page, board["email"], board["password"])
    for path in ("/decisions", f"/decisions/{decision}", "/decisions/new", "/decisions/policies"):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        assert fits(page), f"{path} is wider than the screen"
        if language == "en" and path == f"/decisions/{decision}":
            screenshot(page, "decision", size)
    # a refused form is accessible too
    page.goto("/decisions/new")
    page.locator("#title").fill("x")
    page.locator("#path").fill("rides.split")
    page.locator("#value").fill("{oops")
    page.locator("form[action='/decisions/new'] button[type=submit]").click()
    assert page.locator("#value-error").is_visible()
    assert_accessible(page)
