"""`memberRides`: the desk reads one member's rides (what they see in `myRides`) to answer the
member who phoned; the dispatcher role only; a malformed id is a typed refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import PROBLEM, driver, join, request_ride, token_with
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

MEMBER_RIDES = f"""
query MemberRides($member: String!, $first: Int, $after: String) {{
  memberRides(memberId: $member, first: $first, after: $after) {{
    {PROBLEM}
    ... on RideConnection {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id riderId state }} }}
  }}
}}"""


def member_rides(client: TestClient, token: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = gql(client, MEMBER_RIDES, variables, token=token)["memberRides"]
    return found


def test_the_desk_reads_a_members_rides_newest_first_and_pages(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    driver(client, "Bram")
    ada_id, ada = join(client, "Ada")
    first = request_ride(client, ada, batch=False)
    e2e_clock.advance(timedelta(minutes=1))  # newest first: one after the other
    second = request_ride(client, ada, batch=False)
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")

    page = member_rides(client, desk, member=ada_id, first=1)
    assert page["__typename"] == "RideConnection", page
    assert [r["id"] for r in page["nodes"]] == [second["id"]]
    assert page["nodes"][0]["riderId"] == ada_id
    assert page["pageInfo"]["hasNextPage"] is True
    rest = member_rides(client, desk, member=ada_id, first=1, after=page["pageInfo"]["endCursor"])
    assert [r["id"] for r in rest["nodes"]] == [first["id"]]


def test_only_the_dispatcher_reads_another_members_rides(client: TestClient) -> None:
    ada_id, ada = join(client, "Ada")
    request_ride(client, ada, batch=False)
    _, bram = join(client, "Bram")
    refused = member_rides(client, bram, member=ada_id)
    assert (refused["__typename"], refused["requiredRole"]) == ("NotAuthorized", "dispatcher")


def test_a_malformed_member_id_is_refused_by_its_field(client: TestClient) -> None:
    dispatcher_id, _ = join(client, "Dina")
    desk = token_with(client, dispatcher_id, "dispatcher")
    refused = member_rides(client, desk, member="grandma")
    assert (refused["__typename"], refused["field"]) == ("InvalidInput", "memberId")
