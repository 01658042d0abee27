#!/usr/bin/env python3
"""Version preview and restore as a person sees them: real Chromium on a big board's history.

    .venv/bin/python scripts/bench_history_browser.py --db FILE [--settle-s 6] [--runs 5]

``FILE`` is the board ``scripts/bench_history.py --db FILE`` builds (10,000 elements, 500
versions; run that first). A server (``python -m backend``, ``--auth none``) is started on it,
the board page is opened in Debian's Chromium and, after ``--settle-s`` seconds (a person
opening the history panel), the History button is pressed. Then, with the page's own mouse
events (Playwright clicks):

- **preview**: from the click on a version in the timeline until its banner shows and the
  next frame is painted (the page fetches ``.../versions/<id>/update``, applies it to a
  fresh Y.Doc and draws it read-only); ``--runs`` versions, newest, oldest and between;
- **restore**: from the click on "Restore this version" until the banner is gone and the next
  frame is painted (a before-restore version is recorded on the server, then the page writes
  the difference through the live board).

Restores change the board in the file (as they would for its users): rebuild it with
``bench_history.py`` for figures on the original. Prints one line per action, in ms.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.server_process import free_port, wait_answering  # noqa: E402

BOARD = "big"  # the board id bench_history.py writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True,
                        help="the board file bench_history.py built")
    parser.add_argument("--settle-s", type=float, default=6,
                        help="seconds between the page showing the board and the History click")
    parser.add_argument("--runs", type=int, default=5, help="versions previewed")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: build it with scripts/bench_history.py --db")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port),
             "--db", f"sqlite+aiosqlite:///{args.db}", "--auth", "none", "--data-dir",
             f"{tmp}/data", "--log-level", "WARNING", "--idle-unload-s", "3600"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_answering(f"{base}/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                _measure(page, base, args)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


def _measure(page: Page, base: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    page.goto(f"{base}/b/{BOARD}")
    page.wait_for_function("() => window.syncboard?.doc.getMap('elements').size >= 10000",
                           timeout=120_000)
    print(f"board shown: {time.perf_counter() - started:.1f} s; waiting {args.settle_s} s")
    time.sleep(args.settle_s)  # a person finding the History button, not a synchronisation
    page.get_by_role("button", name="History").click()
    items = page.locator(".history-item")
    items.first.wait_for()
    count = items.count()
    picks = [0, count - 1, count // 2, 1, 0][:args.runs]
    for index in picks:
        _close_preview(page)
        label = items.nth(index).get_attribute("data-version")
        clicked = time.perf_counter()
        items.nth(index).click()
        page.locator(".history-banner").wait_for()
        page.evaluate("window.syncboard.painted()")
        print(f"preview of version {label}: {_ms(clicked)} ms")
    for index in (count - 1, count // 2):
        _close_preview(page)
        label = items.nth(index).get_attribute("data-version")
        items.nth(index).click()
        page.locator(".history-banner").wait_for()
        clicked = time.perf_counter()
        page.get_by_role("button", name="Restore this version").click()
        page.locator(".history-banner").wait_for(state="hidden")
        page.evaluate("window.syncboard.painted()")
        print(f"restore of version {label}: {_ms(clicked)} ms")
        items.first.wait_for()


def _close_preview(page: Page) -> None:
    if page.locator(".history-banner").is_visible():
        page.keyboard.press("Escape")
        page.locator(".history-banner").wait_for(state="hidden")


def _ms(since: float) -> str:
    return f"{(time.perf_counter() - since) * 1000:,.0f}"



if __name__ == "__main__":
    main()
