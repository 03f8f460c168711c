"""How fast the web app's pages render in a real browser, and how much they weigh.

The gateway runs embedded (in-memory stores, the in-process bus) on a thread, seeded with the
demo people of `muni up --demo` (gateway/demo.py) and a month of completed rides driven through
the rides application on a clock that walks from `--days` ago to now, so the board's chart has
a real month to draw. Debian's Chromium (Playwright with its executable path; no downloaded
browser) then loads each page `--runs` times, signed in as the person whose page it is:

- the rider's request page (`/ride`, as Ada), or the public `/fares` page where this checkout
  has no `/ride` yet (the output says which);
- the board's chart page (`/board`, as Emre: 30 days of `cityActivity`, Chart.js).

Per load, from the browser's own Performance API: first-contentful-paint; domInteractive (the
HTML is parsed); DOMContentLoaded's end, which we call *interactive*: every script is deferred,
so by then htmx and the page's script have run and the chart is drawn; and the load event's end.
Cold loads run with the cache disabled (DevTools protocol), warm loads are a second visit with
it on. Page weight is the bytes of HTML, JS and CSS, as transferred (compressed, headers
included) and decoded, from the navigation and resource timing entries.

    python -m bench.web_pages [--runs 5] [--days 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench.common import markdown_table, write_result
from gateway.app import create_app
from gateway.demo import seed
from kernel.config import Settings
from kernel.time import FixedClock
from services.rides.domain import Place
from tests.support.serve import serving

if TYPE_CHECKING:
    from gateway.runtime import Runtime
    from services.rides.application import Rides

CHROMIUM = os.environ.get("MUNI_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
# Trips around the demo city's centre (inside its service area).
TRIPS = [
    ((51.060, 3.710), (51.030, 3.750)),
    ((51.045, 3.730), (51.070, 3.690)),
    ((51.052, 3.700), (51.040, 3.760)),
]
METRICS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const kind = (name) => {
    const path = new URL(name).pathname;
    return path.endsWith('.js') ? 'js' : path.endsWith('.css') ? 'css' : 'other';
  };
  const weight = { html: { transfer: nav.transferSize, decoded: nav.decodedBodySize },
                   js: { transfer: 0, decoded: 0 }, css: { transfer: 0, decoded: 0 },
                   other: { transfer: 0, decoded: 0 } };
  for (const r of performance.getEntriesByType('resource')) {
    const w = weight[kind(r.name)];
    w.transfer += r.transferSize; w.decoded += r.decodedBodySize;
  }
  return { fcp: fcp ? fcp.startTime : null, domInteractive: nav.domInteractive,
           interactive: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, weight };
}"""


def month_of_rides(runtime: Runtime, clock: FixedClock, people: dict[str, Any], days: int) -> int:
    """Completed rides on each of the last `days` days (a weekly shape, busier on Fridays),
    through the rides application exactly as the drivers' taps would go; returns how many."""
    rides = cast("Rides", runtime.apps["rides"])
    rider = next(p["id"] for name, p in people.items() if name.startswith("Ada"))
    done = 0
    first_day = clock.now()
    for day in range(days):
        morning = first_day + timedelta(days=day)
        if clock.now() < morning:
            clock.advance(morning - clock.now())
        for n in range(3 + (day * 5) % 7 + (4 if day % 7 == 4 else 0)):
            (plat, plon), (dlat, dlon) = TRIPS[(day + n) % len(TRIPS)]
            ride_id = rides.request_ride(
                rider,
                pickup=Place(plat, plon),
                dropoff=Place(dlat, dlon),
                seats=1,
                wheelchair=False,
            )
            for _ in range(3):  # the matcher thread may have just spent a window
                clock.advance(timedelta(seconds=rides.city.rides.matching.batch_window_seconds))
                runtime.jobs["rides-batch"].tick()
                driver = rides.ride(ride_id).driver_id
                if driver is not None:
                    break
            else:
                raise RuntimeError(f"ride {ride_id} was never offered")
            rides.accept_ride(driver, ride_id)
            clock.advance(timedelta(minutes=6))
            rides.mark_picked_up(driver, ride_id)
            clock.advance(timedelta(minutes=12))
            rides.mark_dropped_off(driver, ride_id)
            done += 1
    return done


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/signin")
    page.locator("#f-login").fill(email)
    page.locator("#f-password").fill(password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def measure(
    browser: Any, url: str, path: str, person: dict[str, str] | None, runs: int
) -> dict[str, Any]:
    """`runs` cold loads (cache off) and as many warm ones (a second visit, cache on)."""
    loads: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    # Signed in once, the session reused by every run: a sign-in per run would meet the
    # sign-in rate limit (per address) once a few pages are measured.
    state = None
    if person is not None:
        signing = browser.new_context(viewport=VIEWPORT, locale="en", base_url=url)
        _sign_in(signing.new_page(), person["email"], person["password"])
        state = signing.storage_state()
        signing.close()
    for _ in range(runs):
        context = browser.new_context(
            viewport=VIEWPORT, locale="en", base_url=url, storage_state=state
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        for kind, disabled in (("cold", True), ("warm", False)):
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": disabled})
            answer = page.goto(path, wait_until="load")
            if answer is None or answer.status != 200:
                raise RuntimeError(f"{path} answered {answer and answer.status}")
            loads[kind].append(_metrics(page))
        context.close()
    return loads


def _metrics(page: Any, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """The load's figures, once the paint entry is there (polled from here: the pages' CSP
    forbids the string evaluation Playwright's wait_for_function would need)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found: dict[str, Any] = page.evaluate(METRICS)
        if found["fcp"] is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def summary(loads: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(float(load[key]) for load in loads)

    last = loads[-1]["weight"]
    return {
        "fcp_ms": median("fcp"),
        "dom_interactive_ms": median("domInteractive"),
        "interactive_ms": median("interactive"),
        "load_ms": median("load"),
        "weight_bytes": last,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="loads per page (cold and warm)")
    parser.add_argument("--days", type=int, default=30, help="days of rides for the chart")
    args = parser.parse_args(argv)
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    # The clock starts `days` ago and walks forward through the seeding (tokens are checked
    # against the wall clock, so it stays behind it).
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=args.days))
    settings = Settings(persistence="popo", cheap_password_hashing=True)
    app = create_app(settings, clock=clock)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, serving(app) as url:
        runtime: Runtime = app.state.runtime
        people = seed(runtime, Path(tmp))
        rides = month_of_rides(runtime, clock, people, args.days)
        board = next(p for p in people.values() if "board" in p["roles"].split(","))
        rider = next(p for name, p in people.items() if name.startswith("Ada"))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                probe = browser.new_page(base_url=url)
                _sign_in(probe, rider["email"], rider["password"])
                answer = probe.goto("/ride")
                has_ride = answer is not None and answer.status == 200
                probe.context.close()
                pages = {
                    "/ride (rider's request page)" if has_ride else "/fares (no /ride here yet)": (
                        "/ride" if has_ride else "/fares",
                        rider if has_ride else None,
                    ),
                    "/board (board's chart)": ("/board", board),
                }
                for label, (path, person) in pages.items():
                    results[label] = measure(browser, url, path, person, args.runs)
            finally:
                browser.close()
    rows = []
    payload: dict[str, Any] = {"runs": args.runs, "days": args.days, "rides": rides, "pages": {}}
    for label, loads in results.items():
        payload["pages"][label] = {kind: summary(found) for kind, found in loads.items()}
        payload["pages"][label]["loads"] = loads
        for kind in ("cold", "warm"):
            s = payload["pages"][label][kind]
            w = s["weight_bytes"]
            rows.append(
                [
                    label,
                    kind,
                    round(s["fcp_ms"]),
                    round(s["dom_interactive_ms"]),
                    round(s["interactive_ms"]),
                    round(s["load_ms"]),
                    f"{w['html']['decoded']:,} / {w['html']['transfer']:,}",
                    f"{w['js']['decoded']:,} / {w['js']['transfer']:,}",
                    f"{w['css']['decoded']:,} / {w['css']['transfer']:,}",
                ]
            )
    print(
        f"\nWeb pages in Chromium ({CHROMIUM}), {args.runs} loads each, {rides} rides seeded "
        f"over {args.days} days; medians in ms; bytes decoded / transferred\n"
    )
    headers = [
        "page",
        "cache",
        "FCP",
        "domInteractive",
        "interactive (DCL end)",
        "load",
        "HTML B",
        "JS B",
        "CSS B",
    ]
    print(markdown_table(headers, rows))
    written = write_result("web_pages", payload)
    print(f"\nwrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
