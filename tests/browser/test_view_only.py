"""A view-only link shows nothing that looks like editing (issue 12 item 9): the viewer selects,
but gets no resize or rotate handles, cannot open the text editor, and cannot rename the board;
it still sees the "View only" badge and can export."""

from __future__ import annotations

import pytest

from .conftest import (
    add_sticky,
    canvas_pixel,
    draw_rect,
    elements,
    wait_all_confirmed,
    wait_connected,
    wait_element_count,
)
from .test_access import create_board_with_tokens, open_url

pytestmark = pytest.mark.browser

ROTATE_HANDLE = (390, 200 - 26)  # 26 px above the middle of the rectangle's top edge


def on_screen(page, x: float, y: float) -> tuple[float, float]:
    """Where the world point (x, y) is on the page's screen (the viewer's view is fitted)."""
    point = page.evaluate("([x, y]) => window.syncboard.camera.toScreen(x, y)", [x, y])
    return point["x"], point["y"]


def test_a_viewer_selects_but_gets_no_handles_no_text_editor_and_no_rename(
        server_process, browser):
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    editor = open_url(browser, links["editUrl"], "Ann")
    wait_connected(editor)
    draw_rect(editor, 300, 200, 480, 320)  # selected afterwards: the editor sees its handles
    assert canvas_pixel(editor, *ROTATE_HANDLE, layer="overlay")[3] > 0
    add_sticky(editor, 800, 450, "note")
    wait_all_confirmed(editor)
    before = elements(editor)

    viewer = open_url(browser, links["viewUrl"], "Vic")
    dialogs = []
    viewer.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wait_connected(viewer)
    wait_element_count(viewer, 2)
    assert viewer.locator(".badge").inner_text() == "View only"

    viewer.evaluate("window.syncboard.painted()")
    viewer.mouse.click(*on_screen(viewer, 300, 260))  # the rectangle's left edge
    assert viewer.evaluate("window.syncboard.selection.size") == 1
    top_x, top_y = on_screen(viewer, 390, 200)
    handle = (round(top_x), round(top_y) - 26)
    assert canvas_pixel(viewer, *handle, layer="overlay")[3] == 0
    for start in ((480, 320), (390, 200)):  # where the south-east handle would be; the top edge
        x, y = on_screen(viewer, *start)
        viewer.mouse.move(x, y)
        viewer.mouse.down()
        viewer.mouse.move(x + 60, y + 60, steps=3)
        viewer.mouse.up()

    viewer.mouse.dblclick(*on_screen(viewer, 800, 450))  # the sticky note: no editor opens
    assert viewer.evaluate("document.querySelector('.text-editor').hidden")
    viewer.keyboard.type("xyz")

    title = viewer.locator(".board-title")
    assert title.evaluate("el => el.tagName") == "SPAN"
    title.click()
    assert dialogs == []
    assert elements(viewer) == before
    assert elements(editor) == before
    with viewer.expect_download() as download:  # exporting still works
        viewer.locator("button[aria-label='Export or import']").click()
        viewer.locator(".menu-item", has_text="Export JSON").click()
    assert download.value.suggested_filename.endswith(".json")
