"""Browser fixtures: the real gateway served by uvicorn on a thread (embedded popo settings, as
tests/e2e), Debian's chromium driven by Playwright (never a downloaded browser), contexts at
phone (390x844) and desktop (1280x800) size per language, axe-core and screenshots.

Every test here is marked `browser` and put in one xdist group, so one worker runs them all with
one browser. A missing chromium fails the run when MUNI_REQUIRE_SERVERS=1, else skips.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, past_clock
from tests.support.serve import serving
from tests.support.servers import unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock

CHROMIUM = os.environ.get("MUNI_CHROMIUM", "/usr/bin/chromium")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@dataclass(frozen=True)
class Served:
    """The gateway the browser tests talk to: its URL, the Starlette app (its runtime at
    `app.state.runtime`) and the FixedClock it runs on, which a test advances (a batch window,
    an offer's lapse) as tests/e2e do."""

    url: str
    app: Any
    clock: FixedClock

    def run_batch(self) -> None:
        """One batch window on the app's clock, then the city's batch, so waiting rides are
        offered (the matcher thread runs on the same clock; the runner's lock makes them one)."""
        runtime = self.app.state.runtime
        rides = runtime.apps["rides"]
        self.clock.advance(timedelta(seconds=rides.city.rides.matching.batch_window_seconds))
        runtime.jobs["rides-batch"].tick()


@pytest.fixture(scope="session")
def gateway() -> Iterator[Served]:
    clock = past_clock()
    app = create_app(SETTINGS, clock=clock)
    with serving(app) as url:
        yield Served(url, app, clock)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Every browser test comes from 127.0.0.1 to one gateway: start each with fresh counts, so
    one test's sign-ups never rate-limit the next (the limits themselves stay on)."""
    if "gateway" in request.fixturenames or "base_url" in request.fixturenames:
        limiter = request.getfixturevalue("gateway").app.state.limiter
        if limiter is not None:
            limiter.reset()


@pytest.fixture(scope="session")
def base_url(gateway: Served) -> str:
    return gateway.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        unavailable("Debian's chromium", "run infra/browser.sh (apt-get install chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield found
        found.close()


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["en", "nl"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Any, base_url: str, size: str, language: str) -> Iterator[Any]:
    """A page in a fresh context (no cookies) at `size`, whose browser prefers `language`."""
    context = browser.new_context(viewport=SIZES[size], locale=language, base_url=base_url)
    found = context.new_page()
    yield found
    context.close()


def assert_accessible(page: Any) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad


def screenshot(page: Any, name: str, size: str) -> Path:
    """docs/screenshots/<name>-<phone|desktop>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
