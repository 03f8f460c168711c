"""A driver's suspension, over HTTP and the in-process broker: a board member suspends a driver
on duty (decisions), rides takes them off duty and refuses their going on duty, with a typed
answer that changes nothing; once the appeal lifts it, they go on duty again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from services.rides.domain import DriverStatus
from tests.e2e.conftest import ON_DUTY, RIDE_PROBLEM, driver, eventually, join, token_with
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.e2e

SUSPEND = """
mutation Suspend($driver: String!) {
  suspendDriver(driverId: $driver, reason: SAFETY_REPORT) { __typename }
}"""
APPEAL = "mutation { appealSuspension { __typename } }"
REVIEW = """
mutation Review($driver: String!) {
  reviewAppeal(driverId: $driver, outcome: LIFTED) { __typename }
}"""
ON_DUTY_OR_SUSPENDED = ON_DUTY.replace(
    RIDE_PROBLEM, RIDE_PROBLEM + " ... on SuspendedFromDriving { memberId }"
)


def test_a_suspended_driver_is_taken_off_duty_until_the_appeal_lifts_it(
    client: TestClient,
) -> None:
    rides = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
    board_id, _ = join(client, "Board")
    board = token_with(client, board_id, "board")
    reviewer_id, _ = join(client, "Other board member")
    reviewer = token_with(client, reviewer_id, "board")
    driver_id, driver_token = driver(client, "Driver")
    assert rides.driver(driver_id).status is DriverStatus.AVAILABLE

    # when a board member suspends them (decisions publishes it; rides consumes it)
    done = gql(client, SUSPEND, {"driver": driver_id}, token=board)["suspendDriver"]
    assert done["__typename"] == "DecisionChanged", done
    eventually(lambda: rides.driver(driver_id).suspended)

    # then they are off duty, and going on duty is refused by name, changing nothing
    assert rides.driver(driver_id).status is DriverStatus.OFF_DUTY
    version = rides.driver(driver_id).version
    refused = gql(client, ON_DUTY_OR_SUSPENDED, {"lat": 51.05, "lon": 3.72}, token=driver_token)
    assert refused["goOnDuty"] == {
        "__typename": "SuspendedFromDriving",
        "message": f"driver {driver_id} is suspended by a board decision",
        "memberId": driver_id,
    }
    assert rides.driver(driver_id).version == version

    # when the appeal is reviewed and the suspension lifted, they may go on duty again
    assert gql(client, APPEAL, {}, token=driver_token)["appealSuspension"]["__typename"] == (
        "DecisionChanged"
    )
    lifted = gql(client, REVIEW, {"driver": driver_id}, token=reviewer)["reviewAppeal"]
    assert lifted["__typename"] == "DecisionChanged", lifted
    eventually(lambda: not rides.driver(driver_id).suspended)
    again = gql(client, ON_DUTY_OR_SUSPENDED, {"lat": 51.05, "lon": 3.72}, token=driver_token)
    assert again["goOnDuty"]["__typename"] == "DriverChanged", again
    assert again["goOnDuty"]["driver"]["status"] == "AVAILABLE"
