"""Web pages in Chromium: time to first render, time to interactive, and page weight.

    python -m bench.web_pages --runs 7

Serves the embedded gateway (in-memory stores) with the demo city's people (`muni up --demo`'s
seeding: a rider, two drivers on duty, a dispatcher, a board member), signs the rider in through
the sign-in page, then opens each page `--runs` times in a fresh browser context (a cold cache
every time) in Debian's Chromium, headless, on this machine, and reads the browser's own
timings:

- first render: the first contentful paint (`performance.getEntriesByType("paint")`);
- interactive: when the page's own script has made it usable, a selector per page (the rider's
  map drawn with its service area: `[data-map] .leaflet-interactive`), else DOMContentLoaded
  (the deferred scripts have run by then);
- weight: bytes of HTML, JS and CSS (and images) over the wire, from the navigation and
  resource timing entries (`encodedBodySize`; the gateway does not compress).

A page is `path` or `path|ready-selector`; the defaults are the rider's request page, empty and
with a quote. Other areas add theirs with `--page` (the board's chart page, say).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from bench.common import markdown_table, write_result
from gateway.app import create_app
from gateway.demo import seed
from kernel.config import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

CHROMIUM = os.environ.get("MUNI_CHROMIUM", "/usr/bin/chromium")
MAP_READY = "[data-map] .leaflet-interactive"
QUOTE = "pickup_lat=51.06&pickup_lon=3.71&dropoff_lat=51.03&dropoff_lon=3.75&quote=1"
PAGES = [f"/ride|{MAP_READY}", f"/ride?{QUOTE}|{MAP_READY}"]
RIDER = "Ada (rider)"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}

TIMINGS = """async () => {
  // The first contentful paint may be reported a frame after "load": wait for it (5 s at most).
  const paint = await new Promise((resolve) => {
    const seen = performance.getEntriesByName("first-contentful-paint")[0];
    if (seen) return resolve(seen);
    new PerformanceObserver((list) => resolve(list.getEntries()[0]))
      .observe({type: "paint", buffered: true});
    setTimeout(() => resolve(null), 5000);
  });
  const nav = performance.getEntriesByType("navigation")[0];
  const bytes = {html: nav.encodedBodySize, js: 0, css: 0, img: 0, other: 0};
  for (const r of performance.getEntriesByType("resource")) {
    const path = new URL(r.name).pathname;
    const kind = path.endsWith(".js") ? "js" : path.endsWith(".css") ? "css"
      : /\\.(png|svg|jpg|gif|webp)$/.test(path) ? "img" : "other";
    bytes[kind] += r.encodedBodySize;
  }
  return {
    ttfb: nav.responseStart, dom: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    fcp: paint ? paint.startTime : null, bytes: bytes,
  };
}"""


@contextlib.contextmanager
def served(data_dir: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """The embedded gateway on a free port, seeded with the demo people."""
    people: dict[str, dict[str, str]] = {}
    app = create_app(
        Settings(persistence="popo", cheap_password_hashing=True),
        on_ready=lambda runtime: people.update(seed(runtime, data_dir)),
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", people
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def measure(browser: Any, url: str, state: Any, page_spec: str, size: str) -> dict[str, Any]:
    path, _, ready = page_spec.partition("|")
    context = browser.new_context(viewport=SIZES[size], base_url=url, storage_state=state)
    try:
        page = context.new_page()
        page.goto(path, wait_until="load")
        interactive = None
        if ready:
            page.wait_for_selector(ready, state="attached", timeout=30_000)
            interactive = page.evaluate("performance.now()")
        found: dict[str, Any] = page.evaluate(TIMINGS)
        found["interactive"] = interactive if interactive is not None else found["dom"]
        return found
    finally:
        context.close()


def label(spec: str) -> str:
    """A page's name in the table: its path, and `?quote` for the quoted request page."""
    path = spec.partition("|")[0]
    base, _, query = path.partition("?")
    return f"{base}?quote" if "quote=1" in query else (f"{base}?…" if query else base)


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def ms(key: str) -> dict[str, float]:
        values = sorted(float(r[key]) for r in runs if r[key] is not None)
        if not values:
            return {"median_ms": float("nan"), "max_ms": float("nan")}
        return {
            "median_ms": round(statistics.median(values), 1),
            "max_ms": round(values[-1], 1),
        }

    return {
        "first_render": ms("fcp"),
        "interactive": ms("interactive"),
        "ttfb": ms("ttfb"),
        "bytes": runs[-1]["bytes"],
        "runs": len(runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web_pages", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--page", action="append", help="path[|ready selector]; repeatable")
    parser.add_argument(
        "--as", dest="person", default=RIDER, help=f"the demo person to sign in as ({RIDER!r})"
    )
    args = parser.parse_args(argv)
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        raise SystemExit("no chromium: run infra/browser.sh (apt-get install chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    pages = args.page or PAGES
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as data_dir,
        served(Path(data_dir)) as (url, people),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        rider = people[args.person]
        signing = browser.new_context(base_url=url)
        page = signing.new_page()
        page.goto("/signin")
        page.locator("#f-login").fill(rider["email"])
        page.locator("#f-password").fill(rider["password"])
        page.locator("form[action='/signin'] button[type=submit]").click()
        page.wait_for_url(lambda u: "/signin" not in u)
        state = signing.storage_state()
        signing.close()
        for spec in pages:
            for size in SIZES:
                measure(browser, url, state, spec, size)  # warm the server, not the browser
                runs = [measure(browser, url, state, spec, size) for _ in range(args.runs)]
                results[f"{label(spec)} ({size})"] = summary(runs)
        browser.close()
    rows = [
        [
            name,
            r["first_render"]["median_ms"],
            r["interactive"]["median_ms"],
            r["interactive"]["max_ms"],
            r["bytes"]["html"],
            r["bytes"]["js"],
            r["bytes"]["css"],
        ]
        for name, r in results.items()
    ]
    headers = [
        "page",
        "first render ms (median)",
        "interactive ms (median)",
        "interactive ms (max)",
        "HTML bytes",
        "JS bytes",
        "CSS bytes",
    ]
    print(markdown_table(headers, rows))
    path = write_result("web_pages", {"runs": args.runs, "pages": results})
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
