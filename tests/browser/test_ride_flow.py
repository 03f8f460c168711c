"""The ride, through the real pages: a member signs up, picks pickup and drop-off on the map,
sees the fare, requests the ride and watches it offered, accepted and completed LIVE (server-sent
events, no reload) while a second browser context plays the driver through the driver's pages
(register the vehicle, go on duty at a map click, the offer with why it came, accept, pick up,
drop off). The batch matcher runs on the app's FixedClock: the test ticks one window at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import SIZES, assert_accessible, screenshot
from tests.browser.members import member_with_roles, sign_in_in_browser, sign_up_in_browser

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.browser.conftest import Served

# What each side reads, by language.
SAYS = {
    "en": {
        "fare": "Show the fare",
        "request": "Request this ride",
        "waiting": "Waiting for a driver",
        "offered": "Offered to a driver",
        "accepted": "A driver is on the way",
        "on_board": "On the way to your drop-off",
        "completed": "Completed",
        "register": "Register my vehicle",
        "on_duty": "Go on duty",
        "why": "Why this ride came to you:",
        "accept": "Accept",
        "picked_up": "Rider picked up",
        "dropped_off": "Rider dropped off",
        "split": "Where your fare goes",
        "off_duty": "Go off duty",
    },
    "nl": {
        "fare": "Toon de ritprijs",
        "request": "Vraag deze rit aan",
        "waiting": "Wachten op een chauffeur",
        "offered": "Aangeboden aan een chauffeur",
        "accepted": "Er is een chauffeur onderweg",
        "on_board": "Onderweg naar je bestemming",
        "completed": "Afgerond",
        "register": "Registreer mijn voertuig",
        "on_duty": "In dienst gaan",
        "why": "Waarom deze rit naar jou kwam:",
        "accept": "Aanvaarden",
        "picked_up": "Passagier opgehaald",
        "dropped_off": "Passagier afgezet",
        "split": "Waar je ritprijs naartoe gaat",
        "off_duty": "Uit dienst gaan",
    },
}
LIVE = "#ride-live"


@pytest.fixture
def contexts(browser: Any, gateway: Served, language: str) -> Iterator[tuple[Any, Any]]:
    """Two browsers' contexts at desktop size in `language`: the rider's and the driver's."""
    made = [
        browser.new_context(viewport=SIZES["desktop"], locale=language, base_url=gateway.url)
        for _ in range(2)
    ]
    yield made[0].new_page(), made[1].new_page()
    for context in made:
        context.close()


def click_map(page: Any, dx: int, dy: int) -> None:
    """Click the map `dx`, `dy` pixels from its centre (where the service area is drawn)."""
    # Shown (and drawn) by rides.js once the deferred scripts have run.
    page.locator("[data-map] .leaflet-interactive").first.wait_for()
    box = page.locator("[data-map] .map").bounding_box()
    page.locator("[data-map] .map").click(
        position={"x": box["width"] / 2 + dx, "y": box["height"] / 2 + dy}
    )


def leave_nothing_open(rider: Any, ride_url: str, driver: Any, says: dict[str, str]) -> None:
    """After a failure too: the ride cancelled and the driver off duty, so the other tests'
    batches (one gateway for the session) are their own. Nothing to do after a success."""
    rider.goto(ride_url)
    cancel = rider.locator("#ride-live form[action$='/cancel'] button")
    if cancel.count():
        cancel.click()
    driver.goto("/drive")
    off = driver.get_by_role("button", name=says["off_duty"])
    if off.count():
        off.click()


def live_text(page: Any, text: str, timeout_ms: int = 15_000) -> None:
    """Wait until the live region shows `text` (swapped in by htmx-ext-sse, not a reload)."""
    page.locator(LIVE).get_by_text(text, exact=False).first.wait_for(timeout=timeout_ms)


def test_a_ride_is_requested_and_followed_live_while_the_driver_drives_it(
    contexts: tuple[Any, Any], gateway: Served, language: str
) -> None:
    says = SAYS[language]
    rider, driver = contexts

    # The rider signs up through the page and picks both points on the map.
    sign_up_in_browser(rider, "Rosa <i>Rijder</i>")
    rider.goto("/ride")
    click_map(rider, -40, -30)
    click_map(rider, 40, 30)
    for field in ("pickup_lat", "pickup_lon", "dropoff_lat", "dropoff_lon"):
        assert rider.locator(f"#{field}").input_value(), field
    rider.get_by_role("button", name=says["fare"]).click()
    assert rider.locator(".quote .fare").inner_text().strip()
    rider.get_by_role("button", name=says["request"]).click()
    rider.wait_for_url("**/ride/*")
    ride_url = rider.url
    try:
        live_text(rider, says["waiting"])
        rider.evaluate("window.stillTheSamePage = true")  # gone if the page ever reloads

        # The driver signs in, registers the vehicle and goes on duty where they click the map.
        login = member_with_roles(gateway, "Dirk Driver", "driver")
        sign_in_in_browser(driver, login["email"], login["password"])
        driver.goto("/drive")
        driver.get_by_role("button", name=says["register"]).click()
        driver.get_by_role("button", name=says["on_duty"]).wait_for()
        click_map(driver, 10, 5)
        assert driver.locator("#position_lat").input_value()
        driver.get_by_role("button", name=says["on_duty"]).click()
        driver.wait_for_url("**/drive")

        # The next batch window offers the ride to the driver: both pages show it live.
        for _ in range(5):
            gateway.run_batch()
            try:
                live_text(rider, says["offered"], timeout_ms=3_000)
                break
            except PlaywrightTimeout:
                continue
        live_text(rider, says["offered"])
        offer = driver.locator("#drive-live")
        offer.get_by_text(says["why"]).wait_for(timeout=15_000)

        # The driver acts through plain forms; the rider's page follows without reloading.
        offer.get_by_role("button", name=says["accept"]).click()
        live_text(rider, says["accepted"])
        driver.locator("#drive-live").get_by_role("button", name=says["picked_up"]).click()
        live_text(rider, says["on_board"])
        driver.locator("#drive-live").get_by_role("button", name=says["dropped_off"]).click()
        live_text(rider, says["completed"])
        live_text(rider, says["split"])
        assert rider.evaluate("window.stillTheSamePage") is True
        # The member's name, typed with HTML in it, shows as text wherever it shows.
        assert rider.locator("i").filter(has_text="Rijder").count() == 0
        assert_accessible(rider)
        if language == "en":
            screenshot(rider, "ride-completed", "desktop")
        # The driver goes off duty, so later tests' batches are their own.
        driver.get_by_role("button", name=says["off_duty"]).click()
        driver.get_by_role("button", name=says["on_duty"]).wait_for()
    finally:
        leave_nothing_open(rider, ride_url, driver, says)
