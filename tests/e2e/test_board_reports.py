"""The board's reports over GraphQL: rides, fares and credits per day (`cityActivity`, also the
regulator's) with the trial balance's figures, and every ledger line (`ledgerLines`), paged.
Bad ranges and paging are typed and change nothing; other roles are refused."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from kernel.cities import load_city
from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    PICK_UP,
    PROBLEM,
    driver,
    eventually,
    join,
    request_ride,
    ride_command,
    store_positions,
    token_with,
)
from tests.support.graphql import gql, post

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

CITY = load_city("demo")
DAY_FIELDS = "day rides fares earnings hours"
ACTIVITY = f"""
query Activity($from: Date!, $to: Date!, $seen: String) {{
  cityActivity(from: $from, to: $to, seen: $seen) {{
    {PROBLEM}
    ... on RangeTooLong {{ maxDays daysAsked }}
    ... on CityActivity {{
      city currency timeZone asOf days {{ {DAY_FIELDS} }} total {{ {DAY_FIELDS} }}
    }}
  }}
}}"""
LINES = f"""
query Lines($account: String, $first: Int, $after: String) {{
  ledgerLines(account: $account, first: $first, after: $after) {{
    {PROBLEM}
    ... on LedgerLineConnection {{
      asOf pageInfo {{ hasNextPage endCursor }}
      nodes {{ entryId account amount unit memo at }}
    }}
  }}
}}"""
TRIAL_BALANCE = """{ trialBalance(first: 100) { ... on TrialBalance { accounts {
  nodes { account unit balance } } } } }"""


def answer(client: TestClient, query: str, token: str | None, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = next(iter(gql(client, query, variables, token=token).values()))
    return found


def ride_to_the_end(client: TestClient, clock: FixedClock, rider: str, drv: str) -> str:
    ride = request_ride(client, rider)
    ride_command(client, ACCEPT, ride["id"], drv)
    clock.advance(timedelta(minutes=10))
    ride_command(client, PICK_UP, ride["id"], drv)
    clock.advance(timedelta(minutes=15))
    done = ride_command(client, DROP_OFF, ride["id"], drv)
    assert done["state"] == "COMPLETED", done
    return str(done["fare"])


def test_the_board_charts_a_days_rides_fares_and_credits_as_the_ledger_has_them(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, rider = join(client, "Ada")
    driver_id, drv = driver(client, "Bram")
    board_id, _ = join(client, "Emre")
    board = token_with(client, board_id, "board")
    regulator_id, _ = join(client, "Rita")
    regulator = token_with(client, regulator_id, "regulator")
    fares = [Decimal(ride_to_the_end(client, e2e_clock, rider, drv)) for _ in range(2)]
    today = e2e_clock.now().astimezone(ZoneInfo(CITY.timezone)).date()
    span = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}

    def charted() -> dict[str, Any] | None:
        found = answer(client, ACTIVITY, board, **span)
        return found if found["total"]["rides"] == 2 else None

    chart = eventually(charted)
    assert (chart["city"], chart["currency"], chart["timeZone"]) == (
        "demo",
        "EUR",
        "Europe/Brussels",
    )
    assert [d["day"] for d in chart["days"]] == [
        (today - timedelta(days=6 - i)).isoformat() for i in range(7)
    ]
    assert [d["rides"] for d in chart["days"]] == [0, 0, 0, 0, 0, 0, 2]
    day = chart["days"][-1]
    assert Decimal(day["fares"]) == sum(fares)
    # the same figures as the trial balance: fares collected, the driver's earnings and hours
    balances = {
        (a["account"], a["unit"]): Decimal(a["balance"])
        for a in answer(client, TRIAL_BALANCE, board)["accounts"]["nodes"]
    }
    assert Decimal(day["fares"]) == balances[("rides:fares-collected", "EUR")]
    assert Decimal(day["earnings"]) == -balances[(f"member:{driver_id}:earnings", "EUR")]
    assert Decimal(day["hours"]) == -balances[(f"member:{driver_id}:hours:driving", "HOUR")]
    assert chart["total"] == {**day, "day": today.isoformat()}

    # the regulator sees the same totals (no account in them)
    assert answer(client, ACTIVITY, regulator, **span)["days"] == chart["days"]


def test_the_board_pages_through_every_ledger_line_newest_first(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, rider = join(client, "Ada")
    driver_id, drv = driver(client, "Bram")
    board_id, _ = join(client, "Emre")
    board = token_with(client, board_id, "board")
    for _ in range(2):
        ride_to_the_end(client, e2e_clock, rider, drv)
        e2e_clock.advance(timedelta(minutes=5))

    # two rides: a fare entry of five lines and an hours entry of two, each (the consumer
    # posts them shortly after the drop-offs)
    def every_line() -> list[dict[str, Any]] | None:
        lines: list[dict[str, Any]] = answer(client, LINES, board, first=100)["nodes"]
        return lines if len(lines) == 14 else None

    whole = eventually(every_line)
    assert len({(line["entryId"], line["account"]) for line in whole}) == 14
    times = [line["at"] for line in whole]
    assert times == sorted(times, reverse=True)

    # paged by five: the same lines in the same order, no skip, no repeat
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = answer(client, LINES, board, first=5, after=after)
        assert page["__typename"] == "LedgerLineConnection", page
        paged += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == whole

    earnings = f"member:{driver_id}:earnings"
    mine = answer(client, LINES, board, account=earnings)
    assert [line["account"] for line in mine["nodes"]] == [earnings, earnings]
    assert all(Decimal(line["amount"]) < 0 for line in mine["nodes"])  # credits


def test_bad_ranges_and_pages_are_typed_and_change_nothing(client: TestClient) -> None:
    board_id, _ = join(client, "Emre")
    board = token_with(client, board_id, "board")
    before = store_positions(client)
    start = date(2026, 1, 1)

    too_long = answer(client, ACTIVITY, board, **{"from": start.isoformat(), "to": "2027-01-02"})
    assert (too_long["__typename"], too_long["maxDays"], too_long["daysAsked"]) == (
        "RangeTooLong",
        366,
        367,
    )
    backwards = answer(client, ACTIVITY, board, **{"from": "2026-03-02", "to": "2026-03-01"})
    assert (backwards["__typename"], backwards["field"]) == ("InvalidInput", "to")
    behind = answer(
        client, ACTIVITY, board, **{"from": "2026-03-01", "to": "2026-03-01", "seen": "rides@1"}
    )
    assert (behind["__typename"], behind["field"]) == ("InvalidInput", "seen")
    year = answer(client, ACTIVITY, board, **{"from": "2028-01-01", "to": "2028-12-31"})
    assert len(year["days"]) == 366  # a leap year is one read
    not_a_date = post(client, ACTIVITY, {"from": "yesterday", "to": "2026-03-01"}, token=board)
    assert not_a_date["data"] is None
    assert "Date" in not_a_date["errors"][0]["message"]
    for variables, field in (({"first": 0}, "first"), ({"after": "nope"}, "after")):
        bad = answer(client, LINES, board, **variables)
        assert (bad["__typename"], bad["field"]) == ("InvalidInput", field)
    assert store_positions(client) == before


def test_reports_are_refused_to_other_roles(client: TestClient) -> None:
    member_id, member = join(client, "Ada")
    dispatcher = token_with(client, member_id, "dispatcher")
    regulator_id, _ = join(client, "Rita")
    regulator = token_with(client, regulator_id, "regulator")
    span = {"from": "2026-03-01", "to": "2026-03-31"}

    for token in (member, dispatcher):
        refused = answer(client, ACTIVITY, token, **span)
        assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "board")
    for token in (member, dispatcher, regulator):  # lines name accounts: the board's alone
        refused = answer(client, LINES, token)
        assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "board")
    assert answer(client, ACTIVITY, None, **span)["__typename"] == "NotAuthenticated"
