"""Each tool and editing action through real pointer and keyboard input, checked in the shared
document: select, move, resize, rotate, marquee, duplicate, delete, z-order, eraser, line and
arrow, text, pan and zoom, images, follow, help, export."""

from __future__ import annotations

import math
import struct
import zlib

import pytest

from .conftest import (
    drag,
    draw_rect,
    draw_stroke,
    elements,
    new_board,
    wait_all_confirmed,
    wait_element_count,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(shared_server):
    """Every test here works on its own board, so they share one server."""
    return shared_server


def only(page) -> dict:
    doc = elements(page)
    assert len(doc) == 1, doc
    return next(iter(doc.values()))


def ordered(page) -> list[dict]:
    """Elements in paint order, as the scene sorts them."""
    return page.evaluate(
        "() => { window.syncboard.scene.refresh();"
        " return window.syncboard.scene.ordered.map(e => ({id: e.id, type: e.type, z: e.z})); }"
    )


def test_select_move_resize_and_rotate_a_rectangle(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 400, 300, 600, 400)  # the rectangle tool hands over to select, selected
    drag(page, [(450, 300), (510, 340)])  # grab the top edge (between handles), move by (60, 40)
    rect = only(page)
    assert (rect["x"], rect["y"], rect["w"], rect["h"]) == (460, 340, 200, 100)

    drag(page, [(660, 440), (700, 480)])  # south-east handle
    rect = only(page)
    assert (rect["x"], rect["y"], rect["w"], rect["h"]) == (460, 340, 240, 140)

    # Rotate handle: 26 px above the top edge's middle; drag it to the right of the centre.
    center = (460 + 120, 340 + 70)
    drag(page, [(center[0], 340 - 26), (center[0] + 200, center[1])])
    assert math.isclose(only(page)["angle"], math.pi / 2, abs_tol=0.02)
    assert page.errors == []


def test_marquee_duplicate_delete_and_undo(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 300, 200, 400, 280)
    draw_rect(page, 450, 200, 550, 280)
    page.keyboard.press("Escape")
    drag(page, [(280, 180), (600, 320)])  # marquee around both
    assert page.evaluate("window.syncboard.selection.size") == 2
    page.keyboard.press("Control+d")
    wait_element_count(page, 4)
    page.keyboard.press("Delete")
    wait_element_count(page, 2)
    page.keyboard.press("Control+z")
    wait_element_count(page, 4)


def test_bring_forward_and_send_backward_change_fractional_z(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 300, 200, 450, 320)
    page.keyboard.press("o")
    drag(page, [(380, 250), (520, 380)])
    bottom, top = ordered(page)
    assert (bottom["type"], top["type"]) == ("rect", "ellipse")
    page.evaluate(f"window.syncboard.setSelection(['{bottom['id']}'])")
    page.keyboard.press("]")
    assert [e["type"] for e in ordered(page)] == ["ellipse", "rect"]
    page.keyboard.press("[")
    assert [e["type"] for e in ordered(page)] == ["rect", "ellipse"]
    assert all(isinstance(e["z"], str) and e["z"] for e in ordered(page))


def test_eraser_removes_what_it_touches_and_one_undo_restores_it(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_stroke(page, 300, 300)
    draw_rect(page, 600, 250, 700, 350)
    wait_element_count(page, 2)
    page.keyboard.press("e")
    drag(page, [(250, 320), (750, 320)])  # across the stroke and the rectangle's edges
    wait_element_count(page, 0)
    page.keyboard.press("Control+z")
    wait_element_count(page, 2)


def test_line_arrow_and_text_tools(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    page.keyboard.press("l")
    drag(page, [(300, 300), (500, 400)])
    page.keyboard.press("a")
    drag(page, [(600, 400), (800, 300)])
    page.keyboard.press("t")
    page.mouse.click(400, 550)
    page.keyboard.type("hello\nworld")
    page.keyboard.press("Escape")
    kinds = {e["type"]: e for e in elements(page).values()}
    assert sorted(kinds) == ["arrow", "line", "text"]
    line = kinds["line"]
    assert (line["x"], line["y"], line["points"]) == (300, 300, [0, 0, 200, 100])
    arrow = kinds["arrow"]
    assert (arrow["x"], arrow["y"], arrow["points"]) == (600, 300, [0, 100, 200, 0])
    assert kinds["text"]["text"] == "hello\nworld"
    assert kinds["text"]["w"] > 20 and kinds["text"]["h"] > 40

    # Select the line and drag its end point: the start stays.
    page.keyboard.press("Escape")
    page.mouse.click(400, 350)
    drag(page, [(500, 400), (520, 250)])
    line = elements(page)[next(i for i, e in elements(page).items() if e["type"] == "line")]
    assert (line["x"], line["y"], line["points"]) == (300, 250, [0, 50, 220, 0])


def test_wheel_zooms_at_the_pointer_and_hand_pans(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    camera = "({x: window.syncboard.camera.x, y: window.syncboard.camera.y," \
             " zoom: window.syncboard.camera.zoom})"
    page.mouse.move(640, 400)
    before = page.evaluate("window.syncboard.camera.toWorld(640, 400)")
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    page.wait_for_function("() => window.syncboard.camera.zoom > 1.2")
    after = page.evaluate("window.syncboard.camera.toWorld(640, 400)")
    assert math.isclose(after["x"], before["x"], abs_tol=0.5)
    assert math.isclose(after["y"], before["y"], abs_tol=0.5)
    assert page.locator(".zoom-percent").inner_text() != "100%"
    page.keyboard.press("h")
    start = page.evaluate(camera)
    drag(page, [(600, 400), (500, 300)])
    end = page.evaluate(camera)
    assert end["x"] > start["x"] and end["y"] > start["y"]
    assert elements(page) == {}


def test_follow_keeps_the_view_on_the_other_participant(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    bob.wait_for_selector(".participants button.avatar[data-name='Ann']")
    bob.click(".participants button.avatar[data-name='Ann']")
    ann.evaluate("window.syncboard.camera.centerOn(5000, -3000, 2)")
    ann.evaluate("window.syncboard.painted()")
    bob.wait_for_function(
        "() => { const c = window.syncboard.camera;"
        " const m = c.toWorld(c.width / 2, c.height / 2);"
        " return Math.abs(m.x - 5000) < 1 && Math.abs(m.y + 3000) < 1 && c.zoom === 2; }",
        timeout=10000,
    )
    assert bob.locator(".participants .avatar.following").count() == 1


def test_help_overlay_lists_every_tool_key(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    page.keyboard.press("?")
    help_box = page.locator(".help")
    assert help_box.is_visible()
    for tool in ["Select", "Pen", "Rect", "Ellipse", "Line", "Arrow", "Text", "Sticky", "Eraser"]:
        assert tool in help_box.inner_text()
    page.keyboard.press("Escape")
    assert help_box.is_hidden()


def tiny_png(width: int, height: int, rgb=(224, 49, 49)) -> bytes:
    """A solid-colour PNG, built by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def test_image_tool_uploads_through_the_files_endpoint_and_draws_it(server, open_board, tmp_path):
    page = open_board(server, new_board(server), "Ann")
    png = tmp_path / "red.png"
    png.write_bytes(tiny_png(80, 40))
    with page.expect_file_chooser() as chooser:
        page.click(".toolbar [data-tool='image']")
    chooser.value.set_files(str(png))
    wait_element_count(page, 1)
    image = only(page)
    assert image["type"] == "image" and len(image["fileId"]) == 64
    assert (image["w"], image["h"]) == (80, 40)
    page.wait_for_function(
        "() => { const c = window.syncboard.camera; const e = window.syncboard.scene.ordered[0];"
        " const p = c.toScreen(e.x + 40, e.y + 20);"
        " const ctx = document.querySelector('.static-layer').getContext('2d');"
        " const d = ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data;"
        " return d[0] > 200 && d[1] < 90 && d[2] < 90; }",
        timeout=10000,
    )


def test_export_button_downloads_the_server_svg(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 300, 200, 400, 300)
    wait_all_confirmed(page)
    page.click("[aria-label='Export or import']")
    with page.expect_download() as download:
        page.click("text=Export SVG")
    body = download.value.path().read_text(encoding="utf-8")
    assert body.lstrip().startswith("<") and "<svg" in body and "<rect" in body


def test_import_json_from_the_menu_fills_the_board_live(server, open_board, tmp_path):
    source = open_board(server, new_board(server), "Ann")
    draw_rect(source, 300, 200, 400, 300)
    draw_stroke(source, 450, 250)
    wait_all_confirmed(source)
    source.click("[aria-label='Export or import']")
    with source.expect_download() as download:
        source.click("text=Export JSON")
    exported = tmp_path / "board.json"
    exported.write_bytes(download.value.path().read_bytes())

    target = open_board(server, new_board(server), "Bob")
    target.click("[aria-label='Export or import']")
    with target.expect_file_chooser() as chooser:
        target.click("text=Import file (JSON, bundle, Excalidraw, tldraw)…")
    chooser.value.set_files(str(exported))
    wait_element_count(target, 2)
    assert sorted(e["type"] for e in elements(target).values()) == ["rect", "stroke"]
