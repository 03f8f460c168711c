"""Incidents over HTTP and the bus: a rider reports lost property, the desk records a complaint
for a rider who phoned (with their consent), the safety team pages the open ones and resolves
one; only the safety team reads them; the rider's export holds what they said, erasure removes
it; `rides.IncidentReported` is on the rides topic without any of the words."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from kernel.bus.envelope import Envelope
from tests.e2e.conftest import RIDE_PROBLEM, driver, join, request_ride, token_with
from tests.support.accounts import GIVE_CONSENT
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME, MY_DATA

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

INCIDENT_PROBLEM = (
    RIDE_PROBLEM
    + """
  ... on IncidentNotFound { incidentId }
  ... on IncidentAlreadyResolved { incidentId outcome }
"""
)
INCIDENT = """id rideId kind state reportedBy reporterRole recordedBy reportedAt outcome
              resolvedBy text note"""
REPORT = f"""
mutation Report($input: ReportIncidentInput!) {{
  reportIncident(input: $input) {{
    {INCIDENT_PROBLEM} ... on NoConsent {{ memberId }}
    ... on IncidentChanged {{ position incident {{ {INCIDENT} }} }}
  }}
}}"""
LIST = f"""
query List($state: IncidentState, $seen: String, $first: Int, $after: String) {{
  incidents(state: $state, seen: $seen, first: $first, after: $after) {{
    {INCIDENT_PROBLEM}
    ... on IncidentConnection {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {INCIDENT} }} }}
  }}
}}"""
RESOLVE = f"""
mutation Resolve($id: ID!, $outcome: IncidentOutcome!, $note: String!) {{
  resolveIncident(incidentId: $id, outcome: $outcome, note: $note) {{
    {INCIDENT_PROBLEM} ... on IncidentChanged {{ position incident {{ {INCIDENT} }} }}
  }}
}}"""
SAID = "Left a <script>alert(1)</script> blue scarf on the back seat"


def report(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, REPORT, {"input": fields}, token=token)["reportIncident"]
    return answer


def published_incidents(client: TestClient) -> list[Envelope]:
    """Every incident event on the rides topic, once the relay has published what is stored.
    Order holds per incident (its partition), not across them."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.wait_until_idle(20)
    subscriber = runtime.bus.subscriber(group="incident-reader")
    subscriber.subscribe([runtime.settings.topic("rides")])
    found: list[Envelope] = []
    while batch := subscriber.poll(0.5):  # until a poll finds nothing more
        found += [Envelope.from_bytes(m.value) for m in batch]
    subscriber.close()
    return [e for e in found if e.type.startswith("rides.Incident")]


def test_incidents_reach_the_safety_team_who_resolve_them(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    # given a ride offered to a driver, a dispatcher and a member of the safety team
    _, drv = driver(client, "Bram")
    rider_id, rider = join(client, "Ada")
    ride = request_ride(client, rider)
    desk_id, _ = join(client, "Desk")
    desk = token_with(client, desk_id, "dispatcher")
    safety_id, _ = join(client, "Safety")
    safety = token_with(client, safety_id, "safety")

    # when the rider reports lost property, and the desk a complaint for them (with consent)
    lost = report(client, rider, rideId=ride["id"], kind="LOST_PROPERTY", text=SAID)
    assert lost["__typename"] == "IncidentChanged", lost
    e2e_clock.advance(timedelta(minutes=1))
    refused = report(
        client, desk, rideId=ride["id"], kind="COMPLAINT", text="rude", forMember=rider_id
    )
    assert (refused["__typename"], refused["memberId"]) == ("NoConsent", rider_id)
    consent = gql(client, GIVE_CONSENT, {"member": rider_id, "statement": "yes"}, token=desk)
    assert consent["giveConsent"]["__typename"] == "Consent", consent
    complaint = report(
        client, desk, rideId=ride["id"], kind="COMPLAINT", text="rude", forMember=rider_id
    )
    assert complaint["__typename"] == "IncidentChanged", complaint
    assert (complaint["incident"]["reportedBy"], complaint["incident"]["recordedBy"]) == (
        rider_id,
        desk_id,
    )

    # then only the safety team reads them, open ones first reported first, words as written
    assert gql(client, LIST, {}, token=rider)["incidents"]["__typename"] == "NotAuthorized"
    listed = gql(client, LIST, {"state": "OPEN", "seen": complaint["position"]}, token=safety)[
        "incidents"
    ]
    assert [(i["kind"], i["reporterRole"], i["text"]) for i in listed["nodes"]] == [
        ("LOST_PROPERTY", "RIDER", SAID),
        ("COMPLAINT", "RIDER", "rude"),
    ]

    # when the safety team resolves one, it is resolved once
    done = gql(
        client,
        RESOLVE,
        {"id": lost["incident"]["id"], "outcome": "RETURNED", "note": "ok"},
        token=safety,
    )["resolveIncident"]
    assert (done["incident"]["state"], done["incident"]["outcome"]) == ("RESOLVED", "RETURNED")
    assert done["incident"]["note"] == "ok"
    again = gql(
        client,
        RESOLVE,
        {"id": lost["incident"]["id"], "outcome": "NO_ACTION", "note": ""},
        token=safety,
    )["resolveIncident"]
    assert (again["__typename"], again["outcome"]) == ("IncidentAlreadyResolved", "RETURNED")
    drivers_try = gql(
        client,
        RESOLVE,
        {"id": lost["incident"]["id"], "outcome": "NO_ACTION", "note": ""},
        token=drv,
    )["resolveIncident"]
    assert drivers_try["__typename"] == "NotAuthorized"
    still_open = gql(client, LIST, {"state": "OPEN", "seen": done["position"]}, token=safety)
    assert [i["kind"] for i in still_open["incidents"]["nodes"]] == ["COMPLAINT"]

    # and the bus carries both facts, without a word of what was said
    published = published_incidents(client)
    assert sorted(e.type for e in published) == [
        "rides.IncidentReported",
        "rides.IncidentReported",
        "rides.IncidentResolved",
    ]
    resolved = next(e for e in published if e.type == "rides.IncidentResolved")
    of_lost = [e.type for e in published if e.aggregate_id == resolved.aggregate_id]
    assert of_lost == ["rides.IncidentReported", "rides.IncidentResolved"]
    assert all("scarf" not in str(e.payload) and "rude" not in str(e.payload) for e in published)

    # and the rider's export holds them with their words, which erasure removes
    mine = gql(client, MY_DATA, token=rider)["myData"]["data"]["rides"]["incidents"]
    assert [(i["kind"], i["text"]) for i in mine] == [
        ("lost_property", SAID),
        ("complaint", "rude"),
    ]
    assert gql(client, ERASE_ME, token=rider)["eraseMyData"]["__typename"] == "DataErased"
    after = gql(client, MY_DATA, token=rider)["myData"]["data"]["rides"]["incidents"]
    assert [(i["kind"], i["text"]) for i in after] == [("lost_property", None), ("complaint", None)]


def test_a_stranger_or_bad_input_is_refused_by_name(client: TestClient) -> None:
    _, _ = driver(client, "Bram")
    _, rider = join(client, "Ada")
    ride = request_ride(client, rider)
    _, stranger = join(client, "Eve")

    not_theirs = report(client, stranger, rideId=ride["id"], kind="COMPLAINT", text="x")
    empty = report(client, rider, rideId=ride["id"], kind="COMPLAINT", text="  ")
    too_long = report(client, rider, rideId=ride["id"], kind="COMPLAINT", text="x" * 2001)
    bad_id = report(client, rider, rideId="not-a-ride", kind="COMPLAINT", text="x")

    assert not_theirs["__typename"] == "NotYourRide", not_theirs
    assert (empty["__typename"], empty["field"]) == ("InvalidInput", "text")
    assert (too_long["__typename"], too_long["field"]) == ("InvalidInput", "text")
    assert (bad_id["__typename"], bad_id["field"]) == ("InvalidInput", "id")
    assert published_incidents(client) == []
