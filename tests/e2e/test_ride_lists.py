"""Ride lists over HTTP: Relay pages of myRides, read-your-writes with `seen`, and each ride's
driver read through one DataLoader batch per response."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import (
    ACCEPT,
    CANCEL,
    DROP_OFF,
    MY_DRIVES,
    MY_RIDES,
    PICK_UP,
    PICKUP,
    driver,
    join,
    my_rides,
    nodes,
    request_ride,
    ride_command,
)
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

WITH_DRIVERS = """
query { myRides(first: 10) { __typename ... on RideConnection {
  nodes { id driverId driver { memberId vehicle seats wheelchairAccessible } }
} } }"""


def test_my_rides_come_in_pages_newest_first(client: TestClient, e2e_clock: FixedClock) -> None:
    # given a rider with five rides, each cancelled before the next (the city caps open rides)
    _, rider = join(client, "Ada")
    made = []
    for _ in range(5):
        made.append(request_ride(client, rider, batch=False))
        ride_command(client, CANCEL, made[-1]["id"], rider)
        e2e_clock.advance(timedelta(minutes=1))
    last = made[-1]["position"]

    # when they read them two at a time
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        page = my_rides(client, rider, first=2, after=after, seen=last)
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then they get 2, 2 and 1, newest first, each page after the one before
    assert [len(nodes(p)) for p in pages] == [2, 2, 1]
    assert [r["id"] for p in pages for r in nodes(p)] == [r["id"] for r in reversed(made)]
    assert all(r["state"] == "CANCELLED" for p in pages for r in nodes(p))
    assert pages[0]["edges"][-1]["cursor"] == pages[0]["pageInfo"]["endCursor"]


def test_a_ride_requested_is_in_my_rides_when_its_position_is_passed_as_seen(
    client: TestClient,
) -> None:
    _, rider = join(client, "Ada")

    ride = request_ride(client, rider)
    page = my_rides(client, rider, seen=ride["position"])

    assert [r["id"] for r in nodes(page)] == [ride["id"]]
    service, _, applied = page["asOf"].partition("@")
    assert service == "rides"
    assert int(applied) <= int(ride["position"].partition("@")[2])
    assert page["pageInfo"]["hasNextPage"] is False


def test_my_drives_list_only_the_rides_the_driver_completed(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, drv = driver(client, "Bram")
    _, rider = join(client, "Ada")
    done = request_ride(client, rider)
    ride_command(client, ACCEPT, done["id"], drv)
    ride_command(client, PICK_UP, done["id"], drv)
    e2e_clock.advance(timedelta(minutes=8))
    dropped = ride_command(client, DROP_OFF, done["id"], drv)
    offered = request_ride(client, rider)  # offered to the driver, not driven yet
    assert offered["driverId"] == dropped["driverId"]

    drives = my_rides(client, drv, MY_DRIVES, seen=offered["position"])

    assert [(r["id"], r["state"]) for r in nodes(drives)] == [(done["id"], "COMPLETED")]


def test_a_page_of_rides_reads_its_drivers_in_one_batch(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two drivers on duty and a rider whose three requests went to each and to none
    # (the first cancelled, as the city caps a member's open rides; it keeps its driver)
    bram, _ = driver(client, "Bram", seats=4, wheelchair=False)
    chloe, _ = driver(client, "Chloe", at={"lat": PICKUP["lat"] + 0.03, "lon": PICKUP["lon"]})
    _, rider = join(client, "Ada")
    rides = [request_ride(client, rider), request_ride(client, rider)]
    ride_command(client, CANCEL, rides[0]["id"], rider)
    rides.append(request_ride(client, rider, batch=False))  # waits for the next batch
    assert {r["driverId"] for r in rides} == {bram, chloe, None}
    my_rides(client, rider, seen=rides[-1]["position"])  # the list has them all now
    app = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
    batches: list[list[str]] = []
    drivers_of = app.drivers_of

    def counted(member_ids: list[str]) -> Any:
        batches.append(list(member_ids))
        return drivers_of(member_ids)

    monkeypatch.setattr(app, "drivers_of", counted)

    # when the rider reads the page with each ride's driver
    page = gql(client, WITH_DRIVERS, token=rider)["myRides"]

    # then each ride shows its driver's vehicle, read in one batch for the whole page
    shown = {r["driverId"]: r["driver"] for r in page["nodes"]}
    assert shown[None] is None
    assert shown[bram] == {
        "memberId": bram,
        "vehicle": "van",
        "seats": 4,
        "wheelchairAccessible": False,
    }
    assert shown[chloe]["memberId"] == chloe
    assert [sorted(b) for b in batches] == [sorted([bram, chloe])]


def test_a_list_that_cannot_reach_the_position_seen_says_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rides list whose read model is stuck (its runner applies nothing)
    from services.rides.projections import RideRecords

    app = client.app.state.runtime.apps["rides"]  # type: ignore[attr-defined]
    _, rider = join(client, "Ada")
    monkeypatch.setattr(app.runners[RideRecords], "run_once", lambda: 0)
    ride = request_ride(client, rider, batch=False)

    # when the rider asks for the list as of their request
    page = gql(client, MY_RIDES, {"seen": ride["position"]}, token=rider)["myRides"]

    # then, after its bounded wait, the list says it has not caught up (and how far it got)
    assert page["__typename"] == "NotCaughtUp", page
    assert page["seen"] == ride["position"]
    assert int(page["asOf"].partition("@")[2]) < int(ride["position"].partition("@")[2])


def test_list_rows_carry_the_fare_breakdown_and_the_charge_as_the_ride_does(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, drv = driver(client, "Bram")
    _, rider = join(client, "Ada")
    # a completed ride, and one the rider cancels late (after the free minutes: a fee)
    done = request_ride(client, rider)
    ride_command(client, ACCEPT, done["id"], drv)
    ride_command(client, PICK_UP, done["id"], drv)
    e2e_clock.advance(timedelta(minutes=8))
    dropped = ride_command(client, DROP_OFF, done["id"], drv)
    late = request_ride(client, rider)
    ride_command(client, ACCEPT, late["id"], drv)
    e2e_clock.advance(timedelta(minutes=30))
    cancelled = ride_command(client, CANCEL, late["id"], rider)
    assert cancelled["charge"]["amount"] != "0.00", cancelled

    drives = nodes(my_rides(client, drv, MY_DRIVES, seen=cancelled["position"]))
    rides = {r["id"]: r for r in nodes(my_rides(client, rider, seen=cancelled["position"]))}

    shown = ("fareBreakdown", "fareRule", "rulesVersion", "commonFundPays", "riderPays", "charge")
    [drive] = drives
    assert {k: drive[k] for k in shown} == {k: dropped[k] for k in shown}
    assert drive["fareBreakdown"]  # base, distance, time
    assert {k: rides[done["id"]][k] for k in shown} == {k: dropped[k] for k in shown}
    assert rides[late["id"]]["charge"] == cancelled["charge"]
    assert rides[late["id"]]["charge"]["rule"].startswith("late cancellation")
