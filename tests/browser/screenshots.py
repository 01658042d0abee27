"""Take the screenshots in docs/screenshots/ from a real server and headless Chromium.

Run: ``python -m tests.browser.screenshots`` from the repository root (after building
frontend/). It starts ``python -m backend`` on a free loopback port with a throw-away database.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.server_process import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}

# A small planning board, written through the page's Board like any drawing.
BOARD_JS = """() => {
  const b = window.syncboard.board;
  const note = (x, y, text, fill) => ({ type: 'sticky', x, y, w: 200, h: 160, text, fill });
  const box = (x, y, w, h, fill) => ({ type: 'rect', x, y, w, h, fill, strokeWidth: 2 });
  const label = (x, y, text, size = 22) => ({ type: 'text', x, y, w: 10, h: size * 1.25, text,
    fontSize: size });
  const arrow = (x, y, dx) => ({ type: 'arrow', x, y, w: dx, h: 0, points: [0, 0, dx, 0] });
  b.setTitle('Launch plan');
  b.createMany([
    label(330, 150, 'Launch plan — week 12', 34),
    box(330, 250, 220, 110, '#a5d8ff'), label(372, 290, 'Design review'),
    box(650, 250, 220, 110, '#b2f2bb'), label(705, 290, 'Beta build'),
    { type: 'ellipse', x: 970, y: 240, w: 220, h: 130, fill: '#ffec99', strokeWidth: 2 },
    label(1030, 290, 'Ship it!'),
    arrow(550, 305, 100), arrow(870, 305, 100),
    note(330, 460, 'Ask support which crash reports matter most', '#fff3a3'),
    note(570, 460, 'Offline edits merge on reconnect', '#d3f9d8'),
    note(810, 460, 'Export the board as SVG for the slides', '#d0ebff'),
  ]);
}"""


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(
            db_url=f"sqlite+aiosqlite:///{tmp}/screens.db",
            options={"auth": "none", "data_dir": f"{tmp}/data"},
            log_dir=Path(tmp),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        server.start()
        try:
            shoot(server)
        finally:
            server.stop()
        # The states a link can be in need tokens: view-only, revoked, and the phone layout.
        tokens = ServerProcess(
            db_url=f"sqlite+aiosqlite:///{tmp}/states.db",
            options={"auth": "token", "data_dir": f"{tmp}/states"},
            log_dir=Path(tmp),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        tokens.start()
        try:
            shoot_link_states(tokens)
        finally:
            tokens.stop()


def shoot(server: ServerProcess) -> None:
    request = urllib.request.Request(server.base_url + "/api/boards", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        board_id = json.loads(response.read())["id"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ann = open_page(browser, server, board_id, "Ann Lee", "#e03131")
        bob = open_page(browser, server, board_id, "Bob Stone", "#1971c2")
        ann.evaluate(BOARD_JS)
        ann.keyboard.press("p")
        ann.mouse.move(1010, 420)
        ann.mouse.down()
        for i in range(40):
            ann.mouse.move(1010 + i * 4, 430 + 18 * ((i % 10) - 5) ** 2 / 25)
        ann.mouse.up()
        wait_idle(ann)
        wait_idle(bob)
        # Bob selects the beta build box and points at the notes; Ann selects the ellipse.
        bob.evaluate("""() => {
          const s = window.syncboard;
          const box = s.scene.ordered.find((e) => e.type === 'rect' && e.fill === '#b2f2bb');
          s.setSelection([box.id]);
        }""")
        bob.mouse.move(700, 560)
        bob.mouse.move(720, 580, steps=3)
        ann.keyboard.press("v")
        ann.mouse.click(1080, 250)
        ann.mouse.move(1100, 360, steps=3)
        ann.wait_for_timeout(600)
        ann.screenshot(path=str(OUT_DIR / "board.png"))
        ann.keyboard.press("?")
        ann.wait_for_timeout(200)
        ann.screenshot(path=str(OUT_DIR / "help.png"))
        ann.keyboard.press("Escape")
        bob.evaluate("document.querySelector('[aria-label=\"Toggle theme\"]').click()")
        bob.wait_for_timeout(400)
        bob.screenshot(path=str(OUT_DIR / "board-dark.png"))
        tablet = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True,
                                     is_mobile=True, device_scale_factor=2)
        tablet.add_init_script("localStorage.setItem('syncboard:name', 'Cleo Park');"
                               "localStorage.setItem('syncboard:color', '#099268');")
        pad = tablet.new_page()
        pad.goto(f"{server.base_url}/b/{board_id}")
        pad.wait_for_function("() => window.syncboard && window.syncboard.scene.ordered.length > 5")
        pad.wait_for_timeout(800)
        pad.screenshot(path=str(OUT_DIR / "tablet.png"))
        tablet.close()
        server.kill()
        ann.keyboard.press("n")
        ann.mouse.click(1180, 600)
        ann.keyboard.type("Written while the server was down")
        ann.keyboard.press("Escape")
        ann.wait_for_timeout(2500)
        ann.screenshot(path=str(OUT_DIR / "offline.png"))
        server.start()
        home = browser.new_context(viewport=VIEWPORT)
        now_ms = int(time.time() * 1000)
        recent = [
            {"id": board_id, "title": "Launch plan", "openedAt": now_ms - 60_000},
            {"id": "retro-2026-11", "title": "", "openedAt": now_ms - 86_400_000},
        ]
        home.add_init_script(
            f"localStorage.setItem('syncboard:recent', {json.dumps(json.dumps(recent))});"
            "localStorage.setItem('syncboard:name', 'Ann Lee');"
            "localStorage.setItem('syncboard:color', '#e03131');"
        )
        page = home.new_page()
        page.goto(server.base_url + "/")
        page.wait_for_selector(".home")
        page.screenshot(path=str(OUT_DIR / "home.png"))
        browser.close()


def shoot_link_states(server: ServerProcess) -> None:
    """view-only.png, phone.png and refused.png (a link revoked while the board is open)."""
    request = urllib.request.Request(server.base_url + "/api/boards", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        links = json.loads(response.read())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ann = open_page(browser, server, "", "Ann Lee", "#e03131", url=links["editUrl"])
        ann.evaluate(BOARD_JS)
        wait_idle(ann)
        viewer = open_page(browser, server, "", "Vic Moreau", "#7048e8", url=links["viewUrl"])
        viewer.wait_for_function("() => window.syncboard.scene.ordered.length > 5")
        viewer.wait_for_timeout(600)
        viewer.screenshot(path=str(OUT_DIR / "view-only.png"))
        phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                    is_mobile=True, device_scale_factor=2)
        phone.add_init_script("localStorage.setItem('syncboard:name', 'Dev Patel');")
        small = phone.new_page()
        small.goto(links["editUrl"])
        small.wait_for_function(
            "() => window.syncboard && window.syncboard.scene.ordered.length > 5")
        small.locator(".toolbar [data-tool='rect']").click()
        small.wait_for_timeout(600)
        small.screenshot(path=str(OUT_DIR / "phone.png"))
        phone.close()
        rotate = urllib.request.Request(
            f"{server.base_url}/api/boards/{links['id']}/rotate", method="POST", data=b"{}",
            headers={"Authorization": f"Bearer {links['editToken']}",
                     "Content-Type": "application/json"})
        urllib.request.urlopen(rotate, timeout=10).close()
        ann.locator(".refusal").wait_for(state="visible", timeout=15000)
        ann.screenshot(path=str(OUT_DIR / "refused.png"))
        browser.close()


def open_page(browser, server, board_id, name, color, url=None):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(
        f"localStorage.setItem('syncboard:name', {json.dumps(name)});"
        f"localStorage.setItem('syncboard:color', {json.dumps(color)});"
        "localStorage.setItem('syncboard:theme', 'light');"
    )
    page = context.new_page()
    page.goto(url or f"{server.base_url}/b/{board_id}")
    page.wait_for_function(
        "() => window.syncboard && window.syncboard.connectionState() === 'connected'"
    )
    return page


def wait_idle(page) -> None:
    page.wait_for_function("() => window.syncboard.pending.count === 0", timeout=15000)


if __name__ == "__main__":
    main()
