"""What a member writes in contributions (a note on logged work, a reason for a contest) over
HTTP: shown where the work and the contest are, in `myData` with their logged work, validations
and contests, and gone after an erasure, while the hours, validations and outcomes stay."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import PROBLEM, join, store_positions
from tests.support.accounts import board_of
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME, MY_DATA

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

NOTE = "Translated the newsletter for Mrs Peeters at Kouter 12"
REASON = "I drove Mr Janssens to the hospital that evening too"
LOG = f"""mutation($input: LogContributionInput!) {{ logContribution(input: $input) {{ {PROBLEM}
  ... on LoggedChanged {{ contribution {{ id status note hours }} }} }} }}"""
VALIDATE = f"""mutation($id: String!) {{ validateContribution(contributionId: $id) {{ {PROBLEM}
  ... on LoggedChanged {{ contribution {{ id status }} }} }} }}"""
PENDING = f"""{{ loggedContributions {{ {PROBLEM}
  ... on LoggedContributionConnection {{ nodes {{ id note hours status }} }} }} }}"""
MINE = f"""{{ loggedContributions(mine: true) {{ {PROBLEM}
  ... on LoggedContributionConnection {{ nodes {{ id note hours status }} }} }} }}"""
LINES = f"""{{ myCredits {{ {PROBLEM}
  ... on Credits {{ lines {{ nodes {{ entryId line unit credit }} }} }} }} }}"""
CONTEST = f"""mutation($entry: String!, $line: Int!, $reason: String!) {{
  contestLine(entryId: $entry, line: $line, reason: $reason) {{ {PROBLEM}
  ... on ContestChanged {{ contest {{ contestId status reason }} }} }} }}"""
REVIEW = f"""mutation($id: String!) {{ reviewContest(contestId: $id, outcome: KEPT) {{ {PROBLEM}
  ... on ContestChanged {{ contest {{ contestId status outcome reason }} }} }} }}"""
CONTESTS = f"""{{ contests {{ {PROBLEM}
  ... on ContestConnection {{ nodes {{ contestId reason }} }} }} }}"""
BALANCE = f"""{{ trialBalance {{ {PROBLEM}
  ... on TrialBalance {{ balanced units {{ unit debits credits }} }} }} }}"""


def contributions_data(client: TestClient, token: str) -> dict[str, Any]:
    answer = gql(client, MY_DATA, token=token)["myData"]
    assert answer["__typename"] == "MemberExport", answer
    data: dict[str, Any] = answer["data"]["contributions"]
    return data


def test_notes_and_reasons_are_exported_then_erased_while_the_books_stay(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    ana, ana_t = join(client, "Ana Notes")
    ben, ben_t = join(client, "Ben Peer")
    cy, cy_t = join(client, "Cy Peer")
    board_id, board = board_of(client)
    today = e2e_clock.now().date().isoformat()

    # Ana logs work with a note; the peers who validate it read the note
    logged = gql(
        client,
        LOG,
        {"input": {"kind": "translation", "hours": "2", "workedOn": today, "note": NOTE}},
        token=ana_t,
    )["logContribution"]
    work = logged["contribution"]
    assert (work["status"], work["note"]) == ("pending", NOTE)
    pending = gql(client, PENDING, token=ben_t)["loggedContributions"]["nodes"]
    assert [(p["id"], p["note"]) for p in pending] == [(work["id"], NOTE)]
    for peer in (ben_t, cy_t):
        gql(client, VALIDATE, {"id": work["id"]}, token=peer)

    # and contests the hour line it credited, saying why; the board reads the reason
    lines = gql(client, LINES, token=ana_t)["myCredits"]["lines"]["nodes"]
    hours = next(x for x in lines if x["unit"] == "HOUR")
    contest = gql(
        client,
        CONTEST,
        {"entry": hours["entryId"], "line": hours["line"], "reason": REASON},
        token=ana_t,
    )["contestLine"]["contest"]
    assert contest["reason"] == REASON
    in_review = gql(client, CONTESTS, token=board)["contests"]["nodes"]
    assert [(c["contestId"], c["reason"]) for c in in_review] == [(contest["contestId"], REASON)]
    reviewed = gql(client, REVIEW, {"id": contest["contestId"]}, token=board)["reviewContest"]
    assert reviewed["contest"]["outcome"] == "kept"

    # her export holds her logged work with its note, her contest with its reason, her texts
    mine = contributions_data(client, ana_t)
    [entry] = mine["logged"]
    assert (entry["id"], entry["hours"], entry["status"], entry["note"]) == (
        work["id"],
        "2.00",
        "counted",
        NOTE,
    )
    assert sorted(entry["validators"]) == sorted([ben, cy])
    [contested] = mine["contests"]
    assert (contested["id"], contested["outcome"], contested["reason"]) == (
        contest["contestId"],
        "kept",
        REASON,
    )
    assert sorted(mine["written"].values()) == sorted([NOTE, REASON])
    assert Decimal(mine["totals"]["HOUR"]) == 2
    # Ben's holds the validation he gave; the board member's the contest they reviewed
    bens = contributions_data(client, ben_t)
    assert [v["contributionId"] for v in bens["validated"]] == [work["id"]]
    assert bens["logged"] == []
    assert bens["written"] == {}
    boards = contributions_data(client, board)
    assert [(r["id"], r["outcome"]) for r in boards["reviewed"]] == [(contest["contestId"], "kept")]
    ledger_before = gql(client, BALANCE, token=board)["trialBalance"]

    # when Ana erases her data
    assert gql(client, ERASE_ME, token=ana_t)["eraseMyData"]["__typename"] == "DataErased"

    # then her note and reason are nowhere to be read, and the books are as they were
    after = contributions_data(client, ana_t)
    assert after["written"] == {}
    assert [e["note"] for e in after["logged"]] == [None]
    assert [(e["hours"], e["status"]) for e in after["logged"]] == [("2.00", "counted")]
    assert [(c["outcome"], c["reason"]) for c in after["contests"]] == [("kept", None)]
    assert after["lines"] == mine["lines"]
    listed = gql(client, MINE, token=ana_t)["loggedContributions"]["nodes"]
    assert [(p["id"], p["note"], p["status"]) for p in listed] == [(work["id"], None, "counted")]
    assert gql(client, BALANCE, token=board)["trialBalance"] == ledger_before
    assert ana not in {ben, cy, board_id}


def test_a_note_too_long_is_refused_and_changes_nothing(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, ana_t = join(client, "Ana Long")
    before = store_positions(client)
    answer = gql(
        client,
        LOG,
        {
            "input": {
                "kind": "care",
                "hours": "1",
                "workedOn": e2e_clock.now().date().isoformat(),
                "note": "x" * 501,
            }
        },
        token=ana_t,
    )["logContribution"]
    assert (answer["__typename"], answer["field"]) == ("InvalidInput", "note")
    assert "at most 500 characters" in answer["message"]
    assert store_positions(client) == before
