"""Open value accounting over GraphQL on the real app: members log work and contest a line, peers
validate it, the board reviews the contest, closes the period and distributes its surplus; the
report over GraphQL and as CSV. Every bad input is a typed answer that changes nothing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import PROBLEM, join, store_positions
from tests.support.accounts import board_of
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

LOGGED = f"""
  {PROBLEM}
  ... on CannotValidateOwnWork {{ contributionId }}
  ... on AlreadyValidated {{ contributionId }}
  ... on LoggedChanged {{
    position contribution {{ id memberId type hours status validators required }}
  }}
"""
LOG = f"""mutation($input: LogContributionInput!) {{
  logContribution(input: $input) {{ {LOGGED} }} }}"""
VALIDATE = f"""mutation($id: String!) {{
  validateContribution(contributionId: $id) {{ {LOGGED} }} }}"""
PENDING = f"""{{ loggedContributions {{ {PROBLEM}
  ... on LoggedContributionConnection {{ nodes {{ id memberId status }} }} }} }}"""
STATEMENT = f"""query($period: String!) {{ myStatement(period: $period) {{ {PROBLEM}
  ... on Statement {{ state equationVersion points share dividend byType {{ type amount }}
      lines {{ nodes {{ entryId line account amount credit unit memo }} }}
      contests {{ contestId status outcome quantity }} }} }} }}"""
CONTESTED = f"""
  {PROBLEM}
  ... on NotYourLine {{ entryId line }}
  ... on AlreadyContested {{ contestId }}
  ... on ContestChanged {{ position contest {{ contestId status outcome quantity credited }} }}
"""
CONTEST = f"""mutation($entry: String!, $line: Int!) {{
  contestLine(entryId: $entry, line: $line) {{ {CONTESTED} }} }}"""
REVIEW = f"""mutation($id: String!, $outcome: ReviewOutcome!, $q: Decimal) {{
  reviewContest(contestId: $id, outcome: $outcome, quantity: $q) {{ {CONTESTED} }} }}"""
PERIOD = f"""{PROBLEM} ... on PeriodNotInState {{ periodKey state }}
  ... on PeriodChanged {{
    period {{ period state equationVersion members totalPoints surplus levy }}
  }}"""
OPEN = f"""mutation($p: String!) {{ openPeriod(period: $p) {{ {PERIOD} }} }}"""
CLOSE = f"""mutation($p: String!) {{ closePeriod(period: $p) {{ {PERIOD} }} }}"""
DISTRIBUTE = f"""mutation($p: String!, $s: Decimal!) {{
  distributeSurplus(period: $p, surplus: $s) {{ {PERIOD} }} }}"""
REPORT = f"""query($p: String!, $first: Int, $after: String) {{
  periodReport(period: $p, first: $first, after: $after) {{ {PROBLEM}
  ... on PeriodReport {{ frozen period {{ state equationVersion }}
     shares {{ pageInfo {{ hasNextPage endCursor }} nodes {{ memberId points share dividend }} }}
     byType {{ type points members }}
     distribution {{ surplus levy levyPercent toMembers unclaimed }}
     protocolShare {{ revenue percent owed setAside }}
     participation {{ contributors credits byFrequency {{ credits members }} }} }} }} }}"""
SIMULATE = f"""query($p: String!, $eq: EquationInput!) {{
  simulateEquation(period: $p, equation: $eq) {{ {PROBLEM}
  ... on SimulationView {{
    currentVersion shares {{ nodes {{ memberId currentShare proposedShare }} }}
  }} }} }}"""


def log(client: TestClient, token: str, kind: str, hours: str, day: str) -> Any:
    return gql(
        client, LOG, {"input": {"kind": kind, "hours": hours, "workedOn": day}}, token=token
    )["logContribution"]


def test_members_log_validate_contest_and_the_board_closes_and_distributes(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    ana, ana_t = join(client, "Ana")
    ben, ben_t = join(client, "Ben")
    cy, cy_t = join(client, "Cy")
    _, board = board_of(client)
    today = e2e_clock.now().date().isoformat()
    period = today[:7]

    # Bad input: typed, and nothing is stored.
    before = store_positions(client)
    negative = log(client, ana_t, "care", "-2", today)
    assert (negative["__typename"], negative["field"]) == ("InvalidInput", "hours")
    unknown = log(client, ana_t, "gardening", "2", today)
    assert (unknown["__typename"], unknown["field"]) == ("InvalidInput", "kind")
    assert store_positions(client) == before

    logged = log(client, ana_t, "care", "3.5", today)
    assert logged["__typename"] == "LoggedChanged", logged
    work = logged["contribution"]
    assert (work["type"], work["status"], work["required"]) == ("work/care", "pending", 2)
    pending = gql(client, PENDING, token=ben_t)["loggedContributions"]["nodes"]
    assert [p["id"] for p in pending] == [work["id"]]

    before = store_positions(client)
    own = gql(client, VALIDATE, {"id": work["id"]}, token=ana_t)["validateContribution"]
    assert own["__typename"] == "CannotValidateOwnWork"
    assert own["contributionId"] == work["id"]
    assert store_positions(client) == before
    first = gql(client, VALIDATE, {"id": work["id"]}, token=ben_t)["validateContribution"]
    assert first["contribution"]["status"] == "pending"
    before = store_positions(client)
    twice = gql(client, VALIDATE, {"id": work["id"]}, token=ben_t)["validateContribution"]
    assert twice["__typename"] == "AlreadyValidated"
    assert store_positions(client) == before
    counted = gql(client, VALIDATE, {"id": work["id"]}, token=cy_t)["validateContribution"]
    assert counted["contribution"]["status"] == "counted"
    assert counted["contribution"]["validators"] == [ben, cy]
    # Ben's own work, validated by Ana and Cy.
    bens = log(client, ben_t, "code", "2", today)["contribution"]
    for t in (ana_t, cy_t):
        gql(client, VALIDATE, {"id": bens["id"]}, token=t)

    # Ana sees the line and contests it; Ben may not contest Ana's line.
    statement = gql(client, STATEMENT, {"period": period}, token=ana_t)["myStatement"]
    assert statement["__typename"] == "PeriodNotInState"  # not opened yet: a typed answer
    gql(client, OPEN, {"p": period}, token=board)
    statement = gql(client, STATEMENT, {"period": period}, token=ana_t)["myStatement"]
    assert statement["__typename"] == "Statement", statement
    line = next(x for x in statement["lines"]["nodes"] if x["unit"] == "HOUR")
    assert Decimal(line["credit"]) == Decimal("3.5")
    assert "validated by 2 peers" in line["memo"]
    assert Decimal(statement["points"]) == Decimal("5.25")  # care weighs 1.5 in the demo city
    assert statement["equationVersion"] == 1

    ref = {"entry": line["entryId"], "line": line["line"]}
    before = store_positions(client)
    not_hers = gql(client, CONTEST, ref, token=ben_t)["contestLine"]
    assert not_hers["__typename"] == "NotYourLine"
    assert store_positions(client) == before
    contest = gql(client, CONTEST, ref, token=ana_t)["contestLine"]
    assert contest["contest"]["status"] == "in_review", contest
    again = gql(client, CONTEST, ref, token=ana_t)["contestLine"]
    assert again["__typename"] == "AlreadyContested"
    cid = contest["contest"]["contestId"]
    bad = gql(client, REVIEW, {"id": cid, "outcome": "CHANGED"}, token=board)["reviewContest"]
    assert (bad["__typename"], bad["field"]) == ("InvalidInput", "quantity")
    member = gql(client, REVIEW, {"id": cid, "outcome": "KEPT"}, token=ana_t)["reviewContest"]
    assert member["__typename"] == "NotAuthorized"
    reviewed = gql(client, REVIEW, {"id": cid, "outcome": "CHANGED", "q": "3"}, token=board)
    assert reviewed["reviewContest"]["contest"]["outcome"] == "changed"
    statement = gql(client, STATEMENT, {"period": period}, token=ana_t)["myStatement"]
    assert [c["outcome"] for c in statement["contests"]] == ["changed"]
    assert any(Decimal(x["amount"]) == Decimal("0.5") for x in statement["lines"]["nodes"])
    assert Decimal(statement["points"]) == Decimal("4.5")

    # A simulation before any vote: members see every share under both equations.
    eq = {"weights": [{"type": "work/code", "amount": "1"}]}
    simulated = gql(client, SIMULATE, {"p": period, "eq": eq}, token=cy_t)["simulateEquation"]
    shares = {s["memberId"]: s for s in simulated["shares"]["nodes"]}
    assert Decimal(shares[ben]["proposedShare"]) == 1
    assert Decimal(shares[ana]["proposedShare"]) == 0
    negative_eq = {"weights": [{"type": "work/code", "amount": "-1"}]}
    refused = gql(client, SIMULATE, {"p": period, "eq": negative_eq}, token=cy_t)
    assert refused["simulateEquation"]["field"] == "weights.work/code"

    # Close, refuse a second close, distribute, refuse a second distribution.
    closed = gql(client, CLOSE, {"p": period}, token=board)["closePeriod"]
    assert closed["period"]["state"] == "closed"
    assert closed["period"]["members"] == 2
    before = store_positions(client)
    twice = gql(client, CLOSE, {"p": period}, token=board)["closePeriod"]
    assert (twice["__typename"], twice["state"]) == ("PeriodNotInState", "closed")
    member_close = gql(client, CLOSE, {"p": period}, token=ana_t)["closePeriod"]
    assert member_close["__typename"] == "NotAuthorized"
    bad_surplus = gql(client, DISTRIBUTE, {"p": period, "s": "10.001"}, token=board)
    assert bad_surplus["distributeSurplus"]["field"] == "surplus"
    assert store_positions(client) == before
    done = gql(client, DISTRIBUTE, {"p": period, "s": "100.01"}, token=board)["distributeSurplus"]
    assert done["period"]["state"] == "distributed"
    assert Decimal(done["period"]["levy"]) == 10

    report = gql(client, REPORT, {"p": period, "first": 1}, token=board)["periodReport"]
    assert report["frozen"] is True
    assert report["period"]["equationVersion"] == 1
    assert report["shares"]["pageInfo"]["hasNextPage"] is True
    rest = gql(
        client,
        REPORT,
        {"p": period, "after": report["shares"]["pageInfo"]["endCursor"]},
        token=board,
    )["periodReport"]
    dividends = {
        s["memberId"]: Decimal(s["dividend"])
        for s in report["shares"]["nodes"] + rest["shares"]["nodes"]
    }
    # 90.01 to members by points 4.5 (Ana) and 2 (Ben): 62.3146 and 27.6954 exactly; the one
    # cent left goes to the larger remainder (Ben's).
    assert dividends == {ana: Decimal("62.31"), ben: Decimal("27.70")}
    assert sum(dividends.values()) + Decimal(report["distribution"]["levy"]) == Decimal("100.01")
    assert report["participation"]["contributors"] == 2
    assert {t["type"] for t in report["byType"]} == {"work/care", "work/code"}
    assert gql(client, REPORT, {"p": period}, token=ana_t)["periodReport"]["__typename"] == (
        "NotAuthorized"
    )
    statement = gql(client, STATEMENT, {"period": period}, token=ana_t)["myStatement"]
    assert statement["dividend"] == "62.31"

    # The same report as CSV, for the board only.
    headers = {"Authorization": f"Bearer {board}"}
    got = client.get(f"/reports/contributions/{period}/shares.csv", headers=headers)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert {r["member_id"]: Decimal(r["dividend"]) for r in rows} == dividends
    dist = client.get(f"/reports/contributions/{period}/distribution.csv", headers=headers)
    assert "levy,10.00" in dist.text or "levy,10" in dist.text
    denied = client.get(
        f"/reports/contributions/{period}/shares.csv", headers={"Authorization": f"Bearer {ana_t}"}
    )
    assert denied.status_code == 403
