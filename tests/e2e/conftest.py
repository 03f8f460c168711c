"""E2E fixtures: the real Starlette app (embedded: POPO stores, in-process broker, relay and
consumer threads) driven over HTTP with a FixedClock the tests advance."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from kernel.config import Settings
from kernel.time import FixedClock
from tests.support.accounts import grant, operator_grant, refreshed, sign_up
from tests.support.graphql import gql

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")

# In-memory stores get a random pair of keys per app (kernel/keys.py), and a cheap password hash.
SETTINGS = Settings(persistence="popo", cheap_password_hashing=True)

# The problems every service's unions share; spread it on any result union that holds them.
PROBLEM = """
  __typename
  ... on Problem { message }
  ... on InvalidInput { field }
  ... on NotAuthorized { requiredRole }
"""
# PROBLEM plus the rides' own problems: only the rides' unions hold these (GraphQL refuses a
# fragment on a type its union can never be), so spread it on ride and driver results alone.
_RIDE_ONLY = """
  ... on RideNotFound { rideId }
  ... on RideNotInState { rideId state action }
  ... on NotYourRide { rideId }
  ... on DriverNotRegistered { memberId }
  ... on DriverAlreadyRegistered { memberId }
  ... on DriverBusy { memberId status action }
  ... on NotCaughtUp { seen asOf }
  ... on OutsideServiceArea { field point { lat lon } }
  ... on TooManyOpenRides { memberId openRides limit }
  ... on OfferExpired { rideId expiredAt }
  ... on NoShowTooEarly { rideId waitedMinutes requiredMinutes }
"""
RIDE_PROBLEM = PROBLEM + _RIDE_ONLY
RIDE_FIELDS = """
  id state riderId bookedBy driverId seats wheelchair distanceKm quote fare currency
  offerReason split { part amount } acceptedAt pickedUpAt completedAt
  offerExpiresAt arrivedAt fareRule rulesVersion commonFundPays riderPays unservableReason
  fareBreakdown { part amount } charge { kind amount currency rule }
"""
# A ride command answers the ride and the log position after its write (see `flat`).
RIDE = f"{RIDE_PROBLEM} ... on RideChanged {{ position ride {{ {RIDE_FIELDS} }} }}"
REGISTER = f"""
mutation Register($input: RegisterDriverInput!) {{
  registerDriver(input: $input) {{
    {RIDE_PROBLEM}
    ... on DriverRegistered {{
      roleRequested position driver {{ memberId status seats wheelchairAccessible }}
    }}
  }}
}}"""
ON_DUTY = f"""
mutation OnDuty($lat: Float!, $lon: Float!) {{
  goOnDuty(position: {{lat: $lat, lon: $lon}}) {{
    {RIDE_PROBLEM}
    ... on DriverChanged {{ position driver {{ status currentRideId }} }}
  }}
}}"""
OFF_DUTY = f"""
mutation {{
  goOffDuty {{ {RIDE_PROBLEM} ... on DriverChanged {{ position driver {{ status }} }} }}
}}"""
REQUEST = f"""
mutation Request($input: RequestRideInput!) {{ requestRide(input: $input) {{ {RIDE} }} }}"""
ACCEPT = f"mutation Accept($id: ID!) {{ acceptRide(rideId: $id) {{ {RIDE} }} }}"
PICK_UP = f"mutation PickUp($id: ID!) {{ markPickedUp(rideId: $id) {{ {RIDE} }} }}"
DROP_OFF = f"mutation DropOff($id: ID!) {{ markDroppedOff(rideId: $id) {{ {RIDE} }} }}"
ARRIVING = f"mutation Arriving($id: ID!) {{ markArriving(rideId: $id) {{ {RIDE} }} }}"
NO_SHOW = f"mutation NoShow($id: ID!) {{ markNoShow(rideId: $id) {{ {RIDE} }} }}"
CANCEL = f"mutation Cancel($id: ID!) {{ cancelRide(rideId: $id) {{ {RIDE} }} }}"
MY_RIDES = f"""
query MyRides($first: Int, $after: String, $seen: String) {{
  myRides(first: $first, after: $after, seen: $seen) {{
    {RIDE_PROBLEM}
    ... on RideConnection {{
      asOf pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {RIDE_FIELDS} }} }}
    }}
  }}
}}"""
MY_DRIVES = MY_RIDES.replace("MyRides", "MyDrives").replace("myRides", "myDrives")

PICKUP = {"lat": 51.06, "lon": 3.71}
DROPOFF = {"lat": 51.03, "lon": 3.75}
DRIVER_AT = {"lat": 51.05, "lon": 3.72}


def past_clock() -> FixedClock:
    # Tokens are minted at the app's clock and checked (exp, iat) against the wall clock, so
    # the fixed clock starts a little in the past: advancing it stays behind the wall clock.
    return FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))


@pytest.fixture
def e2e_clock() -> FixedClock:
    return past_clock()


@pytest.fixture
def client(e2e_clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=e2e_clock)) as client:
        yield client


@pytest.fixture(scope="module")
def module_clock() -> FixedClock:
    return past_clock()


@pytest.fixture(scope="module")
def module_client(module_clock: FixedClock) -> Iterator[TestClient]:
    """One app for a module whose cases change nothing, so they can share it."""
    with TestClient(create_app(SETTINGS, clock=module_clock)) as client:
        yield client


def eventually(probe: Callable[[], T | None], *, timeout_s: float = 10.0) -> T:
    """Poll `probe` until it returns something truthy (bounded): relay and consumer threads."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout_s}s")
        time.sleep(0.02)


def store_positions(client: TestClient) -> dict[str, int | None]:
    """The last notification id of every application's store."""
    apps: dict[str, Any] = client.app.state.runtime.apps  # type: ignore[attr-defined]
    return {name: app.recorder.max_notification_id() for name, app in apps.items()}


def join(client: TestClient, name: str) -> tuple[str, str]:
    """Sign up (with a fresh email); return (member id, access token)."""
    signed = sign_up(client, name)
    return signed["memberId"], signed["accessToken"]


def token_with(client: TestClient, member_id: str, *roles: str) -> str:
    """A token the co-op would mint for a member holding `roles` (board, dispatcher): the roles
    are granted on the record first (by the operator), so checks of the record agree."""
    operator_grant(client, member_id, *roles)
    members = client.app.state.runtime.apps["members"]  # type: ignore[attr-defined]
    token: str = members.accounts.access_token(members.accounts.account(member_id))[0]
    return token


def driver(
    client: TestClient,
    name: str,
    *,
    at: dict[str, float] = DRIVER_AT,
    seats: int = 4,
    wheelchair: bool = True,
) -> tuple[str, str]:
    """Sign up, register a vehicle, have the board grant the driver role, refresh for a token
    that carries it and go on duty at `at`; return (member id, driver token)."""
    signed = sign_up(client, name)
    member_id = signed["memberId"]
    registered = gql(
        client,
        REGISTER,
        {"input": {"seats": seats, "wheelchairAccessible": wheelchair, "vehicle": "van"}},
        token=signed["accessToken"],
    )["registerDriver"]
    assert registered["__typename"] == "DriverRegistered", registered
    assert registered["roleRequested"] is True
    grant(client, member_id, "driver")
    driver_token = refreshed(client, signed["refreshToken"])["accessToken"]
    duty = gql(client, ON_DUTY, at, token=driver_token)["goOnDuty"]
    assert duty["__typename"] == "DriverChanged", duty
    return member_id, driver_token


def flat(answer: dict[str, Any]) -> dict[str, Any]:
    """A ride command's answer as one dict: the ride's fields beside `__typename` and
    `position` (`RideChanged`), or the problem as it came."""
    if "ride" not in answer:
        return answer
    return {"__typename": answer["__typename"], "position": answer["position"], **answer["ride"]}


def ride_command(client: TestClient, query: str, ride_id: str, token: str | None) -> dict[str, Any]:
    """Run ACCEPT, PICK_UP, DROP_OFF (or another ride command on `$id`); the answer, `flat`."""
    answer = next(iter(gql(client, query, {"id": ride_id}, token=token).values()))
    return flat(answer)


RIDE_QUERY = (
    f"query Ride($id: ID!) {{ ride(id: $id) {{ {RIDE_PROBLEM} ... on Ride {{ {RIDE_FIELDS} }} }} }}"
)


def run_batch(client: TestClient) -> None:
    """Advance the app's FixedClock through one batch window and run the city's batch (the
    matcher thread runs it too; the runner's lock makes them one), so waiting rides are offered."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    rides = runtime.apps["rides"]
    rides.clock.advance(timedelta(seconds=rides.city.rides.matching.batch_window_seconds))
    runtime.jobs["rides-batch"].tick()


def request_ride(
    client: TestClient, token: str, *, batch: bool = True, **extra: Any
) -> dict[str, Any]:
    """Request a ride from PICKUP to DROPOFF; the answer, `flat` (`__typename` RideChanged).

    With `batch` (the default), the next batch window is run and the ride read back as the
    requester sees it then (offered, if a driver could take it), with the request's `position`.
    """
    answer = gql(
        client, REQUEST, {"input": {"pickup": PICKUP, "dropoff": DROPOFF, **extra}}, token=token
    )["requestRide"]
    requested = flat(answer)
    if not batch or requested["__typename"] != "RideChanged":
        return requested
    # The matcher thread ticks on the same clock: a window it ran just before this request
    # counted for nothing, so a ride may wait one more window (as it would in the city).
    for _ in range(3):
        run_batch(client)
        now = gql(client, RIDE_QUERY, {"id": requested["id"]}, token=token)["ride"]
        if now["state"] != "WAITING":
            break
    return {**now, "__typename": "RideChanged", "position": requested["position"]}


def my_rides(
    client: TestClient, token: str, query: str = MY_RIDES, **variables: Any
) -> dict[str, Any]:
    """One page of myRides (or myDrives with `query=MY_DRIVES`): the connection or problem."""
    found: dict[str, Any] = next(iter(gql(client, query, variables, token=token).values()))
    return found


def nodes(page: dict[str, Any]) -> list[dict[str, Any]]:
    assert page["__typename"] == "RideConnection", page
    return [edge["node"] for edge in page["edges"]]
