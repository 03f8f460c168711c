"""Bad input gets a typed problem naming it, and changes nothing in any store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    DROPOFF,
    PICK_UP,
    PICKUP,
    REGISTER,
    REQUEST,
    driver,
    join,
    request_ride,
    store_positions,
)
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e


@dataclass
class World:
    """A rider, a driver on a ride (picked up), another driver on duty, a plain member."""

    rider: str
    driver: str
    other_driver: str
    member: str
    ride_id: str


@pytest.fixture(scope="module")
def world(module_client: TestClient, module_clock: FixedClock) -> World:
    client, e2e_clock = module_client, module_clock
    _, rider = join(client, "Ada")
    _, drv = driver(client, "Bram")
    _, other = driver(client, "Chloe", at={"lat": 51.10, "lon": 3.70})
    _, member = join(client, "Dries")
    ride = request_ride(client, rider)
    gql(client, ACCEPT, {"id": ride["id"]}, token=drv)
    e2e_clock.advance(timedelta(minutes=3))
    picked = gql(client, PICK_UP, {"id": ride["id"]}, token=drv)["markPickedUp"]
    assert picked["state"] == "picked_up"
    return World(rider, drv, other, member, ride["id"])


def _request(**changes: Any) -> dict[str, Any]:
    return {"input": {"pickup": PICKUP, "dropoff": DROPOFF, **changes}}


# Each case: (query, variables, token) from the world; the expected typename; checks on the result.
CASES: dict[str, Any] = {
    "unknown ride id": (
        lambda w: (ACCEPT, {"id": "00000000-0000-4000-8000-000000000000"}, w.driver),
        "NotFound",
        {"message": "no ride 00000000-0000-4000-8000-000000000000"},
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
        "Conflict",
        {"contains": "is not yours"},
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
        "Conflict",
        {"contains": "is already registered as a driver"},
    ),
    "accepting a ride already picked up": (
        lambda w: (ACCEPT, {"id": w.ride_id}, w.driver),
        "Conflict",
        {"contains": "cannot accept ride"},
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
    for key, value in expect.items():
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
    assert (result["__typename"], result["message"]) == ("NotFound", f"no ride {missing}")
