"""Scheduled rides over GraphQL: a rider books days ahead, the desk books for a member who
consented, a booking that cannot fit is refused with the nearest windows, a week's series, and
the desk's and driver's views of the van's day. Bad input is a typed answer that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import PROBLEM, join, token_with
from tests.support.accounts import GIVE_CONSENT
from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Brussels")
HOME = {"lat": 51.09, "lon": 3.68}
CLINIC = {"lat": 51.04, "lon": 3.73}
SCHEDULED_PROBLEM = f"""
  {PROBLEM}
  ... on BookingDoesNotFit {{ reason nearestWindows {{ start end }} }}
  ... on ScheduledRideNotFound {{ rideId }}
  ... on ScheduledRideCancelled {{ rideId action }}
  ... on NoConsent {{ memberId }}
"""
RIDE = """id riderId bookedBy day state window { start end } seats wheelchair seriesId
          vehicleId plannedPickupAt"""
BOOK = f"""
mutation Book($input: ScheduledRideInput!) {{
  bookScheduledRide(input: $input) {{
    {SCHEDULED_PROBLEM} ... on ScheduledRideChanged {{ position ride {{ {RIDE} }} }}
  }}
}}"""
RECURRING = f"""
mutation Series($input: ScheduledRideInput!, $weeks: Int!) {{
  bookRecurringRide(input: $input, weeks: $weeks) {{
    {SCHEDULED_PROBLEM}
    ... on RecurringRideBooked {{
      seriesId position booked {{ {RIDE} }} refused {{ day reason nearestWindows {{ start }} }}
    }}
  }}
}}"""
CANCEL = f"""
mutation Cancel($id: ID!) {{
  cancelScheduledRide(rideId: $id) {{
    {SCHEDULED_PROBLEM} ... on ScheduledRideChanged {{ position ride {{ {RIDE} }} }}
  }}
}}"""
CHANGE = f"""
mutation Change($id: ID!, $window: PickupWindowInput!) {{
  changeScheduledRide(rideId: $id, window: $window) {{
    {SCHEDULED_PROBLEM} ... on ScheduledRideChanged {{ position ride {{ {RIDE} }} }}
  }}
}}"""
MINE = f"""
query Mine($seen: String) {{
  myScheduledRides(seen: $seen) {{
    {SCHEDULED_PROBLEM} ... on ScheduledRideViewConnection {{ nodes {{ {RIDE} }} }}
  }}
}}"""
SCHEDULES = f"""
query Schedules($day: Date!, $seen: String) {{
  vehicleSchedules(day: $day, seen: $seen) {{
    {SCHEDULED_PROBLEM}
    ... on VehicleScheduleConnection {{
      pageInfo {{ hasNextPage }}
      nodes {{ vehicleId seats wheelchairPlaces km stops {{ seq kind rideId at lat lon }} }}
    }}
  }}
}}"""
ROUTE = f"""
query Route($vehicle: String!, $day: Date!, $seen: String) {{
  vehicleRoute(vehicleId: $vehicle, day: $day, seen: $seen) {{
    {SCHEDULED_PROBLEM}
    ... on VehicleSchedule {{ vehicleId km path stops {{ kind rideId arrivalAt at lat lon }} }}
  }}
}}"""


def in_days(clock: FixedClock, days: int, hour: int, minute: int = 0) -> datetime:
    local = clock.now().astimezone(TZ) + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def window(start: datetime, minutes: int = 30) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}


def ride_input(start: datetime, **extra: Any) -> dict[str, Any]:
    return {"pickup": HOME, "dropoff": CLINIC, "window": window(start), **extra}


def book(client: TestClient, token: str, start: datetime, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, BOOK, {"input": ride_input(start, **extra)}, token=token)[
        "bookScheduledRide"
    ]
    return answer


def mine(client: TestClient, token: str, seen: str | None = None) -> list[dict[str, Any]]:
    answer = gql(client, MINE, {"seen": seen}, token=token)["myScheduledRides"]
    assert answer["__typename"] == "ScheduledRideViewConnection", answer
    nodes: list[dict[str, Any]] = answer["nodes"]
    return nodes


def test_a_rider_books_days_ahead_and_sees_the_planned_pickup(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    rider_id, rider = join(client, "Ines")
    start = in_days(e2e_clock, 3, 9)

    booked = book(client, rider, start)

    assert booked["__typename"] == "ScheduledRideChanged", booked
    ride = booked["ride"]
    assert (ride["riderId"], ride["bookedBy"], ride["state"]) == (rider_id, None, "BOOKED")
    assert ride["vehicleId"] == "van"
    planned = datetime.fromisoformat(ride["plannedPickupAt"])
    assert start - timedelta(seconds=1) <= planned <= start + timedelta(minutes=30, seconds=1)
    assert [r["id"] for r in mine(client, rider, booked["position"])] == [ride["id"]]


def test_the_desk_books_for_a_member_who_consented_and_sees_the_vans_day(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    grandma_id, grandma = join(client, "Grandma")
    desk_id, _ = join(client, "Dispatcher")
    desk = token_with(client, desk_id, "dispatcher")
    start = in_days(e2e_clock, 2, 10)

    refused = book(client, desk, start, onBehalfOf=grandma_id)
    assert refused["__typename"] == "NoConsent", refused
    assert mine(client, grandma) == []

    consent = gql(
        client, GIVE_CONSENT, {"member": grandma_id, "statement": "book the van for me"}, token=desk
    )["giveConsent"]
    assert consent["__typename"] == "Consent", consent
    booked = book(client, desk, start, onBehalfOf=grandma_id)
    assert booked["__typename"] == "ScheduledRideChanged", booked
    assert (booked["ride"]["riderId"], booked["ride"]["bookedBy"]) == (grandma_id, desk_id)

    day = start.date().isoformat()
    schedules = gql(client, SCHEDULES, {"day": day, "seen": booked["position"]}, token=desk)[
        "vehicleSchedules"
    ]
    assert schedules["__typename"] == "VehicleScheduleConnection", schedules
    (van,) = schedules["nodes"]
    assert (van["vehicleId"], van["seats"], van["wheelchairPlaces"]) == ("van", 7, 1)
    assert [s["kind"] for s in van["stops"]] == ["start", "pickup", "dropoff", "end"]
    assert van["km"] > 0

    # A driver reads the van's route for the map: ordered stops with times and coordinates.
    driver_id, _ = join(client, "Van driver")
    driver = token_with(client, driver_id, "driver")
    route = gql(client, ROUTE, {"vehicle": "van", "day": day}, token=driver)["vehicleRoute"]
    assert route["__typename"] == "VehicleSchedule", route
    assert route["path"][1] == [HOME["lon"], HOME["lat"]]
    assert route["stops"][1]["rideId"] == booked["ride"]["id"]
    times = [datetime.fromisoformat(s["at"]) for s in route["stops"]]
    assert times == sorted(times)

    # A plain member sees no schedule.
    denied = gql(client, ROUTE, {"vehicle": "van", "day": day}, token=grandma)["vehicleRoute"]
    assert denied["__typename"] == "NotAuthorized", denied


def test_a_full_window_is_refused_with_the_nearest_windows_that_fit(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    start = in_days(e2e_clock, 4, 11)
    riders = [join(client, f"Rider {k}")[1] for k in range(4)]
    for token in riders[:3]:
        assert book(client, token, start, seats=2)["__typename"] == "ScheduledRideChanged"
    # Six seats are taken around 11:00; three more people do not fit beside them.
    desk = token_with(client, join(client, "Desk")[0], "dispatcher")
    day = {"day": start.date().isoformat()}
    before = gql(client, SCHEDULES, day, token=desk)["vehicleSchedules"]["nodes"]

    refused = book(client, riders[3], start, seats=3)

    assert refused["__typename"] == "BookingDoesNotFit", refused
    # The refusal changed nothing.
    assert gql(client, SCHEDULES, day, token=desk)["vehicleSchedules"]["nodes"] == before
    assert mine(client, riders[3]) == []
    assert refused["reason"] == "no_room_in_window"
    nearest = [datetime.fromisoformat(w["start"]) for w in refused["nearestWindows"]]
    assert nearest
    assert all(w != start for w in nearest)
    # One of the windows offered is then booked as it stands.
    took = book(client, riders[3], nearest[0], seats=3)
    assert took["__typename"] == "ScheduledRideChanged", took


def test_a_weekly_seat_books_each_week_as_its_own_ride_and_one_is_cancelled_alone(
    client: TestClient, e2e_clock: FixedClock
) -> None:
    _, rider = join(client, "Tomas")
    start = in_days(e2e_clock, 1, 14)

    series = gql(client, RECURRING, {"input": ride_input(start), "weeks": 3}, token=rider)[
        "bookRecurringRide"
    ]

    assert series["__typename"] == "RecurringRideBooked", series
    assert series["refused"] == []
    days = [r["day"] for r in series["booked"]]
    assert days == [(start + timedelta(weeks=k)).date().isoformat() for k in range(3)]
    assert {r["seriesId"] for r in series["booked"]} == {series["seriesId"]}

    second = series["booked"][1]["id"]
    cancelled = gql(client, CANCEL, {"id": second}, token=rider)["cancelScheduledRide"]
    assert cancelled["__typename"] == "ScheduledRideChanged", cancelled
    states = {r["id"]: r["state"] for r in mine(client, rider, cancelled["position"])}
    assert list(states.values()).count("CANCELLED") == 1
    assert states[second] == "CANCELLED"

    again = gql(client, CANCEL, {"id": second}, token=rider)["cancelScheduledRide"]
    assert again["__typename"] == "ScheduledRideCancelled", again

    # Another member cannot touch it, nor learn that it exists.
    _, other = join(client, "Other")
    first = series["booked"][0]["id"]
    hidden = gql(client, CANCEL, {"id": first}, token=other)["cancelScheduledRide"]
    assert hidden["__typename"] == "ScheduledRideNotFound", hidden

    moved = gql(
        client, CHANGE, {"id": first, "window": window(start + timedelta(hours=1))}, token=rider
    )["changeScheduledRide"]
    assert moved["__typename"] == "ScheduledRideChanged", moved
    assert datetime.fromisoformat(moved["ride"]["window"]["start"]) == (
        start + timedelta(hours=1)
    ).astimezone(UTC)


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("past", "window"),
        ("ends_before_start", "window"),
        ("outside_area", "pickup"),
        ("outside_hours", "window"),
        ("no_offset", "window"),
        ("seats", "seats"),
    ],
)
def test_bad_input_is_a_typed_answer_that_changes_nothing(
    client: TestClient, e2e_clock: FixedClock, case: str, field: str
) -> None:
    _, rider = join(client, "Bad input")
    start = in_days(e2e_clock, 2, 9)
    sent = ride_input(start)
    if case == "past":
        sent["window"] = window(e2e_clock.now() - timedelta(hours=1))
    elif case == "ends_before_start":
        sent["window"] = {
            "start": start.isoformat(),
            "end": (start - timedelta(minutes=20)).isoformat(),
        }
    elif case == "outside_area":
        sent["pickup"] = {"lat": 0.0, "lon": 0.0}
    elif case == "outside_hours":
        sent["window"] = window(in_days(e2e_clock, 2, 23))
    elif case == "no_offset":
        sent["window"] = {
            "start": start.replace(tzinfo=None).isoformat(),
            "end": (start + timedelta(minutes=30)).replace(tzinfo=None).isoformat(),
        }
    elif case == "seats":
        sent["seats"] = 40

    answer = gql(client, BOOK, {"input": sent}, token=rider)["bookScheduledRide"]

    assert answer["__typename"] == "InvalidInput", answer
    assert answer["field"] == field
    assert mine(client, rider) == []
