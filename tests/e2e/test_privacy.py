"""A member's rights over their data, over HTTP: export, erasure by the member or by the board
for them, refusals that change nothing, and the board's audit log without personal data."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from kernel.auth import Identity, mint
from kernel.personal import DISPLAY_NAME
from tests.e2e.conftest import driver, join, store_positions, token_with
from tests.support.graphql import gql, post
from tests.support.privacy import (
    AUDIT_LOG,
    ERASE_ME,
    ERASE_MEMBER,
    ME,
    MY_CREDITS,
    MY_DATA,
    MY_RIDES,
    audit_entries,
    ride_to_the_end,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock
    from services.members.application import Members

pytestmark = pytest.mark.e2e


def members_app(client: TestClient) -> Members:
    app: Members = client.app.state.runtime.apps["members"]  # type: ignore[attr-defined]
    return app


def my_data(client: TestClient, token: str) -> dict[str, Any]:
    answer = gql(client, MY_DATA, token=token)["myData"]
    assert answer["__typename"] == "MemberExport", answer
    data: dict[str, Any] = answer["data"]
    return data


def test_a_member_exports_everything_then_erases_their_data(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    # given a member who rode once, and the driver who drove them
    rider_id, rider = join(client, "Zora Export")
    driver_id, drv = driver(client, "Dario Wheel")
    ride_id = ride_to_the_end(client, e2e_clock, rider, drv)

    # when the rider asks for everything held about them
    data = my_data(client, rider)

    # then it holds their membership, their name, their ride, and their (empty) ledger lines
    assert data["format"] == "muni.member-export/1"
    assert data["memberId"] == rider_id
    assert data["members"]["membership"]["memberId"] == rider_id
    personal = data["members"]["personalData"]
    assert personal[DISPLAY_NAME] == "Zora Export"
    assert personal["email"].startswith("zoraexport.")  # the sign-up's login, from the vault
    account = data["members"]["account"]
    assert (account["roles"], account["logins"]) == (["member"], ["email"])
    assert "argon2" not in json.dumps(data)  # never the password's hash
    assert [r["id"] for r in data["rides"]["asRider"]] == [ride_id]
    assert data["rides"]["asRider"][0]["state"] == "completed"
    assert data["rides"]["asDriver"] is None
    assert data["contributions"]["lines"] == []
    # and the driver's export holds their vehicle, their drive and their credited earnings
    drove = my_data(client, drv)
    assert [r["id"] for r in drove["rides"]["asDriver"]["rides"]] == [ride_id]
    earnings = Decimal(gql(client, MY_CREDITS, token=drv)["myCredits"]["earnings"])
    assert Decimal(drove["contributions"]["totals"]["EUR"]) == earnings

    # the same document downloads as a file
    response = client.get("/me/export", headers={"Authorization": f"Bearer {rider}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == data

    # when the rider erases their data
    erased = gql(client, ERASE_ME, token=rider)["eraseMyData"]
    assert erased["__typename"] == "DataErased", erased
    assert (erased["memberId"], erased["requestedBy"]) == (rider_id, rider_id)
    assert (erased["erasedFields"], erased["alreadyErased"]) == (
        [DISPLAY_NAME, "email", "password_hash"],
        False,
    )

    # then their name is gone, a placeholder answers, and their history stays
    assert gql(client, ME, token=rider)["me"]["displayName"] == "erased"
    after = my_data(client, rider)
    assert after["members"]["personalData"] == {}
    assert after["members"]["membership"]["personalDataErasedBy"] == rider_id
    assert "Zora" not in json.dumps(after)
    assert [r["id"] for r in after["rides"]["asRider"]] == [ride_id]
    rides = gql(client, MY_RIDES, token=rider)["myRides"]["nodes"]
    assert [(r["id"], r["riderId"], r["driverId"]) for r in rides] == [
        (ride_id, rider_id, driver_id)
    ]
    assert Decimal(gql(client, MY_CREDITS, token=drv)["myCredits"]["earnings"]) == earnings

    # and asking again changes nothing
    positions = store_positions(client)
    again = gql(client, ERASE_ME, token=rider)["eraseMyData"]
    assert (again["erasedFields"], again["alreadyErased"]) == ([], True)
    assert store_positions(client) == positions


def test_a_board_member_erases_for_a_member_and_it_is_recorded(client: TestClient) -> None:
    member_id, member = join(client, "Yusuf Asked")
    board_id, _ = join(client, "Emre Board")
    board = token_with(client, board_id, "board")

    erased = gql(client, ERASE_MEMBER, {"id": member_id}, token=board)["eraseMemberData"]

    assert erased["__typename"] == "DataErased", erased
    assert (erased["memberId"], erased["requestedBy"]) == (member_id, board_id)
    assert gql(client, ME, token=member)["me"]["displayName"] == "erased"
    assert my_data(client, member)["members"]["membership"]["personalDataErasedBy"] == board_id
    (erasure,) = [e for e in audit_entries(client, board) if e["kind"] == "ERASED"]
    assert {k: erasure[k] for k in ("operation", "outcome", "actor", "subject")} == {
        "operation": "eraseMemberData",
        "outcome": "erased",
        "actor": board_id,
        "subject": member_id,
    }


def test_a_member_not_on_the_board_cannot_erase_someone_else(client: TestClient) -> None:
    intruder_id, intruder = join(client, "Ivo Intruder")
    target_id, target = join(client, "Tess Target")
    positions = store_positions(client)

    refused = gql(client, ERASE_MEMBER, {"id": target_id}, token=intruder)["eraseMemberData"]

    assert refused["__typename"] == "NotAuthorized", refused
    assert refused["requiredRole"] == "board"
    assert store_positions(client) == positions
    assert gql(client, ME, token=target)["me"]["displayName"] == "Tess Target"
    assert members_app(client).personal.get(target_id, DISPLAY_NAME) == "Tess Target"
    board_id, _ = join(client, "Emre Board")
    entries = audit_entries(client, token_with(client, board_id, "board"))
    assert [
        (e["kind"], e["operation"], e["outcome"], e["actor"], e["subject"]) for e in entries
    ] == [("REFUSED", "eraseMemberData", "NotAuthorized", intruder_id, None)]


@pytest.mark.parametrize(
    ("target", "typename", "field"),
    [
        ("nobody", "InvalidInput", "memberId"),
        ("demo:00000000-0000-4000-8000-00000000dead", "NotFound", None),
        ("ghent:{member}", "NotFound", None),  # a member of this city under another city's name
    ],
)
def test_erasing_a_member_who_is_not_there_is_refused_by_type_and_changes_nothing(
    client: TestClient, target: str, typename: str, field: str | None
) -> None:
    member_id, member = join(client, "Nadia Here")
    board_id, _ = join(client, "Emre Board")
    board = token_with(client, board_id, "board")
    positions = store_positions(client)
    target = target.format(member=member_id.split(":")[1])

    answer = gql(client, ERASE_MEMBER, {"id": target}, token=board)["eraseMemberData"]

    assert answer["__typename"] == typename, answer
    assert answer.get("field") == field
    assert store_positions(client) == positions
    assert gql(client, ME, token=member)["me"]["displayName"] == "Nadia Here"


def test_the_audit_log_shows_a_refusal_and_a_sign_in_failure_without_personal_data(
    client: TestClient,
) -> None:
    member_id, member = join(client, "Xanthe Audited")
    board_id, _ = join(client, "Emre Board")
    board = token_with(client, board_id, "board")
    forged = mint(
        Identity(member_id, "demo", frozenset({"member", "board"})),
        SecretStr("not-the-co-op-secret-not-the-co-op-secret"),
    )

    # a member reaches for the board's ledger; someone presents a forged token
    refused = gql(client, "{ trialBalance { __typename } }", token=member)["trialBalance"]
    assert refused["__typename"] == "NotAuthorized"
    failed = gql(client, ME, token=forged)["me"]
    assert failed["__typename"] == "NotAuthenticated"
    # and a member may not read the audit log either
    assert gql(client, AUDIT_LOG, token=member)["auditLog"]["__typename"] == "NotAuthorized"

    body = post(client, AUDIT_LOG, {"first": 10}, token=board)
    entries = body["data"]["auditLog"]["entries"]
    assert [(e["kind"], e["operation"], e["outcome"], e["actor"]) for e in entries] == [
        ("REFUSED", "auditLog", "NotAuthorized", member_id),
        ("SIGN_IN_FAILED", "me", "NotAuthenticated", None),  # a forged token's claims: unknown
        ("REFUSED", "trialBalance", "NotAuthorized", member_id),
    ]
    text = json.dumps(body)
    for secret in ("Xanthe", "Audited", "Emre", forged, forged.split(".")[2]):
        assert secret not in text


def test_the_audit_log_pages_and_refuses_bad_paging_by_name(client: TestClient) -> None:
    _, member = join(client, "Paula Pager")
    for _ in range(5):
        gql(client, "{ parkedMessages { __typename } }", token=member)
    board_id, _ = join(client, "Emre Board")
    board = token_with(client, board_id, "board")

    first = gql(client, AUDIT_LOG, {"first": 2}, token=board)["auditLog"]
    second = gql(client, AUDIT_LOG, {"first": 2, "after": first["endCursor"]}, token=board)[
        "auditLog"
    ]
    rest = gql(client, AUDIT_LOG, {"first": 2, "after": second["endCursor"]}, token=board)[
        "auditLog"
    ]
    seqs = [e["seq"] for page in (first, second, rest) for e in page["entries"]]
    assert len(seqs) == 5 == len(set(seqs))
    assert seqs == sorted(seqs, reverse=True)
    assert (first["hasMore"], second["hasMore"], rest["hasMore"]) == (True, True, False)
    for variables, field in (({"first": 0}, "first"), ({"first": 101}, "first")):
        bad = gql(client, AUDIT_LOG, variables, token=board)["auditLog"]
        assert (bad["__typename"], bad["field"]) == ("InvalidInput", field)
    bad = gql(client, AUDIT_LOG, {"after": "page two"}, token=board)["auditLog"]
    assert (bad["__typename"], bad["field"]) == ("InvalidInput", "after")


def test_the_export_route_refuses_without_a_valid_token(client: TestClient) -> None:
    member_id, _ = join(client, "Olga Nobody")
    forged = mint(Identity(member_id, "demo", frozenset({"member"})), SecretStr("x" * 40))

    for headers in ({}, {"Authorization": f"Bearer {forged}"}):
        response = client.get("/me/export", headers=headers)
        assert response.status_code == 401
        assert response.json()["__typename"] == "NotAuthenticated"
        assert "Olga" not in response.text
    board_id, _ = join(client, "Emre Board")
    kinds = [
        (e["kind"], e["operation"])
        for e in audit_entries(client, token_with(client, board_id, "board"))
    ]
    assert kinds == [("SIGN_IN_FAILED", "myData"), ("REFUSED", "myData")]


def test_after_an_erasure_the_email_leads_nowhere_and_may_join_again(client: TestClient) -> None:
    from tests.support.accounts import (
        FIND_MEMBER,
        ISSUE_CODE,
        PASSWORD,
        REFRESH,
        SIGN_IN,
        SIGN_IN_WITH_CODE,
        sign_up,
        unique_email,
    )

    email = unique_email("Rosa")
    rosa = sign_up(client, "Rosa", email=email)
    desk_id, _ = join(client, "Dina Desk")
    desk = token_with(client, desk_id, "dispatcher")
    early_code = gql(client, ISSUE_CODE, {"member": rosa["memberId"]}, token=desk)
    code = early_code["issueSignInCode"]["code"]

    assert gql(client, ERASE_ME, token=rosa["accessToken"])["eraseMyData"]["__typename"] == (
        "DataErased"
    )

    # her email and password reach nobody, her session and the code she was given are dead
    signed = gql(client, SIGN_IN, {"login": email, "password": PASSWORD})["signIn"]
    assert signed["__typename"] == "InvalidCredentials", signed
    assert gql(client, REFRESH, {"token": rosa["refreshToken"]})["refreshToken"]["__typename"] == (
        "SessionEnded"
    )
    with_code = gql(client, SIGN_IN_WITH_CODE, {"code": code})["signInWithCode"]
    assert with_code["__typename"] == "InvalidCredentials", with_code
    # the desk cannot find her by it, nor hand her a new code
    found = gql(client, FIND_MEMBER, {"login": email}, token=desk)["findMember"]
    assert found["__typename"] != "MemberRef", found
    refused = gql(client, ISSUE_CODE, {"member": rosa["memberId"]}, token=desk)
    assert refused["issueSignInCode"]["__typename"] == "UnknownMember", refused
    # erasing again changes nothing and says so
    again = gql(
        client,
        ERASE_MEMBER,
        {"id": rosa["memberId"]},
        token=token_with(client, join(client, "Emre Board")[0], "board"),
    )["eraseMemberData"]
    assert again["__typename"] == "DataErased", again

    # the same email may join again: a new member, who signs in with it
    back = sign_up(client, "Rosa again", email=email)
    assert back["memberId"] != rosa["memberId"]
    signed = gql(client, SIGN_IN, {"login": email, "password": PASSWORD})["signIn"]
    assert (signed["__typename"], signed["memberId"]) == ("SignedIn", back["memberId"])
