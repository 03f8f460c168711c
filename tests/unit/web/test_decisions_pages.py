"""The decisions pages on the real embedded app (Starlette TestClient): a board puts a simulated
equation to a vote, members vote (a second vote and a late one refused with the API's typed
problem, changing nothing), a proxy needs the member's consent, the vote is closed once its week
is up and the new policy version shows, from when; a member's proposal gathers backers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, past_clock, store_positions
from tests.unit.web.contrib_support import Browser, Page, browser_of
from tests.unit.web.test_contributions_pages import follow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock

WEEK = timedelta(days=7, minutes=1)


@pytest.fixture
def clock() -> FixedClock:
    return past_clock()


@pytest.fixture
def client(clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=clock)) as client:
        yield client


def decision_path(response: Page) -> str:
    assert response.status_code == 303
    location = str(response.headers["location"])
    assert location.startswith("/decisions/")
    return location


def vote(member: Browser, path: str, choice: str) -> Page:
    return member.post(f"{path}/vote", {"choice": choice})


def test_a_board_puts_an_equation_to_a_vote_and_the_members_ratify_it(
    client: TestClient, clock: FixedClock
) -> None:
    board = browser_of(client, "Board", "board")
    ana, ben, cy = (browser_of(client, n) for n in ("Ana", "Ben", "Cy"))
    period = clock.now().date().isoformat()[:7]
    opened = board.post("/board/contributions/period", {"action": "open", "period": period})
    assert opened.status_code == 303

    simulated = board.get(
        f"/board/contributions/simulate?run=1&period={period}"
        "&weight-work/care=2&weight-work/driving=1&halfLifeDays=30"
    ).text
    equation = simulated.split('name="equation" value=\'')[1].split("'")[0]
    assert json.loads(equation) == {
        "weights": {"work/care": "2", "work/driving": "1"},
        "half_life_days": 30,
    }
    proposed = board.post(
        "/decisions/equation",
        {"title": "Care counts double", "equation": equation},
    )
    path = decision_path(proposed)
    assert "open for votes" in follow(board, proposed)
    page = ana.get(path).text
    assert "Care counts double" in page
    assert "contributions.equation" in page
    assert "Open for votes" in page

    assert "Your vote is counted" in follow(ana, vote(ana, path, "for"))
    assert vote(ben, path, "for").status_code == 303
    before = store_positions(client)
    twice = vote(ana, path, "against")
    assert twice.status_code == 400
    assert "one member, one vote" in twice.text
    assert 'id="choice-error"' in twice.text
    assert store_positions(client) == before

    # a proxy needs the member's consent ticked; then it is given
    no_consent = cy.post(f"{path}/proxy", {"to": ana.member_id})
    assert no_consent.status_code == 400
    assert "Tick the box" in no_consent.text
    given = cy.post(f"{path}/proxy", {"to": ana.member_id, "consent": "yes"})
    assert "Your proxy is given" in follow(cy, given)

    early = ana.post(f"{path}/close", {})
    assert early.status_code == 400
    assert "still open" in early.text
    clock.advance(WEEK)
    before = store_positions(client)
    late = vote(cy, path, "against")
    assert late.status_code == 400
    assert "has closed" in late.text
    assert store_positions(client) == before
    assert "closed and counted" in follow(ana, ana.post(f"{path}/close", {}))
    closed = ana.get(path).text
    assert "passed" in closed
    assert "Policy version 2, in force from" in closed

    policies = ana.get("/decisions/policies").text
    assert "In force now: version 2." in policies
    assert "the city config file" in policies
    assert ana.get("/decisions?state=closed").text.count("Care counts double") == 1


def test_a_members_proposal_gathers_backers_and_bad_input_is_refused(
    client: TestClient,
) -> None:
    ana = browser_of(client, "Ana")
    ben = browser_of(client, "Ben")
    bad = ana.post("/decisions/new", {"title": "x", "path": "rides.split", "value": "{oops"})
    assert bad.status_code == 400
    assert "as JSON" in bad.text
    before = store_positions(client)
    invalid = ana.post(
        "/decisions/new",
        {"title": "Levy", "path": "contributions.levy_percent", "value": '"lots"'},
    )
    assert invalid.status_code == 400
    assert "not valid for this setting" in invalid.text
    assert store_positions(client) == before
    proposed = ana.post(
        "/decisions/new",
        {"title": "A levy of 12 %", "path": "contributions.levy_percent", "value": '"12"'},
    )
    path = decision_path(proposed)
    page = ana.get(path).text
    assert "Gathering backers" in page or "Open for votes" in page
    if "Back this proposal" in page:
        backed = ben.post(f"{path}/back", {})
        assert backed.status_code in (303, 400)
    # a standing proxy (until withdrawn), with consent, and withdrawn again
    standing = ben.post(f"{path}/proxy", {"to": ana.member_id, "consent": "yes", "standing": "yes"})
    assert "Your proxy is given" in follow(ben, standing)
    withdrawn = ben.post(f"{path}/withdraw-proxy", {"standing": "yes"})
    assert "Your proxy is withdrawn" in follow(ben, withdrawn)
    unknown = ben.post(f"{path}/proxy", {"to": "demo:nobody", "consent": "yes"})
    assert unknown.status_code == 400
    assert 'id="to-error"' in unknown.text
    assert "A levy of 12 %" in ben.get("/decisions").text
    assert ben.get("/decisions/nope").status_code == 404


def test_the_votes_alone_refresh_while_the_vote_is_open(client: TestClient) -> None:
    board = browser_of(client, "Board", "board")
    proposed = board.post(
        "/decisions/new",
        {"title": "Quorum 20 %", "path": "governance.quorum_percent", "value": "20"},
    )
    path = decision_path(proposed)
    page = board.get(path).text
    assert f'hx-get="{path}/tally"' in page
    assert vote(board, path, "for").status_code == 303
    votes = board.get(f"{path}/tally")
    assert votes.status_code == 200
    assert '<div id="tally" aria-live="polite"' in votes.text
    assert "<td>1</td>" in votes.text
    assert "<html" not in votes.text  # a fragment, not a page
