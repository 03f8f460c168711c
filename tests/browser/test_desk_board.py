"""The dispatcher's desk and the board's pages in Chromium, through the real pages: a dispatcher
finds a member, records their consent, books a ride for them and sees it in progress (table and
map); a board member opens the chart and the ledger and pages through it. axe on every page in
both languages and at both sizes; screenshots of the desk and the board's chart."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.members import member_with_roles, sign_in_in_browser
from tests.e2e.conftest import (
    ACCEPT,
    CANCEL,
    DROP_OFF,
    OFF_DUTY,
    ON_DUTY,
    PICK_UP,
    REGISTER,
    REQUEST,
)
from tests.support.accounts import GIVE_CONSENT, SIGN_IN

if TYPE_CHECKING:
    from tests.browser.conftest import Served

PICKUP = {"lat": 51.06, "lon": 3.71}
DROPOFF = {"lat": 51.03, "lon": 3.75}
BOOK_SCHEDULED = """
mutation Book($input: ScheduledRideInput!) {
  bookScheduledRide(input: $input) {
    __typename ... on Problem { message } ... on ScheduledRideChanged { ride { id } }
  }
}"""
RIDE_STATE = "query State($id: ID!) { ride(id: $id) { ... on Ride { state } } }"


def _as(gateway: Served, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))


def _token(gateway: Served, member: dict[str, str]) -> str:
    signed = _as(gateway, SIGN_IN, {"login": member["email"], "password": member["password"]})
    assert signed["__typename"] == "SignedIn", signed
    return str(signed["accessToken"])


def driver_on_duty(gateway: Served, name: str) -> str:
    """A driver (over GraphQL: this issue asks for no driver page here), on duty; their token.
    Tests here leave no driver on duty and no ride waiting, so a batch another test runs offers
    its ride to its own driver."""
    member = member_with_roles(gateway, name, "driver")
    token = _token(gateway, member)
    vehicle = {"seats": 4, "wheelchairAccessible": True, "vehicle": "green Kangoo"}
    _as(gateway, REGISTER, {"input": vehicle}, token)
    duty = _as(gateway, ON_DUTY, {"lat": 51.05, "lon": 3.72}, token)
    assert duty["__typename"] == "DriverChanged", duty
    return token


def complete_a_ride(gateway: Served, rider: str, driver: str) -> None:
    ride = _as(gateway, REQUEST, {"input": {"pickup": PICKUP, "dropoff": DROPOFF}}, rider)
    ride_id = ride["ride"]["id"]
    for _ in range(3):  # the matcher may spend a window just before the request
        gateway.run_batch()
        if _as(gateway, RIDE_STATE, {"id": ride_id}, rider)["state"] == "OFFERED":
            break
    else:
        raise AssertionError(f"ride {ride_id} was not offered")
    for command in (ACCEPT, PICK_UP, DROP_OFF):
        assert _as(gateway, command, {"id": ride_id}, driver)["__typename"] == "RideChanged"


@pytest.fixture(scope="module")
def board_member(gateway: Served) -> dict[str, str]:
    """A board member, after three completed rides: the chart and the ledger have lines."""
    driver = driver_on_duty(gateway, "Bram")
    rider = _token(gateway, member_with_roles(gateway, "Ada"))
    for _ in range(3):
        complete_a_ride(gateway, rider, driver)
    _as(gateway, OFF_DUTY, {}, driver)
    return member_with_roles(gateway, "Emre", "board")


def _on_some_page(page: Any, selector: str) -> Any:
    """The rows matching `selector` on the desk's list of rides in progress, following its
    pages: the list is the whole city's, longest waiting first (other tests' rides too), and a
    reload reads a write the list had not applied yet."""
    for _ in range(20):
        found = page.locator(selector)
        if found.count():
            return found
        following = page.locator("a[rel=next][href^='?after=']")  # the rides' next page
        if following.count():
            following.first.click()
        else:
            page.goto("/desk")
        page.wait_for_load_state()
    return page.locator(selector)


def test_a_dispatcher_books_for_a_member_who_consented(
    page: Any, gateway: Served, language: str, size: str
) -> None:
    chloe = driver_on_duty(gateway, "Chloe")
    grandma = member_with_roles(gateway, "Grandma")
    dina = member_with_roles(gateway, "Dina", "dispatcher")
    sign_in_in_browser(page, dina["email"], dina["password"])

    page.goto("/desk")
    assert_accessible(page)
    page.locator("#login").fill(grandma["email"])
    page.locator("form[action='/desk/find'] button[type=submit]").click()
    page.wait_for_url("**/desk/members/**")
    assert page.locator("#consent-state").get_attribute("class") == "notice notice-error"
    assert_accessible(page)

    page.locator("form[action$='/consent'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#consent-state").get_attribute("class") == "notice notice-success"
    assert page.locator("#notices .notice-success").count() == 1

    page.locator("#ride-pickup_lat").fill(str(PICKUP["lat"]))
    page.locator("#ride-pickup_lon").fill(str(PICKUP["lon"]))
    page.locator("#ride-dropoff_lat").fill(str(DROPOFF["lat"]))
    page.locator("#ride-dropoff_lon").fill(str(DROPOFF["lon"]))
    page.locator("form[action$='/ride'] button[formaction$='/quote']").click()
    page.locator("#quote").wait_for()  # the fare, read to the member; the form kept
    if language == "en":
        screenshot(page, "desk-member", size)
    assert page.locator("#ride-pickup_lat").input_value() == str(PICKUP["lat"])
    page.locator("form[action$='/ride'] button[type=submit]:not([formaction])").click()
    page.wait_for_url("**/desk")

    uuid = grandma["memberId"].split(":")[-1]
    row = _on_some_page(page, f"#rides-table tbody tr:has(a[href$='{uuid}'])")
    assert row.count() == 1
    assert page.locator("#drivers-table tbody tr").count() >= 1
    # The map is drawn from the tables: its points are there, and the tables stay the page.
    page.locator("#desk-map.leaflet-container").wait_for()
    assert page.locator("#desk-map path.leaflet-interactive").count() >= 3
    assert_accessible(page)
    if language == "en":
        screenshot(page, "desk", size)

    ride_id = row.locator("th code").get_attribute("title")
    row.locator("th a").click()  # the ride's own page: assign by hand, or cancel
    page.wait_for_url("**/desk/rides/**")
    assert page.locator("#driverId option").count() >= 2  # "choose", then the free drivers
    assert_accessible(page)
    dispatcher = _token(gateway, dina)
    cancelled = _as(gateway, CANCEL, {"id": ride_id}, dispatcher)
    assert cancelled["__typename"] == "RideChanged", cancelled
    _as(gateway, OFF_DUTY, {}, chloe)


def test_a_refused_booking_shows_by_the_field_and_books_nothing(
    page: Any, gateway: Served, language: str
) -> None:
    grandma = member_with_roles(gateway, "Grandpa")
    dina = member_with_roles(gateway, "Dina", "dispatcher")
    sign_in_in_browser(page, dina["email"], dina["password"])
    page.goto(f"/desk/members/{grandma['memberId']}")
    page.locator("#ride-pickup_lat").fill("0")
    page.locator("#ride-pickup_lon").fill("0")
    page.locator("#ride-dropoff_lat").fill("51.03")
    page.locator("#ride-dropoff_lon").fill("3.75")
    page.locator("form[action$='/ride'] button[type=submit]:not([formaction])").click()
    page.wait_for_load_state()
    # No consent yet: refused by name (above the form), nothing booked.
    assert page.locator("form[action$='/ride'] [role=alert]").is_visible()
    assert_accessible(page)
    page.goto("/desk")
    uuid = grandma["memberId"].split(":")[-1]
    assert page.locator(f"#rides-table a[href$='{uuid}']").count() == 0


def test_the_vehicles_pages_are_accessible(page: Any, gateway: Served, language: str) -> None:
    dina = member_with_roles(gateway, "Dina", "dispatcher")
    grandma = member_with_roles(gateway, "Grandma")
    desk = _token(gateway, dina)
    _as(gateway, GIVE_CONSENT, {"member": grandma["memberId"], "statement": "yes"}, desk)
    brussels = ZoneInfo("Europe/Brussels")
    tomorrow = (datetime.now(UTC).astimezone(brussels) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, time(9, 0), brussels)
    end = start + timedelta(minutes=40)
    booking = {
        "pickup": PICKUP,
        "dropoff": DROPOFF,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "onBehalfOf": grandma["memberId"],
    }
    booked = _as(gateway, BOOK_SCHEDULED, {"input": booking}, desk)
    assert booked["__typename"] == "ScheduledRideChanged", booked
    sign_in_in_browser(page, dina["email"], dina["password"])
    for path in (
        f"/desk/schedules?day={tomorrow}",
        f"/desk/schedules/van?day={tomorrow}",
        f"/desk/scheduled/{booked['ride']['id']}",
    ):
        page.goto(path)
        assert page.get_by_role("heading", level=1).count() == 1
        assert_accessible(page)


def test_a_board_member_opens_the_chart_and_pages_through_the_ledger(
    page: Any, board_member: dict[str, str], language: str, size: str
) -> None:
    sign_in_in_browser(page, board_member["email"], board_member["password"])
    page.goto("/board")
    page.locator("[data-chart-box]:not([hidden]) canvas").wait_for()
    assert page.evaluate("!!Chart.getChart(document.getElementById('activity-chart'))")
    total = page.locator("#activity-table tfoot td").first.inner_text()
    assert int(total) >= 3
    assert_accessible(page)
    if language == "en":
        screenshot(page, "board-chart", size)

    page.locator(".subnav a[href='/board/ledger']").click()
    page.wait_for_url("**/board/ledger")
    assert_accessible(page)
    page.goto("/board/ledger?first=4")
    first_rows = page.locator("#ledger-table tbody tr").all_inner_texts()
    assert len(first_rows) == 4
    page.locator("a[rel=next]").click()
    page.wait_for_url("**after=**")
    second_rows = page.locator("#ledger-table tbody tr").all_inner_texts()
    assert len(second_rows) == 4
    assert set(first_rows).isdisjoint(second_rows)

    page.locator(".subnav a[href='/board/balance']").click()
    page.wait_for_url("**/board/balance")
    assert_accessible(page)
    page.locator("#accounts-table tbody a").first.click()
    page.wait_for_url("**account=**")
    accounts = set(page.locator("#ledger-table tbody th").all_inner_texts())
    assert len(accounts) == 1
    assert_accessible(page)


def test_the_boards_other_pages_are_accessible(
    page: Any, board_member: dict[str, str], language: str
) -> None:
    sign_in_in_browser(page, board_member["email"], board_member["password"])
    for path in ("/board/parked", "/board/audit", "/board?from=2026-12-05&to=2026-12-01"):
        page.goto(path)
        assert page.get_by_role("heading", level=1).count() == 1
        assert_accessible(page)
