"""The board page's layout from a phone in portrait to a desktop (issue 12 item 6): the top bars,
the tool bar, the style panel and the zoom controls never overlap, stay on screen, and every
tool is reachable by a real click, also with the longest status text."""

from __future__ import annotations

import itertools
import json

import pytest

from .conftest import new_board, wait_connected

pytestmark = pytest.mark.browser

SIZES = {"desktop-1024": (1024, 768), "desktop-1280": (1280, 800), "desktop-1440": (1440, 900),
         "wide-1920": (1920, 1080), "phone": (390, 844)}
BARS = [".topbar-left", ".topbar-right", ".toolbar", ".stylepanel", ".zoom"]


@pytest.fixture
def server(shared_server):
    return shared_server


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("size", SIZES)
def test_bars_never_overlap_and_every_tool_is_reachable(server, browser, size, tmp_path):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  has_touch=size == "phone")
    context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps('Ann')});")
    page = context.new_page()
    page.goto(f"{server.base_url}/b/{new_board(server)}")
    wait_connected(page)
    # The longest status the page shows, as when the server does not answer.
    page.evaluate("""() => {
        document.querySelector('.status-text').textContent = 'Server unreachable, retrying in 3 s';
        document.querySelector('.retry-now').hidden = false;
        const pending = document.querySelector('.status .pending');
        pending.textContent = '128 unsynced';
        pending.hidden = false;
    }""")
    tools = page.locator(".toolbar [data-tool]")
    names = tools.evaluate_all("bs => bs.map(b => b.dataset.tool)")
    for name in [n for n in names if n != "image"] + ["rect"]:  # ends with the style panel shown
        page.locator(f".toolbar [data-tool='{name}']").click()
        assert page.evaluate("document.querySelector('.board-page').dataset.tool") == name
    page.screenshot(path=str(tmp_path / f"{size}.png"))
    boxes = {sel: page.locator(sel).bounding_box() for sel in BARS}
    assert all(boxes.values()), boxes  # all shown (the style panel for the rectangle tool)
    for sel, box in boxes.items():
        visible_width = box["width"] if sel != ".toolbar" else min(box["width"], width - 24)
        assert box["x"] >= 0 and box["y"] >= 0, (sel, box)
        assert box["x"] + visible_width <= width and box["y"] + box["height"] <= height, (sel, box)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not overlap(box_a, box_b), (a, box_a, b, box_b)
    context.close()
