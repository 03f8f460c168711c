"""Scale-out mode: the gateway and each service's worker as separate OS processes, on PostgreSQL
stores (a schema per service) and the Kafka bus, driven over HTTP like a client would."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kernel.cities import load_city
from tests.integration.conftest import eventually, scale_env
from tests.support.servers import free_port

if TYPE_CHECKING:
    from kernel.config import Settings

pytestmark = pytest.mark.integration


class Client:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def gql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


def test_one_ride_end_to_end_across_processes(
    scale_settings: Settings, postgres_dsn: str, muni_processes
) -> None:
    env = scale_env(scale_settings, postgres_dsn)
    port = free_port()
    gateway = muni_processes(["serve", "gateway", "--port", str(port)], env=env, name="gateway")
    for service in ("members", "rides", "contributions"):
        muni_processes(["worker", service], env=env, name=f"worker-{service}")
    gateway.wait_ready(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
    api = Client(f"http://127.0.0.1:{port}")

    # a rider, a driver and a board member sign up; the operator makes the founding board
    sign_up = (
        "mutation($i: SignUpInput!) { signUp(input: $i) "
        "{ __typename ... on SignedIn { memberId accessToken refreshToken } } }"
    )

    def signed_up(name: str) -> dict[str, Any]:
        given = {"displayName": name, "password": "a long test passphrase"}
        answer: dict[str, Any] = api.gql(
            sign_up, i={**given, "email": f"{name.lower()}@example.org"}
        )["signUp"]
        assert answer["__typename"] == "SignedIn", answer
        return answer

    rider = signed_up("Rita")["accessToken"]
    member = signed_up("Dario")
    board = signed_up("Bea")
    granted = subprocess.run(
        [
            *(sys.executable, "-m", "gateway.cli", "grant", "--member", board["memberId"]),
            *("--role", "board", "--reason", "founding board", "--operator", "tests"),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stderr
    board_token = api.gql(
        "mutation($t: String!) { refreshToken(refreshToken: $t) "
        "{ ... on SignedIn { accessToken roles } } }",
        t=board["refreshToken"],
    )["refreshToken"]
    assert board_token["roles"] == ["board", "member"]

    # the driver registers a vehicle, which asks for the driver role; the board grants it
    registered = api.gql(
        'mutation { registerDriver(input: {seats: 4, vehicle: "car"}) '
        "{ __typename ... on DriverRegistered { roleRequested } } }",
        member["accessToken"],
    )["registerDriver"]
    assert registered == {"__typename": "DriverRegistered", "roleRequested": True}
    grant = api.gql(
        'mutation($m: String!) { grantRole(memberId: $m, role: DRIVER, reason: "checked") '
        "{ __typename } }",
        board_token["accessToken"],
        m=member["memberId"],
    )["grantRole"]
    assert grant["__typename"] == "Account", grant
    driver = api.gql(
        "mutation($t: String!) { refreshToken(refreshToken: $t) "
        "{ ... on SignedIn { accessToken } } }",
        t=member["refreshToken"],
    )["refreshToken"]["accessToken"]
    on_duty = api.gql(
        "mutation { goOnDuty(position: {lat: 51.05, lon: 3.72}) { "
        "... on DriverChanged { driver { status } } } }",
        driver,
    )
    assert on_duty["goOnDuty"]["driver"]["status"] == "AVAILABLE"

    # the rider requests; the ride is offered to the driver, who takes it to the end
    ride = api.gql(
        "mutation { requestRide(input: {pickup: {lat: 51.06, lon: 3.71}, "
        "dropoff: {lat: 51.03, lon: 3.75}}) { __typename "
        "... on RideChanged { ride { id state driverId } } } }",
        rider,
    )["requestRide"]["ride"]
    # it waits for the rides worker's next batch window, then is offered to the one driver
    assert ride["state"] == "WAITING"

    def offered() -> bool:
        seen = api.gql(
            "query($id: ID!) { ride(id: $id) { ... on Ride { state driverId } } }",
            rider,
            id=ride["id"],
        )["ride"]
        return (seen["state"], seen["driverId"]) == ("OFFERED", member["memberId"])

    eventually(offered, what="the batch matcher offering the ride")
    for step in ("acceptRide", "markPickedUp", "markDroppedOff"):
        answer = api.gql(
            f"mutation($id: ID!) {{ {step}(rideId: $id) {{ __typename ... on RideChanged "
            "{ position ride { state fare split { part amount } } } } }",
            driver,
            id=ride["id"],
        )[step]
        assert answer["__typename"] == "RideChanged", answer
        done = answer["ride"]
    assert done["state"] == "COMPLETED"
    split = {s["part"]: Decimal(s["amount"]) for s in done["split"]}
    assert sum(split.values()) == Decimal(done["fare"])
    assert set(split) == set(load_city("demo").rides.split)

    # contributions learns of it only through Kafka, in another process, and credits the driver
    credits_query = "{ myCredits { ... on Credits { earnings lines { nodes { unit credit } } } } }"

    def credited() -> bool:
        return Decimal(api.gql(credits_query, driver)["myCredits"]["earnings"]) > 0

    eventually(credited, timeout_s=60, what="the driver's credit from the contributions worker")
    credits = api.gql(credits_query, driver)["myCredits"]
    assert Decimal(credits["earnings"]) == split["driver"]
    assert sorted(line["unit"] for line in credits["lines"]["nodes"]) == ["EUR", "HOUR"]

    # and the rider sees the ride in their history, as of the drop-off's own write
    history = api.gql(
        "query($seen: String) { myRides(seen: $seen) { __typename "
        "... on RideConnection { nodes { id state fare } } } }",
        rider,
        seen=answer["position"],
    )
    assert history["myRides"]["nodes"] == [
        {"id": ride["id"], "state": "COMPLETED", "fare": done["fare"]}
    ]
