"""Vehicles over HTTP: a driver registers one with a wheelchair place, lists theirs, goes on duty
with it and is offered a wheelchair rider; takes the co-op's van from `fleetVehicles`; another
driver's vehicle, an unknown one or a bad one is a typed answer that changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import (
    PROBLEM,
    RIDE_PROBLEM,
    driver,
    join,
    request_ride,
    store_positions,
)
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.e2e

VEHICLE_PROBLEM = (
    RIDE_PROBLEM
    + """
  ... on UnknownVehicle { vehicleId }
  ... on NotYourVehicle { vehicleId memberId }
"""
)
VEHICLE = "id owner seats wheelchairPlaces description fleet"
REGISTER = f"""
mutation Register($input: RegisterVehicleInput!) {{
  registerVehicle(input: $input) {{
    {VEHICLE_PROBLEM} ... on VehicleRegistered {{ position vehicle {{ {VEHICLE} }} }}
  }}
}}"""
MINE = f"""
query Mine($seen: String) {{
  myVehicles(seen: $seen) {{
    {VEHICLE_PROBLEM} ... on VehicleConnection {{ nodes {{ {VEHICLE} }} }}
  }}
}}"""
FLEET = f"{{ fleetVehicles {{ {PROBLEM} ... on FleetList {{ vehicles {{ {VEHICLE} }} }} }} }}"
ON_DUTY = f"""
mutation OnDuty($vehicle: ID) {{
  goOnDuty(position: {{lat: 51.05, lon: 3.72}}, vehicleId: $vehicle) {{
    {VEHICLE_PROBLEM}
    ... on DriverChanged {{ driver {{ status vehicleId seats wheelchairAccessible vehicle }} }}
  }}
}}"""
OFF_DUTY = f"mutation {{ goOffDuty {{ {VEHICLE_PROBLEM} }} }}"


def register(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, REGISTER, {"input": fields}, token=token)[
        "registerVehicle"
    ]
    return answer


def on_duty(client: TestClient, token: str, vehicle: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, ON_DUTY, {"vehicle": vehicle}, token=token)["goOnDuty"]
    return answer


def test_a_driver_goes_on_duty_with_their_wheelchair_van_and_is_matched_by_it(
    client: TestClient,
) -> None:
    driver_id, drv = driver(client, "Bram", seats=2, wheelchair=False)
    made = register(client, drv, seats=5, wheelchairPlaces=1, description="grey van, ramp")
    assert made["__typename"] == "VehicleRegistered", made
    van = made["vehicle"]
    assert (van["owner"], van["seats"], van["wheelchairPlaces"], van["fleet"]) == (
        driver_id,
        5,
        1,
        False,
    )
    mine = gql(client, MINE, {"seen": made["position"]}, token=drv)["myVehicles"]
    # the one registered with, and this one (registered at the same instant of the test clock)
    assert {v["description"] for v in mine["nodes"]} == {"van", "grey van, ramp"}

    assert gql(client, OFF_DUTY, token=drv)["goOffDuty"]["__typename"] == "DriverChanged"
    duty = on_duty(client, drv, van["id"])
    assert duty["__typename"] == "DriverChanged", duty
    assert duty["driver"] == {
        "status": "AVAILABLE",
        "vehicleId": van["id"],
        "seats": 5,
        "wheelchairAccessible": True,
        "vehicle": "grey van, ramp",
    }
    _, rider = join(client, "Ada")
    ride = request_ride(client, rider, seats=4, wheelchair=True)
    assert (ride["state"], ride["driverId"]) == ("OFFERED", driver_id)


def test_a_driver_takes_the_coops_van_but_not_another_drivers_vehicle(
    client: TestClient,
) -> None:
    owner_id, owner = driver(client, "Owner")
    theirs = register(client, owner, seats=4, description="red car")["vehicle"]
    other_id, other = driver(client, "Other")
    gql(client, OFF_DUTY, token=other)
    [van] = gql(client, FLEET, token=other)["fleetVehicles"]["vehicles"]
    assert (van["id"], van["owner"], van["seats"], van["fleet"]) == ("van", "coop", 7, True)

    positions = store_positions(client)
    refused = on_duty(client, other, theirs["id"])
    unknown = on_duty(client, other, "no-such-vehicle")
    bad = register(client, other, seats=0, description="x")

    assert refused["__typename"] == "NotYourVehicle", refused
    assert (refused["vehicleId"], refused["memberId"]) == (theirs["id"], other_id)
    assert unknown == {
        "__typename": "UnknownVehicle",
        "message": "no vehicle no-such-vehicle",
        "vehicleId": "no-such-vehicle",
    }
    assert (bad["__typename"], bad["field"]) == ("InvalidInput", "seats")
    assert store_positions(client) == positions
    assert on_duty(client, other, "van")["driver"]["seats"] == 7
    assert owner_id != other_id
