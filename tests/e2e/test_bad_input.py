"""Bad input gets a typed problem naming it, and changes nothing in any store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    DROPOFF,
    MY_DRIVES,
    MY_RIDES,
    OFF_DUTY,
    PICK_UP,
    PICKUP,
    REGISTER,
    REQUEST,
    driver,
    join,
    request_ride,
    ride_command,
    store_positions,
    token_with,
)
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e


@dataclass
class World:
    """A rider, a driver on a ride (picked up), another driver on duty, a plain member, and a
    member whose token has the driver role but who never registered a vehicle."""

    rider: str
    driver: str
    driver_id: str
    other_driver: str
    member: str
    ride_id: str
    unregistered_driver: str  # a token with the driver role, never registered
    unregistered_id: str


@pytest.fixture(scope="module")
def world(module_client: TestClient, module_clock: FixedClock) -> World:
    client, e2e_clock = module_client, module_clock
    _, rider = join(client, "Ada")
    driver_id, drv = driver(client, "Bram")
    _, other = driver(client, "Chloe", at={"lat": 51.10, "lon": 3.70})
    _, member = join(client, "Dries")
    unregistered_id, _ = join(client, "Els")
    unregistered = token_with(client, unregistered_id, "driver")
    ride = request_ride(client, rider)
    ride_command(client, ACCEPT, ride["id"], drv)
    e2e_clock.advance(timedelta(minutes=3))
    picked = ride_command(client, PICK_UP, ride["id"], drv)
    assert picked["state"] == "PICKED_UP"
    return World(rider, drv, driver_id, other, member, ride["id"], unregistered, unregistered_id)


def _request(**changes: Any) -> dict[str, Any]:
    return {"input": {"pickup": PICKUP, "dropoff": DROPOFF, **changes}}


# Each case: (query, variables, token) from the world; the expected typename; checks on the result.
CASES: dict[str, Any] = {
    "unknown ride id": (
        lambda w: (ACCEPT, {"id": "00000000-0000-4000-8000-000000000000"}, w.driver),
        "RideNotFound",
        {
            "message": "no ride 00000000-0000-4000-8000-000000000000",
            "rideId": "00000000-0000-4000-8000-000000000000",
        },
    ),
    "malformed ride id": (
        lambda w: (ACCEPT, {"id": "ride-42"}, w.driver),
        "InvalidInput",
        {"field": "id", "message": "ride id 'ride-42' is not a valid uuid"},
    ),
    "latitude 91": (
        lambda w: (REQUEST, _request(pickup={"lat": 91, "lon": 3.7}), w.rider),
        "InvalidInput",
        {"field": "pickup", "message": "pickup: latitude 91.0 is outside [-90, 90]"},
    ),
    "longitude 200": (
        lambda w: (REQUEST, _request(dropoff={"lat": 51.0, "lon": 200}), w.rider),
        "InvalidInput",
        {"field": "dropoff", "message": "dropoff: longitude 200.0 is outside [-180, 180]"},
    ),
    "zero seats": (
        lambda w: (REQUEST, _request(seats=0), w.rider),
        "InvalidInput",
        {"field": "seats", "message": "seats: must be at least 1, got 0"},
    ),
    "negative seats": (
        lambda w: (REQUEST, _request(seats=-2), w.rider),
        "InvalidInput",
        {"field": "seats", "message": "seats: must be at least 1, got -2"},
    ),
    "a vehicle with zero seats": (
        lambda w: (REGISTER, {"input": {"seats": 0}}, w.member),
        "InvalidInput",
        {"field": "seats"},
    ),
    "completing another driver's ride": (
        lambda w: (DROP_OFF, {"id": w.ride_id}, w.other_driver),
        "NotYourRide",
        {"contains": "is not yours", "rideId": attrgetter("ride_id")},
    ),
    "no token": (
        lambda w: (REQUEST, _request(), None),
        "NotAuthenticated",
        {"contains": "Authorization: Bearer <token>"},
    ),
    "malformed token": (
        lambda w: (REQUEST, _request(), "this-is-not-a-jwt"),
        "NotAuthenticated",
        {"contains": "token is malformed"},
    ),
    "a member without the driver role accepting": (
        lambda w: (ACCEPT, {"id": w.ride_id}, w.member),
        "NotAuthorized",
        {"requiredRole": "driver", "contains": "needs the 'driver' role"},
    ),
    "registering twice": (
        lambda w: (REGISTER, {"input": {"seats": 4}}, w.driver),
        "DriverAlreadyRegistered",
        {"contains": "is already registered as a driver", "memberId": attrgetter("driver_id")},
    ),
    "accepting a ride already picked up": (
        lambda w: (ACCEPT, {"id": w.ride_id}, w.driver),
        "RideNotInState",
        {
            "contains": "cannot accept ride",
            "rideId": attrgetter("ride_id"),
            "state": "PICKED_UP",
            "action": "accept",
        },
    ),
    "going off duty on a ride": (
        lambda w: (OFF_DUTY, {}, w.driver),
        "DriverBusy",
        {"memberId": attrgetter("driver_id"), "status": "ON_RIDE", "action": "go off duty"},
    ),
    "the drives of a member who never registered": (
        lambda w: (MY_DRIVES, {}, w.unregistered_driver),
        "DriverNotRegistered",
        {"memberId": attrgetter("unregistered_id")},
    ),
    "a page of 500 rides": (
        lambda w: (MY_RIDES, {"first": 500}, w.rider),
        "InvalidInput",
        {"field": "first", "contains": "ask for 1 to 100 rows, got 500"},
    ),
    "a page after a cursor from nowhere": (
        lambda w: (MY_RIDES, {"after": "bm90LWEtY3Vyc29y"}, w.rider),
        "InvalidInput",
        {"field": "after"},
    ),
    "a position of another service": (
        lambda w: (MY_RIDES, {"seen": "members@3"}, w.rider),
        "InvalidInput",
        {"field": "seen"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_typed_problem_and_changes_nothing(
    case: str, module_client: TestClient, world: World
) -> None:
    client = module_client
    make, typename, expect = CASES[case]
    query, variables, token = make(world)
    before = store_positions(client)

    result = next(iter(gql(client, query, variables, token=token).values()))

    assert result["__typename"] == typename, result
    for key, wanted in expect.items():
        value = wanted(world) if callable(wanted) else wanted
        if key == "contains":
            assert value in result["message"], result
        else:
            assert result[key] == value, result
    assert store_positions(client) == before


def test_a_malformed_authorization_header_is_named(client: TestClient) -> None:
    result = gql(client, REQUEST, _request(), headers={"Authorization": "Basic dXNlcjpwdw=="})[
        "requestRide"
    ]
    assert result["__typename"] == "NotAuthenticated"
    assert result["message"] == "Authorization header must be 'Bearer <token>'"


def test_an_unknown_ride_is_not_found_even_for_its_id_shape(client: TestClient) -> None:
    _, drv = driver(client, "Bram")
    missing = str(uuid.uuid4())
    result = gql(client, DROP_OFF, {"id": missing}, token=drv)["markDroppedOff"]
    assert (result["__typename"], result["message"], result["rideId"]) == (
        "RideNotFound",
        f"no ride {missing}",
        missing,
    )
