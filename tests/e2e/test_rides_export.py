"""Rides in a member's export and erasure, over HTTP: scheduled and recurring bookings (each
week its own ride, naming its series), the fare breakdown and charge of every ride; erasure
removes what the member wrote and leaves their bookings under their id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import join
from tests.e2e.test_scheduled_rides import RECURRING, book, in_days, ride_input
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME, MY_DATA

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e


def my_data(client: TestClient, token: str) -> dict[str, Any]:
    answer = gql(client, MY_DATA, token=token)["myData"]
    assert answer["__typename"] == "MemberExport", answer
    data: dict[str, Any] = answer["data"]
    return data


def test_scheduled_and_recurring_bookings_are_in_my_data_and_stay_after_erasure(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    # given a rider with one booking and a two-week series
    rider_id, rider = join(client, "Tomas Export")
    one = book(client, rider, in_days(e2e_clock, 2, 10))
    assert one["__typename"] == "ScheduledRideChanged", one
    series = gql(
        client,
        RECURRING,
        {"input": ride_input(in_days(e2e_clock, 1, 14)), "weeks": 2},
        token=rider,
    )["bookRecurringRide"]
    assert series["__typename"] == "RecurringRideBooked", series

    # when they download their data
    scheduled = my_data(client, rider)["rides"]["scheduled"]

    # then every booking is there, soonest first, each week naming its series
    expected = {one["ride"]["id"], *(r["id"] for r in series["booked"])}
    assert {b["id"] for b in scheduled} == expected
    assert [b["seriesId"] for b in scheduled if b["id"] != one["ride"]["id"]] == [
        series["seriesId"]
    ] * 2
    assert all(b["riderId"] == rider_id and b["state"] == "booked" for b in scheduled)
    starts = [b["window"]["start"] for b in scheduled]
    assert starts == sorted(starts)

    # and after erasure the bookings stay, under the member's id
    erased = gql(client, ERASE_ME, token=rider)["eraseMyData"]
    assert erased["__typename"] == "DataErased", erased
    after = my_data(client, rider)["rides"]
    assert [b["id"] for b in after["scheduled"]] == [b["id"] for b in scheduled]
    assert after["written"] == {}
