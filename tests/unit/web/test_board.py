"""The board's pages through Starlette's TestClient on the real, embedded gateway: two rides
driven to the end over GraphQL, then the chart's figures, the trial balance, the ledger paged
and per account, parked messages and the audit log, as a board member sees them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    PICK_UP,
    SETTINGS,
    driver,
    eventually,
    join,
    past_clock,
    request_ride,
    ride_command,
)
from tests.support.web_session import signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator


pytestmark = pytest.mark.e2e


def lines(html: str) -> set[tuple[str, str]]:
    """The (entry, line) pairs a ledger page shows."""
    return set(re.findall(r'<code title="([^"]+)">[^<]*</code>/(\d+)</td>', html))


def complete_a_ride(client: TestClient, rider: str, driver_token: str) -> None:
    ride = request_ride(client, rider)
    assert ride["state"] == "OFFERED", ride
    for command in (ACCEPT, PICK_UP, DROP_OFF):
        assert ride_command(client, command, ride["id"], driver_token)["__typename"] == (
            "RideChanged"
        )


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One gateway with two completed rides (and their ledger lines), signed in as the board."""
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        _, bram = driver(client, "Bram")
        _, ada = join(client, "Ada")
        for _ in range(2):
            complete_a_ride(client, ada, bram)
        signed_in(client, "Emre", "board")
        eventually(lambda: '<td class="number">2</td>' in client.get("/board").text)
        yield client


def test_the_chart_page_has_the_figures_in_a_table_and_a_chart_drawn_from_it(
    client: TestClient,
) -> None:
    page = client.get("/board")
    assert page.status_code == 200
    assert '<canvas id="activity-chart" data-chart="#activity-table"' in page.text
    assert len(re.findall(r"<tr data-day=", page.text)) == 30  # the last 30 days by default
    assert "2 rides completed" in page.text
    assert "/static/vendor/chart.umd.js" in page.text


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ("from=2026-13-01&to=2026-12-01", "from", "Choose a date"),
        ("from=2026-12-05&to=2026-12-01", "to", "on or after the start date"),
        ("from=2024-01-01&to=2026-12-01", "_form", "at most 366 days"),
    ],
)
def test_a_bad_date_range_is_refused_by_its_field(
    client: TestClient, query: str, field: str, text: str
) -> None:
    page = client.get(f"/board?{query}")
    assert page.status_code == 400
    assert text in page.text
    if field != "_form":
        assert f'id="{field}-error"' in page.text
    assert "<canvas" not in page.text


def test_the_ledger_pages_through_every_line_and_one_accounts(client: TestClient) -> None:
    first = client.get("/board/ledger?first=3")
    assert first.status_code == 200
    assert first.text.count("<tr><td>") == 3
    following = re.search(r'rel="next" href="\?([^"]+)"', first.text)
    assert following, "a next-page link"
    link = following.group(1).replace("&amp;", "&")
    assert "first=3" in link
    second = client.get(f"/board/ledger?{link}")
    assert second.status_code == 200
    assert second.text.count("<tr><td>") == 3
    assert lines(first.text).isdisjoint(lines(second.text))
    assert len(lines(first.text) | lines(second.text)) == 6

    balance = client.get("/board/balance")
    assert "Balanced" in balance.text
    account = re.search(r'href="/board/ledger\?account=([^"]+)">([^<]+)</a>', balance.text)
    assert account
    one = client.get(f"/board/ledger?account={account.group(1)}")
    assert one.status_code == 200
    accounts = set(
        re.findall(r'<th scope="row"><a href="/board/ledger\?account=[^"]+">([^<]+)<', one.text)
    )
    assert accounts == {account.group(2)}


def test_a_stale_page_link_is_refused_by_name(client: TestClient) -> None:
    page = client.get("/board/ledger?after=not-a-cursor")
    assert page.status_code == 400
    assert "This page link is no longer valid" in page.text


def test_parked_messages_and_the_audit_log_show(client: TestClient) -> None:
    parked = client.get("/board/parked")
    assert parked.status_code == 200
    assert "No message is parked." in parked.text
    audit = client.get("/board/audit")
    assert audit.status_code == 200
    assert "role granted" in audit.text


def test_the_board_pages_are_the_boards_only() -> None:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as other:
        signed_in(other, "Dina", "dispatcher")
        for path in ("/board", "/board/ledger", "/board/balance", "/board/parked", "/board/audit"):
            assert other.get(path).status_code == 403, path
