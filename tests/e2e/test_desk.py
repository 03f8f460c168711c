"""The dispatcher's desk over GraphQL: find the member who phoned, see and record their consent,
book for them, and see every ride in progress and every driver on duty (the list and the map).
Refusals are typed and change nothing."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import (
    ACCEPT,
    DRIVER_AT,
    DROP_OFF,
    DROPOFF,
    PICK_UP,
    PICKUP,
    PROBLEM,
    RIDE_PROBLEM,
    driver,
    join,
    request_ride,
    ride_command,
    run_batch,
    store_positions,
    token_with,
)
from tests.support.accounts import FIND_MEMBER, GIVE_CONSENT, WITHDRAW_CONSENT, unique_email
from tests.support.accounts import sign_up as sign_up_with
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

MEMBER_CONSENT = """
query Consent($member: String) {
  memberConsent(memberId: $member) {
    __typename ... on Problem { message }
    ... on Consent { memberId given recordedBy channel }
    ... on NotAuthorized { requiredRole }
    ... on UnknownMember { memberId }
    ... on NoConsent { memberId }
  }
}"""
IN_PROGRESS = f"""
query InProgress($first: Int, $after: String, $seen: String) {{
  ridesInProgress(first: $first, after: $after, seen: $seen) {{
    {RIDE_PROBLEM}
    ... on RideConnection {{
      asOf pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id state riderId bookedBy driverId pickup {{ lat lon }} dropoff {{ lat lon }}
        driver {{ memberId vehicle position {{ lat lon }} }}
      }}
    }}
  }}
}}"""
BOOK_FOR = f"""
mutation Book($input: RequestRideInput!) {{
  requestRide(input: $input) {{
    {RIDE_PROBLEM}
    ... on NoConsent {{ memberId }}
    ... on UnknownMember {{ memberId }}
    ... on RideChanged {{ position ride {{ id state riderId bookedBy }} }}
  }}
}}"""
ON_DUTY = f"""
query OnDuty($first: Int, $after: String, $seen: String, $within: AreaInput) {{
  driversOnDuty(first: $first, after: $after, seen: $seen, within: $within) {{
    {RIDE_PROBLEM}
    ... on DriverConnection {{
      asOf pageInfo {{ hasNextPage endCursor }}
      nodes {{ memberId status vehicle position {{ lat lon }} currentRideId }}
    }}
  }}
}}"""


def answer(client: TestClient, query: str, token: str | None, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = next(iter(gql(client, query, variables, token=token).values()))
    return found


def test_the_desk_finds_a_member_records_consent_sees_it_and_books(client: TestClient) -> None:
    email = unique_email("Grandma")
    grandma_id = sign_up_with(client, "Grandma", email=email)["memberId"]
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")
    driver(client, "Bram")

    found = answer(client, FIND_MEMBER, desk, login=email)
    assert found == {"__typename": "MemberRef", "memberId": grandma_id}
    before = answer(client, MEMBER_CONSENT, desk, member=grandma_id)
    assert (before["__typename"], before["memberId"]) == ("NoConsent", grandma_id)
    booking = {"input": {"pickup": PICKUP, "dropoff": DROPOFF, "onBehalfOf": grandma_id}}
    refused = answer(client, BOOK_FOR, desk, **booking)
    assert (refused["__typename"], refused["memberId"]) == ("NoConsent", grandma_id)

    given = answer(client, GIVE_CONSENT, desk, member=grandma_id, statement="yes, when I call")
    assert given["__typename"] == "Consent", given
    seen = answer(client, MEMBER_CONSENT, desk, member=grandma_id)
    assert seen == {
        "__typename": "Consent",
        "memberId": grandma_id,
        "given": True,
        "recordedBy": dispatcher_id,
        "channel": "phone",
    }
    ride = request_ride(client, desk, onBehalfOf=grandma_id)
    assert (ride["__typename"], ride["riderId"], ride["bookedBy"]) == (
        "RideChanged",
        grandma_id,
        dispatcher_id,
    )

    answer(client, WITHDRAW_CONSENT, desk, member=grandma_id)
    withdrawn = answer(client, MEMBER_CONSENT, desk, member=grandma_id)
    assert (withdrawn["__typename"], withdrawn["given"]) == ("Consent", False)


def test_a_member_reads_their_own_consent_but_not_anothers(client: TestClient) -> None:
    other_id, _ = join(client, "Grandma")
    _, member = join(client, "Ada")

    own = answer(client, MEMBER_CONSENT, member)
    assert own["__typename"] == "NoConsent"
    refused = answer(client, MEMBER_CONSENT, member, member=other_id)
    assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "dispatcher")


def test_consent_of_nobody_is_an_unknown_member(client: TestClient) -> None:
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")

    for nobody in ("demo:00000000-0000-4000-8000-000000000000", "not an id"):
        found = answer(client, MEMBER_CONSENT, desk, member=nobody)
        assert (found["__typename"], found["memberId"]) == ("UnknownMember", nobody)


def test_the_desk_sees_every_ride_in_progress_with_positions(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    bram_id, bram = driver(client, "Bram")
    _, ada = join(client, "Ada")
    _, chloe = join(client, "Chloe")
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")

    offered = request_ride(client, ada)  # offered to Bram, the one driver
    e2e_clock.advance(timedelta(seconds=10))  # within the offer's 30 s: Ada's offer holds
    waiting = request_ride(client, chloe)  # nobody left to offer it to
    assert (offered["state"], waiting["state"]) == ("OFFERED", "WAITING")

    page = answer(client, IN_PROGRESS, desk, seen=waiting["position"])
    assert page["__typename"] == "RideConnection", page
    assert [(r["id"], r["state"]) for r in page["nodes"]] == [
        (offered["id"], "OFFERED"),
        (waiting["id"], "WAITING"),
    ]
    first = page["nodes"][0]
    assert first["pickup"] == PICKUP
    assert first["driver"]["memberId"] == bram_id
    assert first["driver"]["position"] == DRIVER_AT
    assert page["nodes"][1]["driver"] is None

    # Paged: one at a time, oldest request first, never repeating.
    one = answer(client, IN_PROGRESS, desk, first=1)
    assert one["pageInfo"]["hasNextPage"] is True
    two = answer(client, IN_PROGRESS, desk, first=1, after=one["pageInfo"]["endCursor"])
    assert [r["id"] for r in one["nodes"] + two["nodes"]] == [offered["id"], waiting["id"]]
    assert two["pageInfo"]["hasNextPage"] is False

    # A completed ride leaves the list; the waiting one is then offered to Bram.
    for command in (ACCEPT, PICK_UP, DROP_OFF):
        done = ride_command(client, command, offered["id"], bram)
    assert done["state"] == "COMPLETED"
    after = answer(client, IN_PROGRESS, desk, seen=done["position"])
    assert [r["id"] for r in after["nodes"]] == [waiting["id"]]
    run_batch(client)  # the next batch window
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = answer(client, IN_PROGRESS, desk)
        if [(r["id"], r["state"]) for r in after["nodes"]] == [(waiting["id"], "OFFERED")]:
            break
        time.sleep(0.05)
    assert [(r["id"], r["state"]) for r in after["nodes"]] == [(waiting["id"], "OFFERED")]


def test_the_desk_sees_every_driver_on_duty_on_the_map(client: TestClient) -> None:
    near_id, _ = driver(client, "Bram", at={"lat": 51.05, "lon": 3.72})
    far_id, _ = driver(client, "Chloe", at={"lat": 50.85, "lon": 4.35})
    _, off = driver(client, "Emre", at={"lat": 51.06, "lon": 3.70})
    gql(client, "mutation { goOffDuty { __typename } }", token=off)
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")

    everyone = answer(client, ON_DUTY, desk)
    assert everyone["__typename"] == "DriverConnection", everyone
    by_member = {d["memberId"]: d for d in everyone["nodes"]}
    assert set(by_member) == {near_id, far_id}
    assert by_member[near_id]["status"] == "AVAILABLE"
    assert by_member[far_id]["position"] == {"lat": 50.85, "lon": 4.35}

    ghent = {"south": 51.0, "west": 3.6, "north": 51.1, "east": 3.8}
    in_ghent = answer(client, ON_DUTY, desk, within=ghent)
    assert [d["memberId"] for d in in_ghent["nodes"]] == [near_id]

    one = answer(client, ON_DUTY, desk, first=1)
    rest = answer(client, ON_DUTY, desk, first=1, after=one["pageInfo"]["endCursor"])
    assert {d["memberId"] for d in one["nodes"] + rest["nodes"]} == {near_id, far_id}
    assert (one["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)


def test_bad_desk_arguments_are_typed_and_change_nothing(client: TestClient) -> None:
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")
    before = store_positions(client)

    cases: list[tuple[str, dict[str, Any], str]] = [
        (IN_PROGRESS, {"first": 0}, "first"),
        (IN_PROGRESS, {"first": 101}, "first"),
        (IN_PROGRESS, {"after": "not-a-cursor"}, "after"),
        (IN_PROGRESS, {"seen": "members@3"}, "seen"),
        (ON_DUTY, {"first": 500}, "first"),
        (ON_DUTY, {"within": {"south": 52, "west": 3, "north": 51, "east": 4}}, "within"),
        (ON_DUTY, {"within": {"south": 51, "west": 170, "north": 52, "east": -170}}, "within"),
    ]
    for query, variables, field in cases:
        found = answer(client, query, desk, **variables)
        assert (found["__typename"], found["field"]) == ("InvalidInput", field), variables
    assert store_positions(client) == before


@pytest.mark.parametrize("query", [IN_PROGRESS, ON_DUTY])
def test_the_desk_lists_need_the_dispatcher_role(client: TestClient, query: str) -> None:
    member_id, member = join(client, "Ada")
    board = token_with(client, member_id, "board")

    for token in (member, board):
        refused = answer(client, query, token)
        assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "dispatcher")
    anonymous = answer(client, query, None)
    assert anonymous["__typename"] == "NotAuthenticated"
    assert PROBLEM  # the shared spreads are the conftest's


ASSIGN = f"""
mutation Assign($ride: ID!, $driver: String!, $reason: String!) {{
  assignRide(rideId: $ride, driverId: $driver, reason: $reason) {{
    {RIDE_PROBLEM} ... on RideChanged {{ position ride {{ id state driverId offerReason }} }}
  }}
}}"""


def _assign(client: TestClient, token: str, ride: str, driver_id: str, reason: str) -> Any:
    answer = gql(client, ASSIGN, {"ride": ride, "driver": driver_id, "reason": reason}, token=token)
    return answer["assignRide"]


def test_the_desk_gives_an_offered_ride_to_another_driver_by_hand(client: TestClient) -> None:
    bram_id, bram = driver(client, "Bram")
    cleo_id, cleo = driver(client, "Cleo", at={"lat": 51.06, "lon": 3.73})
    _, ada = join(client, "Ada")
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")
    offered = request_ride(client, ada)  # the batch offers it to Bram, the nearer driver
    assert (offered["state"], offered["driverId"]) == ("OFFERED", bram_id)

    moved = _assign(client, desk, offered["id"], cleo_id, "Ada asked for Cleo: she speaks Arabic")

    assert moved["__typename"] == "RideChanged", moved
    ride = moved["ride"]
    assert (ride["state"], ride["driverId"]) == ("OFFERED", cleo_id)
    assert ride["offerReason"].startswith("a dispatcher chose you for this ride")
    # Bram is free again, with no mark against him; Cleo may accept it
    taken = ride_command(client, ACCEPT, offered["id"], bram)
    assert taken["__typename"] == "NotYourRide", taken
    accepted = ride_command(client, ACCEPT, offered["id"], cleo)
    assert (accepted["state"], accepted["driverId"]) == ("ACCEPTED", cleo_id)
    # the reason is kept, in the dispatcher's vault, not in any event
    rides = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
    found = rides.reason("assign", rides_uuid(offered["id"]), by=[dispatcher_id])
    assert found == "Ada asked for Cleo: she speaks Arabic"
    assert b"speaks Arabic" not in b"".join(
        n.state for n in rides.recorder.select_notifications(start=1, limit=10_000)
    )


def rides_uuid(ride_id: str) -> Any:
    from uuid import UUID

    return UUID(ride_id)


def test_assigning_by_hand_is_refused_by_name_and_changes_nothing(client: TestClient) -> None:
    bram_id, _ = driver(client, "Bram")
    small_id, _ = driver(client, "Sam", seats=1, wheelchair=False, at={"lat": 51.06, "lon": 3.73})
    _, ada = join(client, "Ada")
    rider_id, _ = join(client, "Rita")
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")
    offered = request_ride(client, ada, seats=2)
    assert (offered["state"], offered["driverId"]) == ("OFFERED", bram_id)

    cases = [
        (offered["id"], small_id, "fits", ("InvalidInput", "driverId")),  # 1 seat for 2
        (offered["id"], bram_id, "again", ("RideNotInState", None)),  # offered to him already
        (offered["id"], rider_id, "not a driver", ("DriverNotRegistered", None)),
        (offered["id"], "not-a-member-id", "bad id", ("InvalidInput", "driverId")),
        (offered["id"], small_id, "  ", ("InvalidInput", "reason")),
        ("00000000-0000-4000-8000-000000000000", small_id, "no ride", ("RideNotFound", None)),
    ]
    for ride, target, reason, (kind, field) in cases:
        refused = _assign(client, desk, ride, target, reason)
        assert refused["__typename"] == kind, (reason, refused)
        if field is not None:
            assert refused["field"] == field, refused
    still = request_ride(client, ada, batch=False)  # any read: the first ride is untouched
    assert still["__typename"] == "RideChanged"
    page = answer(client, IN_PROGRESS, desk, seen=still["position"])
    first = next(r for r in page["nodes"] if r["id"] == offered["id"])
    assert (first["state"], first["driver"]["memberId"]) == ("OFFERED", bram_id)

    # a member who is not a dispatcher may not
    refused = _assign(client, ada, offered["id"], small_id, "I want him")
    assert refused["__typename"] == "NotAuthorized", refused
