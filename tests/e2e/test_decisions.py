"""Decisions over HTTP: a board proposing and ratifying a value equation, a member's proposal
reaching a vote through backing, a driver's suspension and appeal; refusals are typed and
change nothing; votes and proxies for someone else are in the audit log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from contributions.decisions.projections import Electorate
from kernel.bus.envelope import Envelope
from kernel.policies import PolicyChanged
from tests.e2e.conftest import PROBLEM, eventually, join, store_positions, token_with
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

WEEK = timedelta(days=7, minutes=1)
DECISION_PROBLEM = f"""
  {PROBLEM}
  ... on DecisionNotInState {{ decisionId state action }}
  ... on VotingClosed {{ decisionId closesAt }}
  ... on VotingStillOpen {{ decisionId closesAt }}
  ... on AlreadyVoted {{ decisionId memberId }}
  ... on AlreadyBacked {{ decisionId memberId }}
  ... on NoProxy {{ memberId holderId }}
  ... on NoConsent {{ memberId }}
  ... on SuspensionProblem {{ driverId }}
"""
DECISION = """
  id kind title state proposerId byBoard subjectId reason changes { path value }
  backers backersNeeded electorate quorum thresholdPercent closesAt
  result { forVotes against abstain byProxy votes } quorumReached passed decidedBy
  policyVersion effectiveFrom
"""
CHANGED = f"{DECISION_PROBLEM} ... on DecisionChanged {{ position decision {{ {DECISION} }} }}"
PROPOSE = f"""
mutation Propose($input: ProposeInput!) {{ proposePolicyChange(input: $input) {{ {CHANGED} }} }}"""
BACK = f"mutation Back($id: ID!) {{ backProposal(decisionId: $id) {{ {CHANGED} }} }}"
CLOSE = f"mutation Close($id: ID!) {{ closeDecision(decisionId: $id) {{ {CHANGED} }} }}"
VOTE = f"""
mutation Vote($id: ID!, $choice: VoteChoice!, $for: String) {{
  vote(decisionId: $id, choice: $choice, forMember: $for) {{
    {DECISION_PROBLEM} ... on VoteCast {{ decisionId memberId choice castBy }}
  }}
}}"""
GIVE_PROXY = f"""
mutation Give($to: String!, $id: ID, $for: String) {{
  giveProxy(to: $to, decisionId: $id, onBehalfOf: $for) {{
    {DECISION_PROBLEM} ... on ProxyChanged {{ memberId heldBy forDecision }}
  }}
}}"""
TALLY = f"""
query Tally($id: ID!) {{
  decisionTally(decisionId: $id) {{
    {DECISION_PROBLEM}
    ... on DecisionTally {{
      state electorate quorum quorumReached passing
      tally {{ forVotes against abstain byProxy votes }}
    }}
  }}
}}"""
HISTORY = f"""
{{ policyHistory {{
  {DECISION_PROBLEM}
  ... on PolicyHistory {{
    inForce versions {{ version decisionId effectiveFrom changes {{ path value }} }}
  }}
}} }}"""
DECISIONS = f"""
query List($first: Int, $after: String) {{
  decisions(first: $first, after: $after) {{
    {DECISION_PROBLEM}
    ... on DecisionConnection {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id kind state }} }}
  }}
}}"""
SUSPEND = f"""
mutation Suspend($driver: String!) {{
  suspendDriver(driverId: $driver, reason: SAFETY_REPORT) {{ {CHANGED} }}
}}"""
APPEAL = f"mutation {{ appealSuspension {{ {CHANGED} }} }}"
REVIEW = f"""
mutation Review($driver: String!, $outcome: AppealOutcome!) {{
  reviewAppeal(driverId: $driver, outcome: $outcome) {{ {CHANGED} }}
}}"""
AUDIT = """
{ auditLog(first: 50) { ... on AuditLogPage { entries { kind operation outcome actor subject } } } }
"""
EQUATION = {"weights": {"work/driving": "1", "work/care": "1.5"}, "half_life_days": 30}


def one(client: TestClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    answer: dict[str, Any] = next(iter(gql(client, query, variables, token=token).values()))
    return answer


def decision_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["__typename"] == "DecisionChanged", answer
    found: dict[str, Any] = answer["decision"]
    return found


def people(client: TestClient, count: int) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """A board member and `count` members, once the decisions service knows them all."""
    board_id, _ = join(client, "Board")
    board = (board_id, token_with(client, board_id, "board"))
    members = [join(client, f"Member {i}") for i in range(count)]
    decisions = client.app.state.runtime.apps["decisions"]  # type: ignore[attr-defined]
    eventually(lambda: decisions.read_model(Electorate).size() >= count + 1)
    return board, members


def vote(
    client: TestClient, decision: str, token: str, choice: str, for_member: str | None = None
) -> dict[str, Any]:
    return one(client, VOTE, {"id": decision, "choice": choice, "for": for_member}, token)


def published_policy_changes(client: TestClient) -> list[PolicyChanged]:
    """What a consuming service reads from the decisions topic, with the kernel's model."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.wait_until_idle(20)  # the relay has published what is stored
    subscriber = runtime.bus.subscriber(group="test-reader")
    subscriber.subscribe([runtime.settings.topic("decisions")])
    messages = []
    while batch := subscriber.poll(0.5):  # until a poll finds nothing more
        messages += batch
    found = []
    for message in messages:
        envelope = Envelope.from_bytes(message.value)
        if envelope.type == "decisions.PolicyChanged":
            found.append(
                PolicyChanged.model_validate(
                    {
                        **envelope.payload,
                        "event_id": envelope.id,
                        "city": envelope.city,
                        "occurred_at": envelope.occurred_at,
                        "aggregate_id": envelope.aggregate_id,
                    }
                )
            )
    subscriber.close()
    return found


def test_a_board_proposes_and_the_members_ratify_a_value_equation(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    (_, board), members = people(client, 4)
    (a_id, a), (_, b), (c_id, c), (_, d) = members
    # the board proposes: it goes to a vote at once, validated against the config schema
    proposed = decision_of(
        one(
            client,
            PROPOSE,
            {
                "input": {
                    "title": "Care counts one and a half times driving",
                    "changes": [{"path": "contributions.equation", "value": EQUATION}],
                }
            },
            board,
        )
    )
    decision = proposed["id"]
    assert (proposed["state"], proposed["byBoard"], proposed["electorate"]) == ("OPEN", True, 5)
    assert proposed["quorum"] == 1  # 10 % of 5, rounded up
    # C gives their proxy to A for this decision; A votes for C and for themself
    given = one(client, GIVE_PROXY, {"to": a_id, "id": decision}, c)
    assert given == {
        "__typename": "ProxyChanged",
        "memberId": c_id,
        "heldBy": a_id,
        "forDecision": decision,
    }
    assert vote(client, decision, a, "FOR", c_id)["castBy"] == a_id
    assert vote(client, decision, a, "FOR")["__typename"] == "VoteCast"
    assert vote(client, decision, b, "FOR")["__typename"] == "VoteCast"
    assert vote(client, decision, d, "AGAINST")["__typename"] == "VoteCast"
    # voting twice is refused and changes nothing
    before = store_positions(client)
    twice = vote(client, decision, b, "AGAINST")
    assert twice["__typename"] == "AlreadyVoted", twice
    assert store_positions(client) == before
    tally = one(client, TALLY, {"id": decision}, board)
    assert tally["tally"] == {"forVotes": 3, "against": 1, "abstain": 0, "byProxy": 1, "votes": 4}
    assert (tally["quorumReached"], tally["passing"]) == (True, True)
    # the vote runs its week: closing early is refused, voting late too
    assert one(client, CLOSE, {"id": decision}, a)["__typename"] == "VotingStillOpen"
    e2e_clock.advance(WEEK)
    late = vote(client, decision, board, "AGAINST")
    assert late["__typename"] == "VotingClosed", late
    closed = decision_of(one(client, CLOSE, {"id": decision}, a))
    assert (closed["state"], closed["passed"], closed["policyVersion"]) == ("CLOSED", True, 2)
    assert closed["result"] == {
        "forVotes": 3,
        "against": 1,
        "abstain": 0,
        "byProxy": 1,
        "votes": 4,
    }
    # the equation is policy version 2, in force from the close
    history = one(client, HISTORY, {}, a)
    assert history["inForce"] == 2
    assert [v["version"] for v in history["versions"]] == [1, 2]
    [change] = history["versions"][1]["changes"]
    assert change["path"] == "contributions.equation"
    assert change["value"]["weights"] == {"work/care": "1.5", "work/driving": "1"}
    assert history["versions"][1]["decisionId"] == decision
    # ... and on the bus, where any service reads it with the kernel's model
    changes = eventually(lambda: published_policy_changes(client))
    assert [(p.policy_version, p.decision_id) for p in changes] == [(2, decision)]
    # rides consumed it: its policies name version 2 from the close on (what a fare split
    # computed now would name), and version 1 before
    rides = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
    eventually(lambda: rides.policy_version(e2e_clock.now()) == 2)
    assert rides.policy_version(e2e_clock.now() - WEEK) == 1
    in_force = rides.policies().at(e2e_clock.now()).config.contributions.equation
    assert in_force is not None
    assert in_force.weights["work/care"] == Decimal("1.5")
    # contributions consumed it too (embedded: its consumer on the in-process broker) and
    # adopted the equation as its version 2, which shares computed from now on name
    contributions = client.app.state.runtime.apps["contributions"]  # type: ignore[attr-defined]
    eventually(lambda: len(contributions.equation_versions()) == 2)
    adopted = contributions.equation_in_force(e2e_clock.now())
    assert (adopted.version, adopted.decision_id) == (2, decision)
    assert adopted.equation.weights["work/care"] == Decimal("1.5")


def test_a_members_proposal_reaches_a_vote_through_backing(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    (_, board), members = people(client, 5)
    (_, a), (b_id, b), (_, c), *_ = members
    # the board first raises the backing needed to 40 % of the members (a policy like any other)
    raising = decision_of(
        one(
            client,
            PROPOSE,
            {
                "input": {
                    "title": "Proposals need 40 % backing",
                    "changes": [{"path": "governance.backing_percent", "value": 40}],
                }
            },
            board,
        )
    )
    for _, token in members[:3]:
        vote(client, raising["id"], token, "FOR")
    e2e_clock.advance(WEEK)
    assert decision_of(one(client, CLOSE, {"id": raising["id"]}, board))["passed"] is True
    # a member proposes: 40 % of 6 is 3 backers, the proposer first
    proposed = decision_of(
        one(
            client,
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
            a,
        )
    )
    decision = proposed["id"]
    assert (proposed["state"], proposed["backers"], proposed["backersNeeded"]) == (
        "BACKING",
        1,
        3,
    )
    early = vote(client, decision, b, "FOR")
    assert early["__typename"] == "DecisionNotInState", early
    assert decision_of(one(client, BACK, {"id": decision}, b))["state"] == "BACKING"
    before = store_positions(client)
    again = one(client, BACK, {"id": decision}, b)
    assert again == {
        "__typename": "AlreadyBacked",
        "message": again["message"],
        "decisionId": decision,
        "memberId": b_id,
    }
    assert store_positions(client) == before
    opened = decision_of(one(client, BACK, {"id": decision}, c))
    assert (opened["state"], opened["backers"], opened["electorate"]) == ("OPEN", 3, 6)
    assert vote(client, decision, b, "FOR")["__typename"] == "VoteCast"
    listed = one(client, DECISIONS, {"first": 1}, board)
    assert listed["nodes"] == [{"id": decision, "kind": "policy", "state": "OPEN"}]
    assert listed["pageInfo"]["hasNextPage"] is True
    rest = one(client, DECISIONS, {"first": 5, "after": listed["pageInfo"]["endCursor"]}, board)
    assert [n["id"] for n in rest["nodes"]] == [raising["id"]]


def test_a_driver_is_suspended_and_appeals(client: TestClient) -> None:
    board_id, _ = join(client, "Board")
    board = token_with(client, board_id, "board")
    other_id, _ = join(client, "Other board member")
    other = token_with(client, other_id, "board")
    driver_id, driver = join(client, "Driver")
    suspended = decision_of(one(client, SUSPEND, {"driver": driver_id}, board))
    assert (suspended["kind"], suspended["subjectId"], suspended["reason"]) == (
        "suspension",
        driver_id,
        "safety_report",
    )
    again = one(client, SUSPEND, {"driver": driver_id}, other)
    assert again["__typename"] == "SuspensionProblem", again
    appeal = decision_of(one(client, APPEAL, {}, driver))
    assert (appeal["kind"], appeal["state"], appeal["proposerId"]) == ("appeal", "OPEN", driver_id)
    # the board member who suspended does not review the appeal
    own = one(client, REVIEW, {"driver": driver_id, "outcome": "LIFTED"}, board)
    assert own["__typename"] == "SuspensionProblem", own
    reviewed = decision_of(one(client, REVIEW, {"driver": driver_id, "outcome": "LIFTED"}, other))
    assert (reviewed["state"], reviewed["reason"], reviewed["decidedBy"]) == (
        "CLOSED",
        "lifted",
        other_id,
    )
    # only the board suspends
    refused = one(client, SUSPEND, {"driver": board_id}, driver)
    assert refused["__typename"] == "NotAuthorized"
    entries = one(client, AUDIT, {}, board)["entries"]
    assert {
        "kind": "BOARD_DECISION",
        "operation": "reviewAppeal",
        "outcome": "recorded",
        "actor": other_id,
        "subject": driver_id,
    } in entries


def test_bad_input_is_typed_and_changes_nothing(client: TestClient) -> None:
    (board_id, board), members = people(client, 2)
    (a_id, a), (b_id, b) = members
    desk_id, _ = join(client, "Desk")
    desk = token_with(client, desk_id, "dispatcher")
    decision = decision_of(
        one(
            client,
            PROPOSE,
            {"input": {"title": "t", "changes": [{"path": "rides.fare_base", "value": "3"}]}},
            board,
        )
    )["id"]
    before = store_positions(client)
    bad: list[tuple[str, dict[str, Any], str]] = [
        (PROPOSE, {"input": {"title": "t", "changes": [{"path": "rides.split", "value": {}}]}}, a),
        (PROPOSE, {"input": {"title": "t", "changes": [{"path": "id", "value": "x"}]}}, board),
        (PROPOSE, {"input": {"title": "t", "changes": []}}, board),
        (VOTE, {"id": "not-a-uuid", "choice": "FOR"}, a),
        (VOTE, {"id": decision, "choice": "FOR", "for": b_id}, a),  # no proxy from B
        (GIVE_PROXY, {"to": a_id}, a),  # to oneself
        (GIVE_PROXY, {"to": "nobody"}, a),
        (GIVE_PROXY, {"to": b_id, "for": a_id}, b),  # for another, without the desk's role
        (GIVE_PROXY, {"to": b_id, "for": a_id}, desk),  # the desk, without A's consent
    ]
    answers = [
        one(client, query, variables, token)["__typename"] for query, variables, token in bad
    ]
    assert answers == [
        "InvalidInput",
        "InvalidInput",
        "InvalidInput",
        "InvalidInput",
        "NoProxy",
        "InvalidInput",
        "InvalidInput",
        "NotAuthorized",
        "NoConsent",
    ]
    assert store_positions(client) == before
    # with A's consent recorded, the desk records A's proxy, and B votes for A
    consent = gql(
        client,
        'mutation($m: String) { giveConsent(memberId: $m, channel: PHONE, statement: "yes") '
        "{ __typename } }",
        {"m": a_id},
        token=desk,
    )["giveConsent"]
    assert consent["__typename"] != "NoConsent", consent
    given = one(client, GIVE_PROXY, {"to": b_id, "for": a_id}, desk)
    assert given["__typename"] == "ProxyChanged", given
    assert vote(client, decision, b, "AGAINST", a_id)["castBy"] == b_id
    entries = one(client, AUDIT, {}, board)["entries"]
    acted = [
        (e["operation"], e["actor"], e["subject"])
        for e in entries
        if e["kind"] == "ACTED_ON_BEHALF"
    ]
    assert ("vote", b_id, a_id) in acted
    assert ("giveProxy", desk_id, a_id) in acted
    assert board_id not in [e["subject"] for e in entries if e["operation"] == "vote"]


def test_a_members_export_holds_their_votes_proxies_and_proposals(client: TestClient) -> None:
    _, members = people(client, 2)
    (a_id, a), (b_id, b) = members
    decision = decision_of(
        one(
            client,
            PROPOSE,
            {"input": {"title": "t", "changes": [{"path": "rides.fare_base", "value": "3"}]}},
            a,
        )
    )["id"]
    one(client, GIVE_PROXY, {"to": b_id}, a)
    vote(client, decision, b, "FOR", a_id)
    exported = gql(client, "{ myData { ... on MemberExport { data } } }", token=a)["myData"]
    section = exported["data"]["decisions"]
    assert [d["id"] for d in section["decisions"]] == [decision]
    assert [(x["memberId"], x["castBy"], x["choice"]) for x in section["ballots"]] == [
        (a_id, b_id, "for")
    ]
    assert [(p["scope"], p["holderId"]) for p in section["proxies"]] == [("standing", b_id)]
    assert section["suspended"] is False
