"""Every rider and driver page, in both languages at phone and desktop size: axe finds no
serious or critical violation, the forms work by keyboard alone, and the main pages are
screenshotted (English) for the README. Each test leaves nothing open (rides cancelled, the
driver off duty), so the shared gateway's batches stay the other tests' own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.members import member_with_roles, sign_in_in_browser
from tests.e2e.conftest import CANCEL, REQUEST
from tests.support.accounts import PASSWORD, SIGN_IN

if TYPE_CHECKING:
    from tests.browser.conftest import Served

FARE = {"en": "Show the fare", "nl": "Toon de ritprijs"}
REQUEST_IT = {"en": "Request this ride", "nl": "Vraag deze rit aan"}
CANCEL_IT = {"en": "Cancel this ride", "nl": "Deze rit annuleren"}
REGISTER = {"en": "Register my vehicle", "nl": "Registreer mijn voertuig"}
ON_DUTY = {"en": "Go on duty", "nl": "In dienst gaan"}
OFF_DUTY = {"en": "Go off duty", "nl": "Uit dienst gaan"}
WHY = {"en": "Why this ride came to you:", "nl": "Waarom deze rit naar jou kwam:"}
# The driver waits exactly where the test's rider is picked up: the nearest, whoever else is on.
HERE = {"lat": 51.0, "lon": 3.7}


def _gql(gateway: Served, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    return next(iter(answer["data"].values()))


def test_the_rider_pages_by_keyboard(page: Any, gateway: Served, language: str, size: str) -> None:
    login = member_with_roles(gateway, "Kaat")
    sign_in_in_browser(page, login["email"], login["password"])
    page.goto("/ride")
    assert_accessible(page)
    # Keyboard alone: type the coordinates, Enter sends the form.
    page.locator("#pickup_lat").focus()
    for field, value in (
        ("pickup_lat", "51.06"),
        ("pickup_lon", "3.71"),
        ("dropoff_lat", "51.03"),
        ("dropoff_lon", "3.75"),
    ):
        assert page.evaluate("document.activeElement.id") == field
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(".quote .fare").wait_for()
    assert page.get_by_role("button", name=REQUEST_IT[language]).is_visible()
    assert_accessible(page)
    if language == "en":
        screenshot(page, "ride-quote", size)
    page.get_by_role("button", name=REQUEST_IT[language]).click()
    page.wait_for_url("**/ride/*")
    assert_accessible(page)
    if language == "en":
        screenshot(page, "ride-status", size)
    page.get_by_role("button", name=CANCEL_IT[language]).click()
    page.wait_for_url("**/ride/*")
    page.goto("/rides")
    assert page.locator("tbody tr").count() == 1
    assert_accessible(page)
    if language == "en":
        screenshot(page, "my-rides", size)


def test_a_refused_quote_is_accessible_and_names_its_field(
    page: Any, gateway: Served, language: str, size: str
) -> None:
    login = member_with_roles(gateway, "Lien")
    sign_in_in_browser(page, login["email"], login["password"])
    page.goto("/ride?quote=1&pickup_lat=50.85&pickup_lon=4.35&dropoff_lat=51.03&dropoff_lon=3.75")
    error = page.locator("#pickup-error")
    assert error.is_visible()
    assert page.locator("#pickup_lat").get_attribute("aria-describedby") == "pickup-error"
    assert_accessible(page)


def test_the_driver_pages(page: Any, gateway: Served, language: str, size: str) -> None:
    login = member_with_roles(gateway, "Mats", "driver")
    sign_in_in_browser(page, login["email"], login["password"])
    page.goto("/drive")
    assert_accessible(page)  # the registration form
    page.get_by_role("button", name=REGISTER[language]).click()
    page.get_by_role("button", name=ON_DUTY[language]).wait_for()
    assert_accessible(page)  # off duty: the map and the position form
    page.locator("#position_lat").fill(str(HERE["lat"]))
    page.locator("#position_lon").fill(str(HERE["lon"]))
    page.get_by_role("button", name=ON_DUTY[language]).click()
    page.get_by_role("button", name=OFF_DUTY[language]).wait_for()

    rider = member_with_roles(gateway, "Nina")
    token = _gql(gateway, SIGN_IN, {"login": rider["email"], "password": PASSWORD})["accessToken"]
    place = {"lat": HERE["lat"], "lon": HERE["lon"]}
    ride = _gql(
        gateway,
        REQUEST,
        {"input": {"pickup": place, "dropoff": {"lat": 51.03, "lon": 3.75}}},
        token,
    )["ride"]
    try:
        offer = page.locator("#drive-live").get_by_text(WHY[language])
        for _ in range(5):
            gateway.run_batch()
            try:
                offer.wait_for(timeout=3_000)
                break
            except PlaywrightTimeout:  # the matcher spent that window: tick again
                continue
        offer.wait_for(timeout=10_000)  # arrived live, over server-sent events
        assert_accessible(page)
        if language == "en":
            screenshot(page, "drive-offer", size)
    finally:
        _gql(gateway, CANCEL, {"id": ride["id"]}, token)
    page.goto("/drive")
    page.get_by_role("button", name=OFF_DUTY[language]).click()
    page.get_by_role("button", name=ON_DUTY[language]).wait_for()
    for path in ("/drives", "/drive/credits"):
        page.goto(path)
        assert page.get_by_role("heading", level=1).is_visible()
        assert_accessible(page)
