"""A 10,000-element board loads and renders in real Chromium, with load and frame times printed
(and recorded in BENCHMARKS.md)."""

from __future__ import annotations

import statistics
import time

import pytest

from .conftest import new_board, wait_all_confirmed, wait_element_count

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ELEMENT_COUNT = 10_000

# Builds ELEMENT_COUNT elements of every drawable type on a 100 x 100 grid, through the page's
# Board (the same path as drawing), in transactions of 1,000.
FILL_BOARD_JS = """async (count) => {
  const types = ['rect', 'ellipse', 'stroke', 'sticky', 'line', 'arrow', 'text'];
  const items = [];
  for (let i = 0; i < count; i++) {
    const type = types[i % types.length];
    const x = (i % 100) * 140;
    const y = Math.floor(i / 100) * 140;
    const fill = i % 3 ? 'transparent' : '#a5d8ff';
    const item = { type, x, y, w: 100, h: 80, stroke: '#1e1e1e', fill };
    if (type === 'stroke') {
      const wave = (k) => (k % 2 ? 40 + 30 * Math.sin(k / 3) : k * 2.5);
      item.points = Array.from({ length: 40 }, (_, k) => wave(k));
    } else if (type === 'line' || type === 'arrow') {
      item.points = [0, 0, 100, 80];
    } else if (type === 'text' || type === 'sticky') {
      item.text = `note ${i}`;
      item.fontSize = 16;
    }
    items.push(item);
  }
  for (let i = 0; i < items.length; i += 1000) {
    window.syncboard.board.createMany(items.slice(i, i + 1000));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}"""

# Pans the view `steps` times (one paint each) and returns the static layer's paint times (ms).
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


def test_a_ten_thousand_element_board_loads_and_pans(server, open_board):
    board_id = new_board(server)
    writer = open_board(server, board_id, "Writer")
    writer.evaluate(FILL_BOARD_JS, ELEMENT_COUNT)
    wait_all_confirmed(writer, timeout_ms=60000)

    started = time.perf_counter()
    reader = open_board(server, board_id, "Reader", wait_synced=False)
    wait_element_count(reader, ELEMENT_COUNT, timeout_ms=60000)
    reader.evaluate("window.syncboard.painted()")
    load_s = time.perf_counter() - started
    # Milliseconds from navigation start until the board was in the scene and painted.
    in_page_ms = reader.evaluate("performance.now()")

    # Zoomed to fit: every element is in view, the worst case for painting.
    reader.keyboard.press("Shift+!")
    reader.evaluate("window.syncboard.painted()")
    fit = reader.evaluate("({...window.syncboard.stats, frameMs: undefined})")
    assert fit["drawn"] == ELEMENT_COUNT and fit["skipped"] == 0
    fit_ms = reader.evaluate(PAN_JS, 30)

    # At 100 %: culling keeps a screenful of elements.
    reader.keyboard.press("Control+0")
    reader.evaluate("window.syncboard.painted()")
    near = reader.evaluate("({...window.syncboard.stats, frameMs: undefined})")
    assert 0 < near["drawn"] < 500
    near_ms = reader.evaluate(PAN_JS, 60)

    print(
        f"\n10k board: load {load_s * 1000:.0f} ms (in page {in_page_ms:.0f} ms);"
        f" paint at fit median {statistics.median(fit_ms):.1f} ms (max {max(fit_ms):.1f});"
        f" paint at 100% median {statistics.median(near_ms):.2f} ms (max {max(near_ms):.1f})"
    )
    assert load_s < 30
    assert statistics.median(near_ms) < 16
    assert reader.errors == [] and writer.errors == []
