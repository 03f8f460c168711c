"""The desk acts for a member who phoned (actForMember): with their consent, a short-lived token
holding their membership alone; what the member can do in the app, the desk does for them,
every act in the audit log naming both; the member's own acts are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import driver, join, request_ride, token_with
from tests.support.accounts import GIVE_CONSENT, board_of
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME, audit_entries

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.e2e

ACT = """mutation Act($member: String!) { actForMember(memberId: $member) {
  __typename ... on Problem { message } ... on NotAuthorized { requiredRole }
  ... on ActingFor { memberId accessToken accessTokenExpiresAt } } }"""
ME = "{ me { __typename ... on Member { id displayName } } }"
ON_DUTY = """mutation { goOnDuty(position: {lat: 51.05, lon: 3.72}) {
  __typename ... on NotAuthorized { requiredRole } } }"""


def _act(client: TestClient, desk: str, member: str) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, ACT, {"member": member}, token=desk)["actForMember"]
    return answer


def _desk(client: TestClient) -> tuple[str, str]:
    dispatcher_id, _ = join(client, "Dina Desk")
    return dispatcher_id, token_with(client, dispatcher_id, "dispatcher")


def test_without_consent_the_desk_cannot_act_for_a_member(client: TestClient) -> None:
    grandma_id, _ = join(client, "Grandma")
    _, desk = _desk(client)
    _, member = join(client, "Not a dispatcher")

    refused = _act(client, desk, grandma_id)
    not_desk = _act(client, member, grandma_id)
    nobody = _act(client, desk, "demo:00000000-0000-4000-8000-00000000dead")

    assert refused["__typename"] == "NoConsent", refused
    assert (not_desk["__typename"], not_desk["requiredRole"]) == ("NotAuthorized", "dispatcher")
    assert nobody["__typename"] == "UnknownMember", nobody


def test_with_consent_the_desk_does_for_her_what_she_could_and_it_is_audited(
    client: TestClient,
) -> None:
    grandma_id, _ = join(client, "Grandma")
    dispatcher_id, desk = _desk(client)
    driver(client, "Bram")
    given = gql(client, GIVE_CONSENT, {"member": grandma_id, "statement": "yes"}, token=desk)
    assert given["giveConsent"]["__typename"] == "Consent", given

    acting = _act(client, desk, grandma_id)
    assert acting["__typename"] == "ActingFor", acting
    token = acting["accessToken"]

    assert gql(client, ME, token=token)["me"]["id"] == grandma_id
    ride = request_ride(client, token)  # as if she had asked in the app herself
    assert (ride["__typename"], ride["riderId"], ride["bookedBy"]) == (
        "RideChanged",
        grandma_id,
        dispatcher_id,  # booked with the delegated token: by the desk, for her
    )
    _, board = board_of(client)
    acts = [
        (e["operation"], e["actor"], e["subject"])
        for e in audit_entries(client, board)
        if e["kind"] == "ACTED_ON_BEHALF"
    ]
    assert ("actForMember", dispatcher_id, grandma_id) in acts
    assert ("requestRide", dispatcher_id, grandma_id) in acts


def test_her_own_acts_and_her_other_roles_stay_hers(client: TestClient) -> None:
    bram_id, _ = driver(client, "Bram")  # a driver who phoned the desk
    _, desk = _desk(client)
    gql(client, GIVE_CONSENT, {"member": bram_id, "statement": "yes"}, token=desk)
    token = _act(client, desk, bram_id)["accessToken"]

    erase = gql(client, ERASE_ME, token=token)["eraseMyData"]
    consent = gql(client, GIVE_CONSENT, {"member": None, "statement": "x"}, token=token)
    again = _act(client, token, bram_id)
    duty = gql(client, ON_DUTY, token=token)["goOnDuty"]

    assert (erase["__typename"], erase["requiredRole"]) == ("NotAuthorized", "member"), erase
    assert consent["giveConsent"]["__typename"] == "NotAuthorized", consent
    assert again["__typename"] == "NotAuthorized", again
    assert (duty["__typename"], duty["requiredRole"]) == ("NotAuthorized", "driver"), duty
    me = gql(client, ME, token=token)["me"]
    assert (me["id"], me["displayName"]) == (bram_id, "Bram")  # nothing was erased
