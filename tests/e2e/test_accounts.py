"""Accounts over HTTP: signing up and in by email and by phone, a dispatcher helping a member who
phoned (a code, consent, a booking), the board granting the driver role; and bad input getting a
typed answer that changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from gateway.app import create_app
from kernel.auth import Identity, mint
from tests.e2e.conftest import (
    DROPOFF,
    ON_DUTY,
    PICKUP,
    REGISTER,
    SETTINGS,
    driver,
    join,
    past_clock,
    request_ride,
    store_positions,
    token_with,
)
from tests.support.accounts import (
    FIND_MEMBER,
    GIVE_CONSENT,
    GRANT_ROLE,
    ISSUE_CODE,
    MY_ACCOUNT,
    PASSWORD,
    REFRESH,
    SIGN_IN,
    SIGN_IN_WITH_CODE,
    SIGN_OUT,
    SIGN_OUT_EVERYWHERE,
    SIGN_UP,
    WITHDRAW_CONSENT,
    board_of,
    grant,
    refreshed,
    sign_up,
    unique_email,
)
from tests.support.graphql import gql
from tests.support.privacy import audit_entries

ROLE_REQUESTS = """{ roleRequests { __typename
  ... on RoleRequestConnection { nodes { memberId role requestedAt } } } }"""

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

MY_RIDES = "{ myRides { __typename ... on RideConnection { nodes { id riderId bookedBy } } } }"
BOOK_FOR = """
mutation Book($input: RequestRideInput!) {
  requestRide(input: $input) {
    __typename
    ... on Problem { message }
    ... on NoConsent { memberId }
    ... on UnknownMember { memberId }
    ... on RideChanged { ride { id riderId bookedBy } }
  }
}"""


def _one(client: TestClient, query: str, variables: dict[str, Any], token: str | None = None):
    return next(iter(gql(client, query, variables, token=token).values()))


def _signing_key(client: TestClient) -> SecretStr:
    return client.app.state.runtime.settings.signing_key  # type: ignore[attr-defined, no-any-return]


# -- happy paths --------------------------------------------------------------------------------
def test_a_member_signs_up_and_signs_in_by_email(client: TestClient) -> None:
    email = unique_email("Ada")
    signed = sign_up(client, "Ada", email=email)
    assert (signed["city"], signed["roles"]) == ("demo", ["member"])

    again = _one(client, SIGN_IN, {"login": email.upper(), "password": PASSWORD})

    assert (again["__typename"], again["memberId"]) == ("SignedIn", signed["memberId"])
    account = _one(client, MY_ACCOUNT, {}, again["accessToken"])
    assert (account["memberId"], account["loginKinds"]) == (signed["memberId"], ["email"])


def test_a_member_signs_up_by_landline_and_signs_in_with_the_full_number(
    client: TestClient,
) -> None:
    signed = sign_up(client, "Grandma", phone="09 223 45 67")
    again = _one(client, SIGN_IN, {"login": "+32 9 223 45 67", "password": PASSWORD})
    assert (again["__typename"], again["memberId"]) == ("SignedIn", signed["memberId"])


def test_refreshing_rotates_and_signing_out_everywhere_ends_every_session(
    client: TestClient,
) -> None:
    email = unique_email("Ada")
    phone = sign_up(client, "Ada", email=email)
    laptop = _one(client, SIGN_IN, {"login": email, "password": PASSWORD})
    newer = refreshed(client, phone["refreshToken"])
    assert newer["refreshToken"] != phone["refreshToken"]

    out = _one(client, SIGN_OUT_EVERYWHERE, {}, newer["accessToken"])

    assert (out["__typename"], out["memberId"]) == ("SignedOut", phone["memberId"])
    for token in (newer["refreshToken"], laptop["refreshToken"]):
        ended = _one(client, REFRESH, {"token": token})
        assert (ended["__typename"], ended["reason"]) == ("SessionEnded", "signed out everywhere")


def test_signing_out_ends_this_session_only_and_twice_changes_nothing(
    client: TestClient,
) -> None:
    email = unique_email("Lin")
    library = sign_up(client, "Lin", email=email)  # the library's shared computer
    phone = _one(client, SIGN_IN, {"login": email, "password": PASSWORD})

    out = _one(client, SIGN_OUT, {"token": library["refreshToken"]})
    again = _one(client, SIGN_OUT, {"token": library["refreshToken"]})

    assert (out["__typename"], out["memberId"]) == ("SignedOut", library["memberId"])
    assert again == out
    ended = _one(client, REFRESH, {"token": library["refreshToken"]})
    assert (ended["__typename"], ended["reason"]) == ("SessionEnded", "signed out")
    assert refreshed(client, phone["refreshToken"])["memberId"] == library["memberId"]


def test_signing_out_with_a_forged_token_is_refused_and_ends_nothing(client: TestClient) -> None:
    member = sign_up(client, "Noor")
    session_id, generation, _ = member["refreshToken"].split(".")

    for forged in ("nonsense", f"{session_id}.{generation}.not-the-secret"):
        refused = _one(client, SIGN_OUT, {"token": forged})
        assert refused["__typename"] == "RefreshTokenInvalid", refused

    assert refreshed(client, member["refreshToken"])["memberId"] == member["memberId"]


def test_a_dispatcher_helps_a_member_who_phoned_sign_in_and_books_with_her_consent(
    client: TestClient,
) -> None:
    # given a member with a landline, a dispatcher, a driver on duty
    grandma_id = sign_up(client, "Grandma", phone="09 223 45 67")["memberId"]
    dispatcher_id, _ = join(client, "Dina")
    dispatcher = token_with(client, dispatcher_id, "dispatcher")
    driver(client, "Bram")

    # she phones: the dispatcher finds her by her number and reads her a sign-in code
    found = _one(client, FIND_MEMBER, {"login": "092234567"}, dispatcher)
    assert found == {"__typename": "MemberRef", "memberId": grandma_id}
    issued = _one(client, ISSUE_CODE, {"member": grandma_id}, dispatcher)
    assert issued["__typename"] == "SignInCodeIssued", issued
    # at the library's terminal she types it, in lower case and without the dash
    signed = _one(client, SIGN_IN_WITH_CODE, {"code": issued["code"].lower().replace("-", "")})
    assert (signed["__typename"], signed["memberId"]) == ("SignedIn", grandma_id)

    # she asks for rides to be booked for her: the dispatcher records it, with her words
    consent = _one(
        client,
        GIVE_CONSENT,
        {"member": grandma_id, "channel": "PHONE", "statement": "yes, book for me"},
        dispatcher,
    )
    assert (consent["given"], consent["recordedBy"], consent["channel"]) == (
        True,
        dispatcher_id,
        "phone",
    )
    ride = request_ride(client, dispatcher, onBehalfOf=grandma_id)

    # the ride is hers, and it says who booked it
    assert ride["__typename"] == "RideChanged", ride
    assert (ride["riderId"], ride["bookedBy"]) == (grandma_id, dispatcher_id)
    mine = _one(client, MY_RIDES, {}, signed["accessToken"])["nodes"]
    assert mine == [{"id": ride["id"], "riderId": grandma_id, "bookedBy": dispatcher_id}]

    # and the board's audit log shows each act on her behalf, with ids and codes only
    board_id, _ = join(client, "Emre")
    acts = [
        (e["operation"], e["actor"], e["subject"])
        for e in audit_entries(client, token_with(client, board_id, "board"))
        if e["kind"] == "ACTED_ON_BEHALF"
    ]
    assert sorted(acts) == [
        ("giveConsent", dispatcher_id, grandma_id),
        ("requestRide", dispatcher_id, grandma_id),
    ]


def test_withdrawn_consent_stops_bookings_on_her_behalf(client: TestClient) -> None:
    grandma = sign_up(client, "Grandma")
    dispatcher_id, _ = join(client, "Dina")
    dispatcher = token_with(client, dispatcher_id, "dispatcher")
    _one(client, GIVE_CONSENT, {}, grandma["accessToken"])

    withdrawn = _one(client, WITHDRAW_CONSENT, {}, grandma["accessToken"])
    assert (withdrawn["given"], withdrawn["channel"]) == (False, "app")

    refused = _one(client, *_booking(grandma["memberId"]), dispatcher)
    assert (refused["__typename"], refused["memberId"]) == ("NoConsent", grandma["memberId"])


def test_the_board_grants_the_driver_role_and_the_next_token_carries_it(
    client: TestClient,
) -> None:
    bram = sign_up(client, "Bram")
    registered = _one(client, REGISTER, {"input": {"seats": 4}}, bram["accessToken"])
    assert (registered["__typename"], registered["roleRequested"]) == ("DriverRegistered", True)
    # registering gives no driver token: going on duty is refused until the board grants it
    refused = _one(client, ON_DUTY, {"lat": 51.05, "lon": 3.72}, bram["accessToken"])
    assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "driver")
    asked = _one(client, MY_ACCOUNT, {}, bram["accessToken"])
    assert asked["requestedRoles"] == ["driver"]

    # the board sees the request waiting, then gone once granted
    _, board = board_of(client)
    waiting = gql(client, ROLE_REQUESTS, token=board)["roleRequests"]["nodes"]
    assert [(r["memberId"], r["role"]) for r in waiting] == [(bram["memberId"], "driver")]

    granted = grant(client, bram["memberId"], "driver")
    assert (granted["roles"], granted["requestedRoles"]) == (["driver", "member"], [])
    assert gql(client, ROLE_REQUESTS, token=board)["roleRequests"]["nodes"] == []
    refused = gql(client, ROLE_REQUESTS, token=bram["accessToken"])["roleRequests"]
    assert refused["__typename"] == "NotAuthorized"

    token = refreshed(client, bram["refreshToken"])
    assert token["roles"] == ["driver", "member"]
    duty = _one(client, ON_DUTY, {"lat": 51.05, "lon": 3.72}, token["accessToken"])
    assert (duty["__typename"], duty["driver"]["status"]) == ("DriverChanged", "AVAILABLE"), duty
    # the grant, and a wrong password, are in the board's audit log (ids and codes only)
    wrong = _one(client, SIGN_IN, {"login": "nobody@example.org", "password": "not it at all"})
    assert wrong["__typename"] == "InvalidCredentials"
    board_id, board = board_of(client)
    entries = audit_entries(client, board)
    granted_entries = [e for e in entries if e["kind"] == "ROLE_GRANTED"]
    assert [(e["actor"], e["subject"], e["outcome"]) for e in granted_entries] == [
        (board_id, bram["memberId"], "driver")
    ]
    assert any(e["kind"] == "SIGN_IN_FAILED" and e["operation"] == "signIn" for e in entries)
    assert "nobody@example.org" not in str(entries)


# -- bad input: a typed answer, and nothing changed ---------------------------------------------
@dataclass
class World:
    rider_email: str
    rider: dict[str, Any]
    board_id: str
    board: str
    forged_board: str  # the rider's id, a board role in the token, none on the record
    dispatcher: str
    plain: str
    grandma_id: str
    expired_code: str
    used_code: str
    old_refresh: str
    other_city_member: str


@pytest.fixture(scope="module")
def module_clock() -> FixedClock:
    return past_clock()


@pytest.fixture(scope="module")
def module_client(module_clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=module_clock)) as client:
        yield client


@pytest.fixture(scope="module")
def world(module_client: TestClient, module_clock: FixedClock) -> World:
    client = module_client
    email = unique_email("Ada")
    rider = sign_up(client, "Ada", email=email)
    board_id, board = board_of(client)
    dispatcher_id, plain = join(client, "Dina")
    dispatcher = token_with(client, dispatcher_id, "dispatcher")
    grandma_id, _ = join(client, "Grandma")
    expired = _one(client, ISSUE_CODE, {"member": grandma_id}, dispatcher)["code"]
    module_clock.advance(timedelta(hours=25))
    used = _one(client, ISSUE_CODE, {"member": grandma_id}, dispatcher)["code"]
    assert _one(client, SIGN_IN_WITH_CODE, {"code": used})["__typename"] == "SignedIn"
    signed = sign_up(client, "Ada again")
    refreshed(client, signed["refreshToken"])
    _, plain = join(client, "Dries")
    return World(
        rider_email=email,
        rider=rider,
        board_id=board_id,
        board=board,
        forged_board=mint(
            Identity(rider["memberId"], "demo", frozenset({"member", "board"})),
            _signing_key(client),
        ),
        dispatcher=dispatcher,
        plain=plain,
        grandma_id=grandma_id,
        expired_code=expired,
        used_code=used,
        old_refresh=signed["refreshToken"],
        other_city_member=f"ghent:{uuid.uuid4()}",
    )


# Each case: (query, variables, token) from the world; the expected typename; checks.
CASES: dict[str, Any] = {
    "a wrong password": (
        lambda w: (SIGN_IN, {"login": w.rider_email, "password": "not my password"}, None),
        "InvalidCredentials",
        {"message": "the login, password or code is not right"},
    ),
    "an unknown login": (
        lambda w: (SIGN_IN, {"login": "nobody@example.org", "password": PASSWORD}, None),
        "InvalidCredentials",
        {},
    ),
    "an expired code": (
        lambda w: (SIGN_IN_WITH_CODE, {"code": w.expired_code}, None),
        "CodeExpired",
        {"contains": "expired at", "has": "expiredAt"},
    ),
    "a used code": (
        lambda w: (SIGN_IN_WITH_CODE, {"code": w.used_code}, None),
        "CodeAlreadyUsed",
        {"has": "usedAt"},
    ),
    "a wrong code": (
        lambda w: (SIGN_IN_WITH_CODE, {"code": "ZZZZZ-ZZZZZ"}, None),
        "InvalidCredentials",
        {},
    ),
    "a refresh token never issued": (
        lambda w: (REFRESH, {"token": f"{uuid.uuid4().hex}.0.x"}, None),
        "RefreshTokenInvalid",
        {},
    ),
    "a taken email": (
        lambda w: (
            SIGN_UP,
            {"input": {"displayName": "Ada", "password": PASSWORD, "email": w.rider_email}},
            None,
        ),
        "LoginTaken",
        {"kind": "email"},
    ),
    "a short password": (
        lambda w: (
            SIGN_UP,
            {"input": {"displayName": "Ada", "password": "short", "email": "new@example.org"}},
            None,
        ),
        "InvalidInput",
        {"field": "password"},
    ),
    "consent for a member who does not exist": (
        lambda w: (GIVE_CONSENT, {"member": f"demo:{uuid.uuid4()}"}, w.dispatcher),
        "UnknownMember",
        {"contains": "no member"},
    ),
    "consent recorded for another member by a plain member": (
        lambda w: (GIVE_CONSENT, {"member": w.grandma_id}, w.plain),
        "NotAuthorized",
        {"requiredRole": "dispatcher"},
    ),
    "withdrawing consent never given": (
        lambda w: (WITHDRAW_CONSENT, {"member": w.grandma_id}, w.dispatcher),
        "NoConsent",
        {},
    ),
    "booking for a member who has not consented": (
        lambda w: (*_booking(w.grandma_id), w.dispatcher),
        "NoConsent",
        {},
    ),
    "booking for a member who does not exist": (
        lambda w: (*_booking(f"demo:{uuid.uuid4()}"), w.dispatcher),
        "UnknownMember",
        {},
    ),
    "booking for another city's member": (
        lambda w: (*_booking(w.other_city_member), w.dispatcher),
        "UnknownMember",
        {"contains": "in this city"},
    ),
    "a code for a member who does not exist": (
        lambda w: (ISSUE_CODE, {"member": f"demo:{uuid.uuid4()}"}, w.dispatcher),
        "UnknownMember",
        {},
    ),
    "a code issued by a plain member": (
        lambda w: (ISSUE_CODE, {"member": w.grandma_id}, w.plain),
        "NotAuthorized",
        {},
    ),
    "a grant by a plain member": (
        lambda w: (
            GRANT_ROLE,
            {"member": w.grandma_id, "role": "DRIVER", "reason": "she asked"},
            w.plain,
        ),
        "NotAuthorized",
        {"requiredRole": "board"},
    ),
    "a grant by a board token the record does not bear out": (
        lambda w: (
            GRANT_ROLE,
            {"member": w.grandma_id, "role": "BOARD", "reason": "coup"},
            w.forged_board,
        ),
        "NotAuthorized",
        {"contains": "record does not show"},
    ),
    "a grant to oneself": (
        lambda w: (
            GRANT_ROLE,
            {"member": w.board_id, "role": "DISPATCHER", "reason": "me"},
            w.board,
        ),
        "OwnRole",
        {"role": "dispatcher"},
    ),
}


def _booking(member: str) -> tuple[str, dict[str, Any]]:
    return BOOK_FOR, {"input": {"pickup": PICKUP, "dropoff": DROPOFF, "onBehalfOf": member}}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_account_input_gets_a_typed_problem_and_changes_nothing(
    case: str, module_client: TestClient, world: World
) -> None:
    client = module_client
    make, typename, expect = CASES[case]
    query, variables, token = make(world)
    before = store_positions(client)

    result = _one(client, query, variables, token)

    assert result["__typename"] == typename, result
    for key, value in expect.items():
        if key == "contains":
            assert value in result["message"], result
        elif key == "has":
            assert result[value], result
        else:
            assert result[key] == value, result
    assert store_positions(client) == before


def test_a_reused_refresh_token_is_refused_and_records_only_the_revocation(
    module_client: TestClient, world: World
) -> None:
    client = module_client
    before = store_positions(client)

    reused = _one(client, REFRESH, {"token": world.old_refresh})

    assert reused["__typename"] == "RefreshTokenReused"
    assert "already used" in reused["message"]
    after = store_positions(client)
    # The revocation is the one thing the refusal records: it is what stops the copy.
    assert after["members"] == (before["members"] or 0) + 1
    assert {k: v for k, v in after.items() if k != "members"} == {
        k: v for k, v in before.items() if k != "members"
    }
    again = _one(client, REFRESH, {"token": world.old_refresh})
    assert again["__typename"] == "RefreshTokenReused"
    assert store_positions(client) == after


# -- tokens from outside ------------------------------------------------------------------------
def test_a_token_for_another_city_is_refused(client: TestClient) -> None:
    elsewhere = Identity(f"ghent:{uuid.uuid4()}", "ghent", frozenset({"member", "board"}))
    token = mint(elsewhere, _signing_key(client))
    result = _one(client, MY_ACCOUNT, {}, token)
    assert result["__typename"] == "NotAuthenticated"
    assert result["message"] == "this token was issued for city 'ghent'; this is 'demo'"


def test_a_token_forged_with_the_old_default_key_reads_nothing(client: TestClient) -> None:
    # The key printed in kernel/config.py before there were per-folder keys.
    old_default = SecretStr("muni-dev-secret-change-me-in-production-0123456789")
    board_id, _ = join(client, "Emre")
    forged = mint(Identity(board_id, "demo", frozenset({"member", "board"})), old_default)
    result = _one(client, "{ trialBalance { __typename ... on Problem { message } } }", {}, forged)
    assert result == {
        "__typename": "NotAuthenticated",
        "message": "token signature does not verify",
    }


def test_a_malformed_token_gets_a_plain_answer(client: TestClient) -> None:
    for token in ("not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"):
        result = _one(client, MY_ACCOUNT, {}, token)
        assert result == {"__typename": "NotAuthenticated", "message": "token is malformed"}
