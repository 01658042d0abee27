#!/usr/bin/env python3
"""Frame times of bound connectors in real Chromium (the "Connectors" section of BENCHMARKS.md).

    scripts/bench_connectors.py [--root CHECKOUT] [--runs 2]

Starts ``python -m backend`` from ``--root`` (default: this checkout; point it at an export of
an older commit, with its frontend built, to measure "before"), fills a board through the page's
own ``Board`` with 10,000 elements: 8,000 shapes (rect, ellipse, sticky, rect in turn, on a
100 x 100 grid) and 2,000 arrows, each bound from the shape before it to the shape after it.
A fresh context then opens it and pans it (static-layer paint times, zoomed to fit and at 100 %).
Then a hub box with 50 arrows bound to 50 boxes around it is dragged by real mouse input, and
the page's frame times (scene refresh, routing and paint) during the drag are printed, next to
the same drag of a box with no arrows. An older frontend ignores the bindings (its arrows do not
follow), which is what "before" measures.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt", "requirements-dev.txt")  # playwright is a dev dependency

from playwright.sync_api import sync_playwright  # noqa: E402

from backend.cli_args import ArgumentParser  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, new_board  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

FILL_JS = """async () => {
  const board = window.syncboard.board;
  const types = ['rect', 'ellipse', 'sticky', 'rect'];
  const shapes = [];
  const cells = [];
  for (let i = 0; i < 10000; i++) {
    if (i % 5 === 4) continue;
    const type = types[shapes.length % 4];
    const item = { type, x: (i % 100) * 140, y: Math.floor(i / 100) * 140, w: 100, h: 80,
      stroke: '#1e1e1e', fill: i % 3 ? 'transparent' : '#a5d8ff' };
    if (type === 'sticky') { item.text = `note ${i}`; item.fontSize = 16; }
    shapes.push(item);
    cells.push(i);
  }
  const ids = new Map();
  for (let i = 0; i < shapes.length; i += 1000) {
    board.createMany(shapes.slice(i, i + 1000)).forEach((id, k) => ids.set(cells[i + k], id));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const arrows = [];
  for (let i = 4; i < 10000; i += 5) {
    arrows.push({ type: 'arrow', x: (i % 100) * 140, y: Math.floor(i / 100) * 140,
      points: [0, 0, 100, 80], stroke: '#1e1e1e', startBindId: ids.get(i - 1) ?? '',
      endBindId: ids.get(i + 1) ?? ids.get(i - 2) ?? '' });
  }
  for (let i = 0; i < arrows.length; i += 1000) {
    board.createMany(arrows.slice(i, i + 1000));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // A hub with 50 bound arrows, and a lone box, away from the grid.
  const hub = board.create('rect', { x: -3000, y: 0, w: 120, h: 80, fill: '#ffc9c9' });
  board.create('rect', { x: -3000, y: 900, w: 120, h: 80, fill: '#ffc9c9' });
  const spokes = [];
  for (let k = 0; k < 50; k++) {
    const a = (k / 50) * 2 * Math.PI;
    spokes.push({ type: 'rect', x: -2960 + 380 * Math.cos(a), y: 25 + 380 * Math.sin(a),
      w: 40, h: 30 });
  }
  const spokeIds = board.createMany(spokes);
  // Stored points as drawn at creation (what a frontend that ignores bindings shows).
  board.createMany(spokeIds.map((id, k) => {
    const a = (k / 50) * 2 * Math.PI;
    const [sx, sy] = [-2940 + 70 * Math.cos(a), 40 + 70 * Math.sin(a)];
    const [ex, ey] = [-2940 + 360 * Math.cos(a), 40 + 360 * Math.sin(a)];
    return { type: 'arrow', x: sx, y: sy, points: [0, 0, ex - sx, ey - sy], startBindId: hub,
      endBindId: id };
  }));
}"""

PAN_JS = """async (steps) => {
  const { camera, stats } = window.syncboard;
  const times = [];
  for (let i = 0; i < steps; i++) {
    camera.panBy(i % 2 ? -37 : 41, i % 3 ? 23 : -29);
    await window.syncboard.painted();
    times.push(stats.lastPaintMs);
  }
  return times;
}"""


def drag_frames(page, world_x: float, world_y: float, steps: int = 60) -> list[float]:
    """Drag the box at a world point by real mouse input; the page's frame times meanwhile."""
    page.evaluate(f"window.syncboard.camera.centerOn({world_x}, {world_y + 200}, 1)")
    page.evaluate("window.syncboard.painted()")
    s = page.evaluate(f"window.syncboard.camera.toScreen({world_x}, {world_y})")
    page.mouse.move(s["x"], s["y"])
    page.keyboard.down("Alt")  # no snapping to other elements (it would change where the box ends)
    page.mouse.down()
    page.evaluate("window.syncboard.stats.frameMs.length = 0")
    for step in range(1, steps + 1):
        page.mouse.move(s["x"] + 3 * step, s["y"] + 2 * step)
        page.evaluate("window.syncboard.painted()")
    times = page.evaluate("[...window.syncboard.stats.frameMs]")
    page.mouse.up()
    page.keyboard.up("Alt")
    moved = page.evaluate(f"""() => window.syncboard.scene.ordered.some((e) => e.type === 'rect'
        && Math.abs(e.x + e.w / 2 - {world_x} - {3 * steps}) < 1
        && Math.abs(e.y + e.h / 2 - {world_y} - {2 * steps}) < 1)""")
    assert moved, "the dragged box did not move with the mouse"
    return times


def run_once(server: ServerProcess, browser) -> dict[str, float]:
    board_id = new_board(server)
    writer_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    writer = writer_ctx.new_page()
    writer.goto(f"{server.base_url}/b/{board_id}")
    writer.wait_for_function("() => window.syncboard?.connectionState() === 'connected'")
    writer.evaluate(FILL_JS)
    writer.wait_for_function("() => window.syncboard.pending.count === 0", timeout=120000)
    writer_ctx.close()
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    started = time.perf_counter()
    page.goto(f"{server.base_url}/b/{board_id}")
    page.wait_for_function("() => window.syncboard?.board.elements.size >= 10102", timeout=120000)
    page.evaluate("window.syncboard.painted()")
    load_s = time.perf_counter() - started
    page.keyboard.press("Shift+!")
    page.evaluate("window.syncboard.painted()")
    fit = page.evaluate(PAN_JS, 30)
    page.keyboard.press("Control+0")
    page.evaluate("window.syncboard.painted()")
    near = page.evaluate(PAN_JS, 60)
    hub = drag_frames(page, -2940, 40)
    lone = drag_frames(page, -2940, 940)
    ctx.close()
    return {"load_s": load_s, "fit": statistics.median(fit), "fit_max": max(fit),
            "near": statistics.median(near), "near_max": max(near),
            "hub": statistics.median(hub), "hub_max": max(hub),
            "lone": statistics.median(lone), "lone_max": max(lone)}


def main() -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(ROOT), help="checkout whose server and frontend run")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(db_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                               options={"auth": "none", "data_dir": f"{tmp}/data"},
                               log_dir=Path(tmp), env={**os.environ, "PYTHONPATH": args.root})
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                for run in range(args.runs):
                    r = run_once(server, browser)
                    print(f"run {run + 1} ({args.root}): load {r['load_s']:.1f} s; pan paint at fit"
                          f" median {r['fit']:.1f} ms (max {r['fit_max']:.1f}); at 100%"
                          f" {r['near']:.2f} ms (max {r['near_max']:.1f}); drag frame, hub with"
                          f" 50 arrows {r['hub']:.2f} ms (max {r['hub_max']:.1f}), lone box"
                          f" {r['lone']:.2f} ms (max {r['lone_max']:.1f}); load average"
                          f" {os.getloadavg()[0]:.1f}", flush=True)
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
