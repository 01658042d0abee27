"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, against a real
``python -m backend`` subprocess (``server_process`` from tests/conftest.py).

The tests skip (with the reason) only when ``/usr/bin/chromium`` or the ``playwright`` package is
missing; ``./scripts/test`` installs both.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


class Chromium:
    """The headless Chromium the browser tests share, launched again if it has died (a
    browser crash then fails the test it happened in, not every later one)."""

    def __init__(self, playwright) -> None:
        self._playwright = playwright
        self._browser = None
        self.launches = 0

    def live(self):
        """The running browser, relaunched first when it is gone."""
        if self._browser is None or not self._browser.is_connected():
            if self._browser is not None:
                print("Chromium died during an earlier test: launching it again",
                      file=sys.stderr)
            self._browser = self._playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                             args=CHROMIUM_ARGS)
            self.launches += 1
        return self._browser

    def launch_blocking_popups(self):
        """A browser of its own that blocks popups as a user's does (Playwright turns the
        blocker off by default): ``window.open`` then works only during a click's user
        activation. The caller closes it."""
        return self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            ignore_default_args=["--disable-popup-blocking"])

    def close(self) -> None:
        if self._browser is not None and self._browser.is_connected():
            self._browser.close()


@pytest.fixture(scope="package")  # not session: Playwright's sync API keeps an event loop
def chromium():                     # running, which breaks every later async test
    """One headless Chromium for the browser tests (each test opens its own contexts)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to run the browser tests")
    if not DIST_INDEX.exists():
        pytest.skip("frontend/dist is not built: run `cd frontend && npm ci && npm run build`")
    with sync_api.sync_playwright() as playwright:
        shared = Chromium(playwright)
        yield shared
        shared.close()


@pytest.fixture
def browser(chromium):
    """The shared Chromium, alive at the start of the test."""
    return chromium.live()


@pytest.fixture
def server(server_process):
    """A fresh syncboard server subprocess for one test (tests that kill or restart it)."""
    return server_process()


@pytest.fixture
def open_board(browser, request):
    """Factory: ``open_board(server, board_id, name)`` opens the board page in a new browser
    context (its own storage, so its own IndexedDB) and waits until it has synced.
    ``controlled_clock=True`` installs Playwright's clock first, so the test can pause the
    page's timers."""
    contexts = []

    def open_page(server, board_id: str, name: str, color: str = "#e03131", wait_synced=True,
                  controlled_clock=False):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        if controlled_clock:  # Playwright's clock: time runs as usual until a test pauses it
            context.clock.install()
        context.add_init_script(
            f"localStorage.setItem('syncboard:name', {json.dumps(name)});"
            f"localStorage.setItem('syncboard:color', {json.dumps(color)});"
        )
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda msg: _record_console_error(page, msg))
        page.goto(f"{server.base_url}/b/{board_id}")
        if wait_synced:
            wait_connected(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _record_console_error(page, message) -> None:
    """Keep Content-Security-Policy violations: the page must run under the server's strict CSP."""
    if message.type == "error" and "Content Security Policy" in message.text:
        page.errors.append(message.text)


def new_board(server) -> str:
    """Create a board through the API and return its id."""
    request = urllib.request.Request(server.base_url + "/api/boards", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["id"]


def wait_connected(page, timeout_ms: int = 15000) -> None:
    """Wait until the page reports a synced connection."""
    page.wait_for_function(
        "() => window.syncboard && window.syncboard.connectionState() === 'connected'",
        timeout=timeout_ms,
    )


def wait_all_confirmed(page, timeout_ms: int = 15000) -> None:
    """Wait until the server has confirmed every local change of the page."""
    page.wait_for_function(
        "() => window.syncboard.connectionState() === 'connected'"
        " && window.syncboard.pending.count === 0",
        timeout=timeout_ms,
    )


def elements(page) -> dict[str, dict]:
    """The page's shared document: element id -> plain fields (points as list, text as str)."""
    return page.evaluate(
        "Object.fromEntries([...window.syncboard.board.elements.entries()]"
        ".map(([id, m]) => [id, m.toJSON()]))"
    )


def wait_element_count(page, count: int, timeout_ms: int = 15000) -> None:
    """Wait until the page's document holds exactly ``count`` elements."""
    page.wait_for_function(
        f"() => window.syncboard.board.elements.size === {count}", timeout=timeout_ms
    )


def canvas_pixel(page, x: int, y: int, layer: str = "static") -> list[int]:
    """RGBA of a canvas layer (``static`` or ``overlay``) at CSS pixel (x, y), after a paint."""
    page.evaluate("window.syncboard.painted()")
    return page.evaluate(
        """([selector, x, y]) => {
            const canvas = document.querySelector(selector);
            const dpr = canvas.width / canvas.getBoundingClientRect().width;
            const px = Math.round(x * dpr);
            const py = Math.round(y * dpr);
            return [...canvas.getContext('2d').getImageData(px, py, 1, 1).data];
        }""",
        [f".{layer}-layer", x, y],
    )


def drag(page, points: list[tuple[float, float]]) -> None:
    """Press at the first point, move through the others, release at the last."""
    mouse = page.mouse
    mouse.move(*points[0])
    mouse.down()
    for x, y in points[1:]:
        mouse.move(x, y, steps=2)
    mouse.up()


def draw_rect(page, x0, y0, x1, y1) -> None:
    page.keyboard.press("r")
    drag(page, [(x0, y0), (x1, y1)])


def draw_stroke(page, x0, y0, length=200, samples=30) -> None:
    page.keyboard.press("p")
    step = length / samples
    wave = [(x0 + i * step, y0 + 30 * ((i % 8) - 4) ** 2 / 16) for i in range(samples + 1)]
    drag(page, wave)


def add_sticky(page, x, y, text) -> None:
    page.keyboard.press("n")
    page.mouse.click(x, y)
    page.keyboard.type(text)
    page.keyboard.press("Escape")
