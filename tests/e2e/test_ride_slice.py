"""The walking skeleton over HTTP: a member rides, a driver drives and is credited, the board
sees a balanced ledger. Fares are computed here from the city config, not read back."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import pytest

from kernel.cities import load_city
from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    MY_DRIVES,
    PICK_UP,
    PICKUP,
    driver,
    eventually,
    join,
    my_rides,
    nodes,
    request_ride,
    ride_command,
    token_with,
)
from tests.support.accounts import GIVE_CONSENT
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

CITY = load_city("demo")

MY_CREDITS = """{ myCredits { __typename ... on Credits {
  memberId hoursDriving earnings currency lines { nodes { account credit unit } }
} } }"""
TRIAL_BALANCE = """{ trialBalance { __typename ... on TrialBalance {
  city entries balanced accounts { nodes { account unit balance } }
} } }"""
PARKED = """{ parkedMessages { __typename
  ... on ParkedMessageConnection { nodes { reason } pageInfo { hasNextPage } } } }"""


def expected_fare(km: Decimal, minutes: Decimal) -> Decimal:
    rides = CITY.rides
    total = rides.fare_base + rides.fare_per_km * km + rides.fare_per_minute * minutes
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_a_member_rides_a_driver_is_credited_and_the_board_sees_a_balanced_ledger(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    # given a rider, a driver on duty, a board member
    rider_id, rider = join(client, "Ada")
    driver_id, drv = driver(client, "Bram")
    board_id, _ = join(client, "Emre")
    board = token_with(client, board_id, "board")

    # when the rider requests a ride, it is offered to the driver with a reason
    ride = request_ride(client, rider)
    assert ride["__typename"] == "RideChanged", ride
    assert (ride["state"], ride["riderId"], ride["driverId"]) == ("OFFERED", rider_id, driver_id)
    assert "nearest on-duty driver" in ride["offerReason"]
    ride_id = ride["id"]

    # and the driver takes it from acceptance to drop-off
    accepted = ride_command(client, ACCEPT, ride_id, drv)
    assert accepted["state"] == "ACCEPTED"
    e2e_clock.advance(timedelta(minutes=7))
    picked = ride_command(client, PICK_UP, ride_id, drv)
    assert picked["state"] == "PICKED_UP"
    e2e_clock.advance(timedelta(minutes=13, seconds=30))
    done = ride_command(client, DROP_OFF, ride_id, drv)

    # then the fare follows the city's formula and its split sums exactly to it
    fare = expected_fare(Decimal(done["distanceKm"]), Decimal("13.5"))
    assert done["state"] == "COMPLETED"
    assert Decimal(done["fare"]) == fare
    split = {s["part"]: Decimal(s["amount"]) for s in done["split"]}
    assert set(split) == set(CITY.rides.split)
    assert sum(split.values()) == fare
    driver_part = split["driver"]
    assert abs(driver_part - fare * CITY.rides.split["driver"] / 100) < Decimal("0.01")

    # the rider sees the completed ride with its fare (reading the drop-off's own write)
    rides = nodes(my_rides(client, rider, seen=done["position"]))
    assert [(r["id"], r["state"], Decimal(r["fare"])) for r in rides] == [
        (ride_id, "COMPLETED", fare)
    ]
    # the driver sees it among their drives
    drives = nodes(my_rides(client, drv, MY_DRIVES, seen=done["position"]))
    assert [d["id"] for d in drives] == [ride_id]

    # the driver's credits arrive through the relay and the contributions consumer
    def credited() -> dict[str, Any] | None:
        credits = gql(client, MY_CREDITS, token=drv)["myCredits"]
        return credits if Decimal(credits["earnings"]) != 0 else None

    credits = eventually(credited)
    assert credits["memberId"] == driver_id
    assert Decimal(credits["earnings"]) == driver_part
    assert Decimal(credits["hoursDriving"]) == Decimal("0.34")  # 20.5 min accepted→dropped
    assert credits["currency"] == CITY.currency
    assert sorted(
        (line["account"], line["unit"], Decimal(line["credit"]))
        for line in credits["lines"]["nodes"]
    ) == [
        (f"member:{driver_id}:earnings", "EUR", driver_part),
        (f"member:{driver_id}:hours:driving", "HOUR", Decimal("0.34")),
    ]

    # the rider earned nothing
    rider_credits = gql(client, MY_CREDITS, token=rider)["myCredits"]
    assert Decimal(rider_credits["earnings"]) == 0
    assert rider_credits["lines"]["nodes"] == []

    # the board sees a balanced ledger and nothing parked
    tb = gql(client, TRIAL_BALANCE, token=board)["trialBalance"]
    assert tb["__typename"] == "TrialBalance"
    assert (tb["balanced"], tb["entries"]) == (True, 2)
    per_unit: dict[str, Decimal] = {}
    for account in tb["accounts"]["nodes"]:
        per_unit[account["unit"]] = per_unit.get(account["unit"], Decimal(0)) + Decimal(
            account["balance"]
        )
    assert per_unit == {"EUR": 0, "HOUR": 0}
    balances = {(a["unit"], a["account"]): Decimal(a["balance"]) for a in tb["accounts"]["nodes"]}
    assert balances[("EUR", f"member:{driver_id}:earnings")] == -driver_part
    assert balances[("EUR", "rides:fares-collected")] == fare
    parked = gql(client, PARKED, token=board)["parkedMessages"]
    assert parked == {
        "__typename": "ParkedMessageConnection",
        "nodes": [],
        "pageInfo": {"hasNextPage": False},
    }


def test_the_board_views_need_the_board_role(client: TestClient) -> None:
    _, member = join(client, "Ada")
    for query in (TRIAL_BALANCE, PARKED):
        result = next(iter(gql(client, query, token=member).values()))
        assert result["__typename"] == "NotAuthorized"


def test_a_dispatcher_books_for_a_member_without_a_smartphone(client: TestClient) -> None:
    grandma_id, grandma = join(client, "Grandma (no smartphone)")
    dispatcher_id, _ = join(client, "Dina")
    dispatcher = token_with(client, dispatcher_id, "dispatcher")
    driver(client, "Bram")
    consent = gql(
        client,
        GIVE_CONSENT,
        {"member": grandma_id, "statement": "yes, book my rides when I call"},
        token=dispatcher,
    )["giveConsent"]
    assert (consent["__typename"], consent["given"]) == ("Consent", True), consent

    ride = request_ride(client, dispatcher, onBehalfOf=grandma_id)

    assert ride["__typename"] == "RideChanged", ride
    assert (ride["riderId"], ride["bookedBy"], ride["state"]) == (
        grandma_id,
        dispatcher_id,
        "OFFERED",
    )
    rides = nodes(my_rides(client, grandma, seen=ride["position"]))
    assert [r["id"] for r in rides] == [ride["id"]]


def test_a_plain_member_cannot_book_for_someone_else(client: TestClient) -> None:
    other_id, _ = join(client, "Grandma")
    _, member = join(client, "Ada")

    refused = request_ride(client, member, onBehalfOf=other_id)

    assert refused["__typename"] == "NotAuthorized"
    assert refused["requiredRole"] == "dispatcher"
    assert "'dispatcher' role" in refused["message"]


def test_a_wheelchair_ride_goes_to_the_accessible_van(client: TestClient) -> None:
    driver(
        client,
        "Bram (car)",
        at={"lat": PICKUP["lat"] + 0.002, "lon": PICKUP["lon"]},
        wheelchair=False,
    )
    van_id, _ = driver(
        client, "Chloe (van)", at={"lat": PICKUP["lat"] + 0.02, "lon": PICKUP["lon"]}
    )
    _, rider = join(client, "Ada")

    ride = request_ride(client, rider, wheelchair=True)

    assert ride["driverId"] == van_id
    assert "wheelchair access" in ride["offerReason"]
