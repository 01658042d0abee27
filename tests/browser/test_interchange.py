"""Boards in and out from the page (frontend/src/ui/interchange.js, issue 15): an Excalidraw
file dropped on the board (a colleague sees and edits it) and a tldraw file from the import
menu, each one undo step; the selection exported at 2x to the clipboard as PNG and SVG and
downloaded as PDF; a rubber-band selection of 2,500 elements downloaded as SVG, PNG and PDF,
exactly those elements; an Excalidraw copy pasted with Ctrl+V; Excalidraw PNG and SVG exports
with their scene embedded dropped on the board (imported, not placed as pictures); a PNG at 1x
and 3x, with the board's background or transparent; a bundle from the import menu, with an
image the server did not hold, as one undo step."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import png
import pytest
from pypdf import PdfReader

from tests.excalidraw_embed import base_png
from tests.export_helpers import CYAN_PNG, decode_png, pixel

from .conftest import drag, draw_rect, elements, new_board, wait_connected, wait_element_count

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).parent.parent / "fixtures" / "interchange"


@pytest.fixture
def server(shared_server):
    return shared_server


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps('Ann')});")
    tab = context.new_page()
    tab.goto(f"{server.base_url}/b/{new_board(server)}")
    wait_connected(tab)
    yield tab
    context.close()


def test_dropped_and_menu_imports_undo_in_one_step_and_selection_exports(page, server,
                                                                          open_board):
    draw_rect(page, 600, 250, 660, 310)  # where the imported diagram will lie
    wait_element_count(page, 1)
    # A file dropped from the desktop: a drop event whose DataTransfer holds the file's bytes
    # (Playwright cannot drag a file from outside the browser). Named .json: read by content.
    transfer = page.evaluate_handle(
        "(text) => { const d = new DataTransfer(); "
        "d.items.add(new File([text], 'from-excalidraw.json', {type: 'application/json'})); "
        "return d; }", (FIXTURES / "diagram.excalidraw").read_text())
    page.dispatch_event(".stage", "drop", {"dataTransfer": transfer, "clientX": 640,
                                           "clientY": 400})
    wait_element_count(page, 10)
    assert page.locator(".toast").last.inner_text() == (
        "9 elements imported from an Excalidraw file, 1 arrowheads of other shapes drawn as "
        "arrows, 1 cross-hatch fills drawn solid, 1 hachure fills drawn solid, 2 sketchy "
        "outlines drawn clean, 2 texts set in the board's font (Ctrl+Z undoes it)")
    imported = elements(page)
    assert imported["RectBox1aaaaaaaaaaaaa"]["label"] == "Client"
    first_id, drawn_first = next((key, el) for key, el in imported.items()
                                 if el["type"] == "rect" and not el.get("label"))
    # (the one drawn before the import)
    assert min(el["z"] for el in imported.values() if el is not drawn_first) > drawn_first["z"]
    assert imported["Arrow1ccccccccccccccc"]["endBindId"] == "Ellipse1ddddddddddddd"
    # A colleague on the same board sees it all and edits it: select all, nudge right.
    colleague = open_board(server, page.url.split("/b/")[1].split("#")[0], "Bob")
    wait_element_count(colleague, 10)
    colleague.mouse.click(1100, 700)
    colleague.keyboard.press("Control+a")
    colleague.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => window.syncboard.board.elements.get('RectBox1aaaaaaaaaaaaa')"
        ".get('x') > 0")

    # The selection (the imported elements) at 2x, to the clipboard as PNG and as SVG.
    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection").click()
    assert page.locator("[aria-label='What to export']").input_value() == "selection"
    page.select_option("[aria-label='Scale']", "2")
    page.locator(".export-panel button", has_text="Copy as PNG").click()
    page.locator(".toast", has_text="Copied as PNG").wait_for()
    width, height = page.evaluate("""async () => {
        const [item] = await navigator.clipboard.read();
        const bitmap = await createImageBitmap(await item.getType('image/png'));
        return [bitmap.width, bitmap.height]; }""")
    # The frame (760 x 420) is the widest element; 16 units of margin each side; 2 px a unit.
    assert 2 * (760 + 32) <= width <= 2 * (760 + 32 + 8) and height >= 2 * (420 + 32)
    page.locator(".export-panel button", has_text="Copy as SVG").click()
    page.locator(".toast", has_text="Copied as SVG").wait_for()
    svg = page.evaluate("() => navigator.clipboard.readText()")
    assert "<svg" in svg and 'data-id="RectBox1aaaaaaaaaaaaa"' in svg
    # Only the selected elements (ids=), not the rectangle drawn first inside their box.
    box = page.evaluate("""() => { const s = window.syncboard.scene;
        const b = s.contentBounds([...window.syncboard.selection]);
        return [b.minX, b.minY, b.maxX, b.maxY]; }""")
    assert box[0] <= drawn_first["x"] and drawn_first["x"] + drawn_first["w"] <= box[2] and \
        box[1] <= drawn_first["y"] and drawn_first["y"] + drawn_first["h"] <= box[3], \
        (box, drawn_first)
    assert f'data-id="{first_id}"' not in svg
    page.select_option("[aria-label='Format']", "pdf")
    with page.expect_download() as download:
        page.locator(".export-panel button", has_text="Download").click()
    assert download.value.suggested_filename.endswith("-selection.pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    page.locator(".export-panel button", has_text="Close").click()

    page.mouse.click(1100, 700)
    page.keyboard.press("Control+z")  # the whole import, not the rectangle drawn before
    wait_element_count(page, 1)
    page.click("[aria-label='Export or import']")
    with page.expect_file_chooser() as chooser:
        page.locator(".menu-item", has_text="Import file").click()
    chooser.value.set_files(str(FIXTURES / "diagram.tldr"))
    wait_element_count(page, 11)
    assert page.locator(".toast").last.inner_text().startswith(
        "10 elements imported from a tldraw file")
    assert elements(page)["note1"]["text"] == "A note"
    page.mouse.click(1100, 700)
    page.keyboard.press("Control+z")
    wait_element_count(page, 1)

    # Copied in Excalidraw: its clipboard holds the scene JSON as text (the set-up, as that app
    # leaves it); Ctrl+V here imports it.
    scene = json.loads((FIXTURES / "diagram.excalidraw").read_text())
    copied = {"type": "excalidraw/clipboard", "elements": scene["elements"][6:7], "files": {}}
    page.evaluate("(text) => navigator.clipboard.writeText(text)", json.dumps(copied))
    page.mouse.click(1100, 700)
    page.keyboard.press("Control+v")
    wait_element_count(page, 2)
    assert elements(page)["Diamond1fffffffffffff"]["type"] == "diamond"


def drop_file(page, data: bytes, name: str, mime: str) -> None:
    """Drop a file with these bytes on the board (a drop event whose DataTransfer holds it)."""
    transfer = page.evaluate_handle(
        "([b64, name, mime]) => { const d = new DataTransfer(); "
        "const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)); "
        "d.items.add(new File([bytes], name, {type: mime})); return d; }",
        [base64.b64encode(data).decode(), name, mime])
    page.dispatch_event(".stage", "drop", {"dataTransfer": transfer, "clientX": 640,
                                           "clientY": 400})


def test_excalidraw_png_and_svg_with_a_scene_import_and_a_plain_png_is_placed(page):
    drop_file(page, (FIXTURES / "diagram.excalidraw.png").read_bytes(), "diagram.excalidraw.png",
              "image/png")
    wait_element_count(page, 9)
    assert page.locator(".toast").last.inner_text().startswith(
        "9 elements imported from an Excalidraw file")
    imported = elements(page)
    assert imported["RectBox1aaaaaaaaaaaaa"]["label"] == "Client"
    assert [el["type"] for el in imported.values()].count("image") == 1  # the diagram's own
    page.mouse.click(1100, 700)
    page.keyboard.press("Control+z")  # one undo step
    wait_element_count(page, 0)

    drop_file(page, (FIXTURES / "diagram.excalidraw.svg").read_bytes(), "diagram.svg",
              "image/svg+xml")
    wait_element_count(page, 9)
    assert elements(page)["Arrow1ccccccccccccccc"]["endBindId"] == "Ellipse1ddddddddddddd"

    drop_file(page, base_png(), "photo.png", "image/png")  # no scene: placed as a picture
    wait_element_count(page, 10)
    placed = [el for key, el in elements(page).items() if el["type"] == "image"
              and key not in imported]
    assert len(placed) == 1


SQUARES = 50
"""A 50 x 50 grid of small squares: 2,500 selected, past the 2,000 ids a URL holds."""
SQUARE_BOARD = {"schemaVersion": 2, "meta": {"background": "#ffffff"}, "elements": [
    # Under the squares and reaching out of the rubber band: never selected.
    {"id": "under", "type": "rect", "x": 300, "y": 300, "w": 700, "h": 40, "z": "a0",
     "fill": "#ff00ff", "stroke": "#ff00ff", "strokeWidth": 1},
    *({"id": f"sq{i}", "type": "rect", "x": 350 + 10 * (i % SQUARES),
       "y": 150 + 10 * (i // SQUARES), "w": 6, "h": 6, "z": "a1", "fill": "#ff0000",
       "stroke": "#ff0000", "strokeWidth": 1} for i in range(SQUARES * SQUARES))]}
RED, WHITE = (255, 0, 0, 255), (255, 255, 255, 255)


def screen(page, x: float, y: float) -> tuple[float, float]:
    """The page point showing board point (x, y)."""
    point = page.evaluate("([x, y]) => window.syncboard.camera.toScreen(x, y)", [x, y])
    assert 0 < point["x"] < 1280 and 60 < point["y"] < 780, point  # on the board, in view
    return point["x"], point["y"]


def download_export(page, fmt: str) -> bytes:
    """Choose ``fmt`` in the open export panel, press Download; the file's bytes."""
    page.select_option("[aria-label='Format']", fmt)
    with page.expect_download() as download:
        page.locator(".export-panel button", has_text="Download").click()
    assert download.value.suggested_filename.endswith(f"-selection.{fmt}")
    return Path(download.value.path()).read_bytes()


def test_a_rubber_band_selection_of_2500_elements_exports_exactly_itself(page, server):
    board_id = page.url.split("/b/")[1].split("#")[0]
    request = urllib.request.Request(  # seeded through the server, as a script would
        f"{server.base_url}/api/boards/{board_id}/import", method="POST",
        data=json.dumps(SQUARE_BOARD).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
    wait_element_count(page, SQUARES * SQUARES + 1, timeout_ms=60_000)
    page.keyboard.press("v")
    start, end = screen(page, 340, 140), screen(page, 860, 660)
    drag(page, [start, ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2), end])
    page.wait_for_function(f"() => window.syncboard.selection.size === {SQUARES * SQUARES}")
    chosen = set(page.evaluate("[...window.syncboard.selection]"))
    assert chosen == {f"sq{i}" for i in range(SQUARES * SQUARES)}

    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection").click()
    assert page.locator("[aria-label='What to export']").input_value() == "selection"
    svg = ET.fromstring(download_export(page, "svg"))
    assert {node.get("data-id") for node in svg.iter() if node.get("data-id")} == chosen

    page.select_option("[aria-label='Scale']", "2")
    with page.expect_request(lambda r: r.method == "POST" and "/export.png?" in r.url) as asked:
        width, height, rows = decode_png(download_export(page, "png"))
    assert "scale=2" in asked.value.url  # the server's PNG exporter, at the chosen scale
    assert set(json.loads(asked.value.post_data)["ids"]) == chosen
    min_x, min_y, max_x, max_y = page.evaluate("""() => { const s = window.syncboard;
        const b = s.scene.contentBounds([...s.selection]);
        return [b.minX, b.minY, b.maxX, b.maxY]; }""")
    # The server's PNG of the page's box (16 units of margin) at 2 pixels a unit.
    assert abs(width - 2 * (max_x - min_x + 32)) <= 1, (width, min_x, max_x)
    assert abs(height - 2 * (max_y - min_y + 32)) <= 1, (height, min_y, max_y)

    def at(x: float, y: float) -> tuple[int, int, int, int]:
        return pixel(rows, int(2 * (x - min_x + 16)), int(2 * (y - min_y + 16)))

    assert at(353, 313) == RED  # a square over the long rectangle
    assert at(358, 318) == WHITE  # between squares, where the long rectangle is not drawn
    assert at(353, 143) == WHITE  # the margin

    reader = PdfReader(io.BytesIO(download_export(page, "pdf")))
    assert len(reader.pages) == 1
    stream = reader.pages[0].get_contents().get_data()
    assert b"1 0 0 rg" in stream and b"1 0 1 rg" not in stream  # red squares, no magenta


def download_part(page, fmt: str, part: str) -> bytes:
    """Choose ``fmt`` in the open export panel, press Download; the file's bytes (its name
    says which part of the board it holds)."""
    page.select_option("[aria-label='Format']", fmt)
    with page.expect_download() as download:
        page.locator(".export-panel button", has_text="Download").click()
    extension = {"bundle": "syncboard.json"}.get(fmt, fmt)
    assert download.value.suggested_filename.endswith(f"-{part}.{extension}"), \
        download.value.suggested_filename
    return Path(download.value.path()).read_bytes()


def upload_png(server, board_id: str, data: bytes) -> str:
    request = urllib.request.Request(
        f"{server.base_url}/api/boards/{board_id}/files", method="POST", data=data,
        headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["fileId"]


def test_the_panel_exports_a_selection_or_a_frame_as_json_bundle_and_excalidraw(page, server):
    board_id = page.url.split("/b/")[1].split("#")[0]
    cyan, grey = upload_png(server, board_id, CYAN_PNG), upload_png(server, board_id, base_png())
    board = {"schemaVersion": 2, "meta": {"background": "#ffffff"}, "elements": [
        {"id": "pickA", "type": "rect", "x": 300, "y": 200, "w": 60, "h": 40, "z": "a0"},
        {"id": "pickImg", "type": "image", "x": 400, "y": 200, "w": 40, "h": 40, "z": "a1",
         "fileId": cyan},
        {"id": "below", "type": "ellipse", "x": 300, "y": 320, "w": 200, "h": 40, "z": "a2"},
        {"id": "frameP", "type": "frame", "x": 600, "y": 150, "w": 300, "h": 250, "z": "a3",
         "name": "Plan"},
        {"id": "heldImg", "type": "image", "x": 620, "y": 200, "w": 40, "h": 40, "z": "a4",
         "fileId": grey, "frameId": "frameP"},
        {"id": "looseIn", "type": "rect", "x": 750, "y": 300, "w": 60, "h": 40, "z": "a5"}]}
    request = urllib.request.Request(  # seeded through the server, as a script would
        f"{server.base_url}/api/boards/{board_id}/import", method="POST",
        data=json.dumps(board).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
    wait_element_count(page, 6)
    page.keyboard.press("v")
    start, end = screen(page, 290, 190), screen(page, 460, 260)
    drag(page, [start, ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2), end])
    page.wait_for_function("() => window.syncboard.selection.size === 2")
    chosen = {"pickA", "pickImg"}
    assert set(page.evaluate("[...window.syncboard.selection]")) == chosen

    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection").click()
    assert page.locator("[aria-label='What to export']").input_value() == "selection"
    with page.expect_request(lambda r: r.method == "POST" and "/export.json" in r.url) as asked:
        exported = json.loads(download_part(page, "json", "selection"))
    assert set(json.loads(asked.value.post_data)["ids"]) == chosen
    assert {e["id"] for e in exported["elements"]} == chosen
    bundle = json.loads(download_part(page, "bundle", "selection"))
    assert {e["id"] for e in bundle["board"]["elements"]} == chosen
    assert list(bundle["files"]) == [cyan]  # not the frame's image
    scene = json.loads(download_part(page, "excalidraw", "selection"))
    assert {e["id"] for e in scene["elements"]} == chosen and list(scene["files"]) == [cyan]
    page.locator(".export-panel button", has_text="Close").click()

    page.mouse.click(*screen(page, 600, 350))  # the frame's left edge selects it
    page.wait_for_function("() => window.syncboard.selection.has('frameP')")
    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection").click()
    assert page.locator("[aria-label='What to export']").input_value() == "frame"
    held = {"frameP", "heldImg"}  # not the rectangle inside its box that it does not hold
    assert {e["id"] for e in json.loads(download_part(page, "json", "frame"))["elements"]} \
        == held
    bundle = json.loads(download_part(page, "bundle", "frame"))
    assert {e["id"] for e in bundle["board"]["elements"]} == held
    assert list(bundle["files"]) == [grey]
    scene = json.loads(download_part(page, "excalidraw", "frame"))
    assert {e["id"] for e in scene["elements"]} == held and list(scene["files"]) == [grey]

    page.select_option("[aria-label='What to export']", "board")  # and the whole board
    page.select_option("[aria-label='Format']", "bundle")
    with page.expect_download() as download:
        page.locator(".export-panel button", has_text="Download").click()
    assert download.value.suggested_filename == f"board-{board_id}.syncboard.json"
    whole = json.loads(Path(download.value.path()).read_bytes())
    assert len(whole["board"]["elements"]) == 6 and sorted(whole["files"]) == sorted([cyan, grey])


def test_the_panel_exports_png_at_1x_and_3x_with_the_background_or_transparent(page, server):
    board_id = page.url.split("/b/")[1].split("#")[0]
    board = {"schemaVersion": 2, "meta": {"background": "#ffffff"}, "elements": [
        {"id": "red", "type": "rect", "x": 300, "y": 200, "w": 60, "h": 40, "z": "a0",
         "fill": "#ff0000", "stroke": "#ff0000", "strokeWidth": 1}]}
    request = urllib.request.Request(  # seeded through the server, as a script would
        f"{server.base_url}/api/boards/{board_id}/import", method="POST",
        data=json.dumps(board).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
    wait_element_count(page, 1)
    page.keyboard.press("v")
    page.mouse.click(*screen(page, 330, 220))
    page.wait_for_function("() => window.syncboard.selection.has('red')")
    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection").click()
    min_x, min_y, max_x, max_y = page.evaluate("""() => { const s = window.syncboard;
        const b = s.scene.contentBounds([...s.selection]);
        return [b.minX, b.minY, b.maxX, b.maxY]; }""")
    for scale, transparent, corner in (("1", False, WHITE), ("3", False, WHITE),
                                       ("3", True, (0, 0, 0, 0))):
        page.select_option("[aria-label='Scale']", scale)
        page.locator("[aria-label='Transparent background']").set_checked(transparent)
        with page.expect_request(lambda r: "/export.png?" in r.url) as asked:
            width, height, rows = decode_png(download_export(page, "png"))
        assert f"scale={scale}" in asked.value.url
        assert ("background=transparent" in asked.value.url) == transparent
        # The selection's box with 16 units of margin, at the chosen scale.
        assert abs(width - int(scale) * (max_x - min_x + 32)) <= 1, (scale, width)
        assert abs(height - int(scale) * (max_y - min_y + 32)) <= 1, (scale, height)
        assert pixel(rows, 2, 2) == corner, (scale, transparent)  # the margin
        assert pixel(rows, width // 2, height // 2) == RED


def test_a_bundle_from_the_import_menu_brings_its_image_and_undoes_in_one_step(page, server,
                                                                               tmp_path):
    """A backup made elsewhere: its image (one colour made for this test, so not on this
    server) comes with it, whatever the file is called."""
    colour = [secrets.randbelow(256) for _ in range(3)]
    picture = io.BytesIO()
    png.Writer(4, 4, greyscale=False).write(picture, [colour * 4] * 4)
    data = picture.getvalue()
    file_id = hashlib.sha256(data).hexdigest()
    backup = tmp_path / "backup.txt"
    backup.write_text(json.dumps({"type": "syncboard-bundle", "version": 1, "board": {
        "schemaVersion": 2, "meta": {}, "elements": [
            {"id": "shot", "type": "image", "x": 300, "y": 200, "w": 80, "h": 80, "z": "a0",
             "fileId": file_id},
            {"id": "caption", "type": "text", "x": 300, "y": 300, "w": 120, "h": 20, "z": "a1",
             "text": "From the backup", "fontSize": 14}]},
        "files": {file_id: {"mime": "image/png", "data": base64.b64encode(data).decode()}}}))
    with pytest.raises(urllib.error.HTTPError):  # not on this server before the import
        urllib.request.urlopen(f"{server.base_url}/api/files/{file_id}", timeout=30)
    draw_rect(page, 600, 250, 660, 310)
    wait_element_count(page, 1)
    page.click("[aria-label='Export or import']")
    with page.expect_file_chooser() as chooser:
        page.locator(".menu-item", has_text="Import file").click()
    chooser.value.set_files(str(backup))
    wait_element_count(page, 3)
    assert page.locator(".toast").last.inner_text() == (
        "2 elements imported from a syncboard bundle (Ctrl+Z undoes it)")
    assert elements(page)["shot"]["fileId"] == file_id
    with urllib.request.urlopen(f"{server.base_url}/api/files/{file_id}", timeout=30) as answer:
        assert answer.read() == data
    page.mouse.click(1100, 700)
    page.keyboard.press("Control+z")  # the whole import, not the rectangle drawn before
    wait_element_count(page, 1)
