"""GraphQL documents and steps shared by the personal-data tests (export, erasure, audit)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    PICK_UP,
    PROBLEM,
    eventually,
    request_ride,
    ride_command,
)
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

# For results that cannot be InvalidInput (PROBLEM asks for its field).
REFUSAL = "__typename ... on Problem { message } ... on NotAuthorized { requiredRole }"
ME = f"{{ me {{ {REFUSAL} ... on Member {{ id displayName }} }} }}"
MY_DATA = f"{{ myData {{ {REFUSAL} ... on MemberExport {{ data }} }} }}"
ERASED_FIELDS = "... on DataErased { memberId erasedFields erasedAt requestedBy alreadyErased }"
ERASE_ME = f"mutation {{ eraseMyData {{ {PROBLEM} {ERASED_FIELDS} }} }}"
ERASE_MEMBER = f"""
mutation Erase($id: ID!) {{ eraseMemberData(memberId: $id) {{ {PROBLEM} {ERASED_FIELDS} }} }}"""
AUDIT_LOG = f"""
query Audit($first: Int! = 50, $after: String) {{ auditLog(first: $first, after: $after) {{
  {PROBLEM}
  ... on AuditLogPage {{
    hasMore endCursor entries {{ seq at kind operation outcome actor subject }}
  }}
}} }}"""
MY_CREDITS = "{ myCredits { ... on Credits { earnings hoursDriving currency } } }"
TRIAL_BALANCE = "{ trialBalance { ... on TrialBalance { balanced entries } } }"
RIDE_NODES = "... on RideConnection { nodes { id state fare riderId driverId } }"
MY_RIDES = f"{{ myRides {{ {RIDE_NODES} }} }}"
MY_DRIVES = f"{{ myDrives {{ {RIDE_NODES} }} }}"


def ride_to_the_end(client: TestClient, clock: FixedClock, rider: str, driver: str) -> str:
    """The rider requests, the driver (on duty) takes the ride to drop-off; wait until the
    driver is credited. Returns the ride id."""
    ride = request_ride(client, rider)
    assert ride["__typename"] == "RideChanged", ride
    accepted = ride_command(client, ACCEPT, ride["id"], driver)
    assert accepted["state"] == "ACCEPTED", accepted
    clock.advance(timedelta(minutes=6))
    picked_up = ride_command(client, PICK_UP, ride["id"], driver)
    assert picked_up["state"] == "PICKED_UP", picked_up
    clock.advance(timedelta(minutes=12))
    done = ride_command(client, DROP_OFF, ride["id"], driver)
    assert done["state"] == "COMPLETED", done
    eventually(
        lambda: Decimal(gql(client, MY_CREDITS, token=driver)["myCredits"]["earnings"]) > 0,
        timeout_s=60,
    )
    return str(ride["id"])


def audit_entries(client: TestClient, board: str, first: int = 100) -> list[dict[str, Any]]:
    page = gql(client, AUDIT_LOG, {"first": first}, token=board)["auditLog"]
    assert page["__typename"] == "AuditLogPage", page
    entries: list[dict[str, Any]] = page["entries"]
    return entries
