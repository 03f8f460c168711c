"""The contributions GraphQL fields on the merged schema (guards attached): connections over the
ledger's tables, typed answers for bad paging arguments and for a read model behind `seen`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from contributions.application import Contributions
from contributions.domain import Posting, member_account
from contributions.projections import Ledger
from gateway.schema import build_schema
from kernel.api import Context
from kernel.auth import Identity
from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.parking import Parked
from tests.support.ledger import AT, CITY, completed, consume, new_app

if TYPE_CHECKING:
    import strawberry

SCHEMA = build_schema()
DRIVER = new_member_id("demo")  # type: ignore[arg-type]
OTHER = new_member_id("demo")  # type: ignore[arg-type]

CREDITS = """query($first: Int, $after: String, $seen: String) {
  myCredits(first: $first, after: $after, seen: $seen) {
    __typename
    ... on Problem { message }
    ... on InvalidInput { field }
    ... on NotCaughtUp { readModel seen asOf }
    ... on Credits {
      memberId hoursDriving earnings currency
      lines { asOf pageInfo { hasNextPage hasPreviousPage endCursor }
              edges { cursor node { entryId account amount credit unit memo at } } }
    }
  }
}"""
TRIAL_BALANCE = """query($first: Int, $after: String) {
  trialBalance(first: $first, after: $after) {
    __typename
    ... on InvalidInput { field }
    ... on TrialBalance {
      city entries balanced units { unit debits credits entries balanced }
      accounts { pageInfo { hasNextPage endCursor } nodes { account unit balance } }
    }
  }
}"""
BALANCE = """query($account: String!, $unit: String!) {
  accountBalance(account: $account, unit: $unit) {
    __typename
    ... on Problem { message }
    ... on AccountBalance { account unit balance asOf }
  }
}"""
PARKED = """query($first: Int, $after: String) {
  parkedMessages(first: $first, after: $after) {
    __typename
    ... on InvalidInput { field }
    ... on ParkedMessageConnection {
      pageInfo { hasNextPage endCursor } nodes { reason topic offset }
    }
  }
}"""


@pytest.fixture
def app() -> Contributions:
    app = new_app()
    for i in range(5):
        consume(
            app, completed(DRIVER, 1000 + 100 * i, Decimal(30), at=AT + timedelta(hours=i)), i + 1
        )
    return app


async def run(
    app: Contributions,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    member: str = DRIVER,
    roles: frozenset[str] = frozenset({"member"}),
    schema: strawberry.Schema = SCHEMA,
) -> dict[str, Any]:
    context = Context(
        settings=Settings(persistence="popo"),
        apps={Contributions: app},
        identity=Identity(member, "demo", roles),
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def test_a_member_pages_through_their_credit_lines_newest_first(app: Contributions) -> None:
    first = (await run(app, CREDITS, {"first": 4}))["myCredits"]
    assert first["__typename"] == "Credits"
    assert (Decimal(first["earnings"]), Decimal(first["hoursDriving"])) == (
        sum(Decimal("8.50") + Decimal("0.85") * i for i in range(5)),  # 85 % of each fare
        Decimal("2.50"),
    )
    assert first["currency"] == CITY.currency
    lines = first["lines"]
    assert lines["pageInfo"]["hasNextPage"] is True
    assert lines["pageInfo"]["hasPreviousPage"] is False
    assert lines["asOf"] == "contributions@10"

    rest = await run(app, CREDITS, {"first": 100, "after": lines["pageInfo"]["endCursor"]})
    more = rest["myCredits"]["lines"]
    assert more["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": more["edges"][-1]["cursor"],
    }
    nodes = [e["node"] for e in lines["edges"] + more["edges"]]
    assert len(nodes) == 10  # earnings and hours for five rides, none twice
    assert [n["at"] for n in nodes] == sorted((n["at"] for n in nodes), reverse=True)
    assert {n["account"] for n in nodes} == {
        member_account(DRIVER, "earnings"),
        member_account(DRIVER, "hours:driving"),
    }
    assert all(Decimal(n["credit"]) == -Decimal(n["amount"]) > 0 for n in nodes)


async def test_a_member_without_credits_sees_zero_and_an_empty_connection(
    app: Contributions,
) -> None:
    mine = (await run(app, CREDITS, member=OTHER))["myCredits"]
    assert (mine["memberId"], Decimal(mine["earnings"]), mine["lines"]["edges"]) == (
        OTHER,
        Decimal(0),
        [],
    )


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "WzFd"}, "after"),  # a cursor of another list (one value, not three)
        ({"seen": "rides@12"}, "seen"),
        ({"seen": "contributions@soon"}, "seen"),
    ],
)
async def test_bad_paging_arguments_are_invalid_input_naming_the_field(
    app: Contributions, variables: dict[str, Any], field: str
) -> None:
    before = app.head()
    answer = (await run(app, CREDITS, variables))["myCredits"]
    assert (answer["__typename"], answer["field"]) == ("InvalidInput", field)
    assert app.head() == before


async def test_a_seen_position_the_ledger_does_not_reach_in_time_is_not_caught_up(
    app: Contributions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a ride credited after the ledger's last read, and a ledger that cannot move on
    # (its runner stuck, e.g. its database locked), so it stays at contributions@10
    (await run(app, CREDITS, {"first": 1}))["myCredits"]
    consume(app, completed(DRIVER, 999, Decimal(9), at=AT + timedelta(days=1)), 99)
    monkeypatch.setattr(app.runners[Ledger], "run_once", lambda: 0)

    # when a client asks for its lines as of the position after that ride
    answer = (await run(app, CREDITS, {"seen": f"contributions@{app.head()}"}))["myCredits"]

    # then it is told the ledger is behind (after the bounded wait), not shown an old list
    assert answer["__typename"] == "NotCaughtUp"
    assert (answer["readModel"], answer["seen"], answer["asOf"]) == (
        "contributions_ledger",
        "contributions@12",
        "contributions@10",
    )


async def test_a_seen_position_already_applied_is_read_at_once(app: Contributions) -> None:
    answer = (await run(app, CREDITS, {"seen": "contributions@10", "first": 1}))["myCredits"]
    assert answer["lines"]["asOf"] == "contributions@10"


async def test_the_board_sees_the_trial_balance_with_its_accounts_paged(
    app: Contributions,
) -> None:
    board = frozenset({"member", "board"})
    first = (await run(app, TRIAL_BALANCE, {"first": 3}, roles=board))["trialBalance"]
    assert first["__typename"] == "TrialBalance"
    assert (first["city"], first["entries"], first["balanced"]) == ("demo", 10, True)
    assert [(u["unit"], u["entries"], u["balanced"]) for u in first["units"]] == [
        ("EUR", 5, True),
        ("HOUR", 5, True),
    ]
    assert Decimal(first["units"][0]["debits"]) == Decimal("60.00")  # 10 + 11 + ... + 14
    cursor = first["accounts"]["pageInfo"]["endCursor"]
    rest = (await run(app, TRIAL_BALANCE, {"after": cursor}, roles=board))["trialBalance"]
    accounts = first["accounts"]["nodes"] + rest["accounts"]["nodes"]
    assert [(a["unit"], a["account"]) for a in accounts] == sorted(
        (a["unit"], a["account"]) for a in accounts
    )
    assert len(accounts) == 7  # five in euros, two in hours
    assert sum(Decimal(a["balance"]) for a in accounts) == 0


LEDGER_TOTALS = """{ ledgerTotals { __typename ... on LedgerTotals {
  entries balanced units { unit debits credits } } } }"""


async def test_a_regulator_sees_the_ledger_in_aggregate_and_no_account(
    app: Contributions,
) -> None:
    regulator = frozenset({"regulator"})
    totals = (await run(app, LEDGER_TOTALS, roles=regulator))["ledgerTotals"]
    assert (totals["__typename"], totals["entries"], totals["balanced"]) == (
        "LedgerTotals",
        10,
        True,
    )
    assert [u["unit"] for u in totals["units"]] == ["EUR", "HOUR"]
    assert "member:" not in str(totals)
    refused = (await run(app, TRIAL_BALANCE, roles=regulator))["trialBalance"]
    assert refused == {"__typename": "NotAuthorized"}


async def test_the_trial_balance_needs_the_board_role(app: Contributions) -> None:
    answer = (await run(app, TRIAL_BALANCE))["trialBalance"]
    assert answer == {"__typename": "NotAuthorized"}


async def test_a_member_looks_up_their_own_account_and_not_another_members(
    app: Contributions,
) -> None:
    own = {"account": member_account(DRIVER, "earnings"), "unit": "EUR"}
    mine = (await run(app, BALANCE, own))["accountBalance"]
    assert (mine["__typename"], Decimal(mine["balance"]), mine["asOf"]) == (
        "AccountBalance",
        Decimal("-51.00"),
        "contributions@10",
    )

    theirs = (await run(app, BALANCE, own, member=OTHER))["accountBalance"]
    assert theirs["__typename"] == "NotAuthorized"
    board = await run(app, BALANCE, own, member=OTHER, roles=frozenset({"board"}))
    assert board["accountBalance"]["balance"] == mine["balance"]


async def test_an_account_never_posted_to_is_not_found(app: Contributions) -> None:
    app.post_entry(
        source="s",
        purpose="p",
        memo="m",
        at=AT,
        postings=[Posting("a", Decimal(1), "EUR"), Posting("b", Decimal(-1), "EUR")],
    )
    answer = (
        await run(app, BALANCE, {"account": "a", "unit": "HOUR"}, roles=frozenset({"board"}))
    )["accountBalance"]
    assert answer["__typename"] == "NotFound"
    assert "nothing was ever posted to a in HOUR" in answer["message"]


async def test_parked_messages_are_a_connection_paged_oldest_first(app: Contributions) -> None:
    for offset in range(3):
        parked = Parked(reason=f"bad {offset}", topic="t", partition=0, offset=offset, raw="x")
        app.process_event(parked, _where(offset))  # type: ignore[arg-type]
    board = frozenset({"board"})

    first = (await run(app, PARKED, {"first": 2}, roles=board))["parkedMessages"]
    cursor = first["pageInfo"]["endCursor"]
    rest = (await run(app, PARKED, {"first": 2, "after": cursor}, roles=board))["parkedMessages"]
    bad = (await run(app, PARKED, {"first": -1}, roles=board))["parkedMessages"]

    assert first["__typename"] == "ParkedMessageConnection"
    assert [m["offset"] for m in first["nodes"] + rest["nodes"]] == [0, 1, 2]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    assert bad == {"__typename": "InvalidInput", "field": "first"}


def _where(offset: int) -> Any:
    from eventsourcing.persistence import Tracking

    return Tracking("malformed:t#0", offset + 1)
