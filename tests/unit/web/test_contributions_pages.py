"""The contributions pages on the real embedded app (Starlette TestClient): a member logs work,
peers validate it (one's own refused, typed, changing nothing), the member contests a statement
line, the board reviews it, closes the period and distributes; the dashboard, its CSV and the
simulation. Every refusal is the API's typed problem, shown in the page's words."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, past_clock, store_positions
from tests.unit.web.contrib_support import Browser, Page, browser_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return past_clock()


@pytest.fixture(scope="module")
def client(clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=clock)) as client:
        yield client


def notices(response: Page) -> str:
    """The live region of notices on a page (what the last command said)."""
    return str(response.text).split('id="notices"')[-1].split("</div>")[0]


def follow(member: Browser, response: Page) -> str:
    """The notices of the page a 303 leads to."""
    assert response.status_code == 303, notices(response)
    return notices(member.get(response.headers["location"]))


def test_logged_work_is_validated_by_peers_never_by_oneself(
    client: TestClient, clock: FixedClock
) -> None:
    ana = browser_of(client, "Ana")
    ben = browser_of(client, "Ben")
    cy = browser_of(client, "Cy")
    today = clock.now().date().isoformat()

    page = ana.get("/contributions/work")
    assert page.status_code == 200
    assert 'name="hours"' in page.text
    assert '<label for="hours">' in page.text

    # bad input: the field says why and nothing is stored
    before = store_positions(client)
    refused = ana.post("/contributions/work", {"kind": "care", "hours": "-2", "workedOn": today})
    assert refused.status_code == 400
    assert "at most 24" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert store_positions(client) == before

    logged = ana.post("/contributions/work", {"kind": "care", "hours": "3,5", "workedOn": today})
    assert "Your work is logged" in follow(ana, logged)
    mine = ana.get("/contributions/work").text
    assert "Waiting (0 of 2)" in mine

    waiting = ben.get("/contributions/work").text
    contribution = waiting.split('name="contributionId" value="')[1].split('"')[0]

    before = store_positions(client)
    own = ana.post("/contributions/validate", {"contributionId": contribution})
    assert "Nobody validates their own work" in follow(ana, own)
    assert store_positions(client) == before

    assert "another member" in follow(
        ben, ben.post("/contributions/validate", {"contributionId": contribution})
    )
    twice = ben.post("/contributions/validate", {"contributionId": contribution})
    assert "validated this work already" in follow(ben, twice)
    assert "now counts" in follow(
        cy, cy.post("/contributions/validate", {"contributionId": contribution})
    )
    mine = ana.get("/contributions/work").text
    assert "Counts" in mine
    assert ben.member_id in mine
    assert cy.member_id in mine


def test_a_line_is_contested_reviewed_and_the_period_closed_and_distributed(
    client: TestClient, clock: FixedClock
) -> None:
    board = browser_of(client, "Board", "board")
    ana = browser_of(client, "Ana")
    ben = browser_of(client, "Ben")
    cy = browser_of(client, "Cy")
    today = clock.now().date().isoformat()
    period = today[:7]

    # no period yet: the statement says so; a member is refused the dashboard
    assert ana.get("/contributions").status_code == 200
    member_view = ana.get("/board/contributions").text
    assert "cannot do this" in member_view or "No accounting period" in member_view

    opened = board.post("/board/contributions/period", {"action": "open", "period": period})
    assert f"The period {period} is open" in follow(board, opened)
    bad = board.post("/board/contributions/period", {"action": "open", "period": "soon"})
    assert bad.status_code == 400
    assert "2026-Q4" in bad.text

    ana.post("/contributions/work", {"kind": "code", "hours": "2", "workedOn": today})
    work = ben.get("/contributions/work").text
    ids = [p.split('"')[0] for p in work.split('name="contributionId" value="')[1:]]
    for member in (ben, cy):
        for contribution in ids:
            member.post("/contributions/validate", {"contributionId": contribution})

    statement = ana.get(f"/contributions?period={period}").text
    assert "Line items" in statement
    assert 'action="/contributions/contest"' in statement
    entry = statement.split('name="entryId" value="')[1].split('"')[0]
    line = statement.split('name="line" value="')[1].split('"')[0]

    before = store_positions(client)
    not_hers = ben.post(
        "/contributions/contest", {"entryId": entry, "line": line, "period": period}
    )
    assert "only the lines of your own statement" in follow(ben, not_hers)
    assert store_positions(client) == before
    contested = ana.post(
        "/contributions/contest", {"entryId": entry, "line": line, "period": period}
    )
    assert "The board will review it" in follow(ana, contested)
    assert "In review" in ana.get(f"/contributions?period={period}").text

    dashboard = board.get(f"/board/contributions?period={period}").text
    assert "Contests to review" in dashboard
    assert "data-chart=" in dashboard
    contest = dashboard.split('name="contestId" value="')[1].split('"')[0]
    reviewed = board.post(
        "/board/contributions/review",
        {"contestId": contest, "outcome": "changed", "quantity": "1.5", "period": period},
    )
    assert "The review is recorded" in follow(board, reviewed)
    assert "Changed" in ana.get(f"/contributions?period={period}").text

    closed = board.post("/board/contributions/period", {"action": "close", "period": period})
    assert "shares are frozen" in follow(board, closed)
    before = store_positions(client)
    twice = board.post("/board/contributions/period", {"action": "close", "period": period})
    assert twice.status_code == 400
    assert "cannot be done now" in twice.text
    no_surplus = board.post(
        "/board/contributions/period", {"action": "distribute", "period": period, "surplus": "x"}
    )
    assert no_surplus.status_code == 400
    assert "1000.00" in no_surplus.text
    assert store_positions(client) == before
    done = board.post(
        "/board/contributions/period",
        {"action": "distribute", "period": period, "surplus": "100.00"},
    )
    assert "is distributed" in follow(board, done)
    dashboard = board.get(f"/board/contributions?period={period}").text
    assert "Development levy (10 %), to the commons fund" in dashboard

    shares = board.get(f"/board/contributions/{period}/shares.csv")
    assert shares.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(shares.text)))
    paid = {r["member_id"] for r in rows}
    assert ana.member_id in paid
    assert ben.member_id not in paid
    assert ana.get(f"/board/contributions/{period}/shares.csv").status_code == 403

    assert "Dividend" in ana.get(f"/contributions?period={period}").text


def test_a_proposed_equation_is_simulated_beside_the_one_in_force(
    client: TestClient, clock: FixedClock
) -> None:
    board = browser_of(client, "Board", "board")
    form = board.get("/board/contributions/simulate").text
    assert 'name="weight-work/care" inputmode="decimal" size="6" value="1.5"' in form
    refused = board.get("/board/contributions/simulate?run=1&weight-work/care=-1")
    assert refused.status_code == 400
    assert "0 or more" in refused.text
    period = clock.now().date().isoformat()[:7]
    shown = board.get(
        f"/board/contributions/simulate?run=1&period={period}&weight-work/code=1&halfLifeDays=30"
    )
    assert shown.status_code == 200, shown.text
    assert "Shares side by side" in shown.text
    assert "Propose this equation" in shown.text


def test_the_pages_speak_dutch_to_a_dutch_browser(client: TestClient) -> None:
    board = browser_of(client, "Bestuur", "board")
    dutch = {"accept-language": "nl"}
    assert "<h1>Geregistreerd werk</h1>" in board.get("/contributions/work", headers=dutch).text
    assert "<h1>Mijn overzicht</h1>" in board.get("/contributions", headers=dutch).text
    assert "Overzicht van de bijdragen" in board.get("/board/contributions", headers=dutch).text
    refused = board.get("/board/contributions/simulate?run=1&weight-work/care=-1", headers=dutch)
    assert "Een gewicht moet een getal van 0 of meer zijn." in refused.text
    assert "<h1>Besluiten</h1>" in board.get("/decisions", headers=dutch).text
    assert "Beleidsversies" in board.get("/decisions/policies", headers=dutch).text
