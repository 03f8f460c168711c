"""What a member writes when cancelling or declining a ride is personal data: it is kept in
their vault, shown to the ride's parties, never stored in an event or published, and gone once
the member is erased."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import driver, join, request_ride
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME, MY_DATA

if TYPE_CHECKING:
    from starlette.testclient import TestClient

CANCEL = """mutation Cancel($id: ID!, $reason: String!) { cancelRide(rideId: $id, reason: $reason) {
  __typename ... on RideChanged { ride { state cancelReason } } } }"""
RIDE = "query Ride($id: ID!) { ride(id: $id) { __typename ... on Ride { state cancelReason } } }"
WORDS = "Sorry, my neighbour Griet Vermeulen is driving me to the clinic instead"


def stored_text(client: TestClient) -> str:
    """Every stored event of every service, as text."""
    apps: dict[str, Any] = client.app.state.runtime.apps  # type: ignore[attr-defined]
    out = []
    for app in apps.values():
        for note in app.recorder.select_notifications(start=1, limit=100_000):
            out.append(note.state.decode("utf-8", errors="replace"))
    return "\n".join(out)


def test_a_cancel_reason_is_kept_in_the_vault_and_erased_with_its_writer(
    client: TestClient,
) -> None:
    _, rider = join(client, "Ada")
    driver(client, "Bram")
    ride = request_ride(client, rider)

    cancelled = gql(client, CANCEL, {"id": ride["id"], "reason": WORDS}, token=rider)["cancelRide"]

    assert cancelled["ride"] == {"state": "CANCELLED", "cancelReason": WORDS}
    assert gql(client, RIDE, {"id": ride["id"]}, token=rider)["ride"]["cancelReason"] == WORDS
    assert "Vermeulen" not in stored_text(client)
    exported = gql(client, MY_DATA, token=rider)["myData"]["data"]
    assert WORDS in exported["rides"]["written"].values()

    assert gql(client, ERASE_ME, token=rider)["eraseMyData"]["__typename"] == "DataErased"

    after = gql(client, RIDE, {"id": ride["id"]}, token=rider)["ride"]
    assert after == {"__typename": "Ride", "state": "CANCELLED", "cancelReason": None}
