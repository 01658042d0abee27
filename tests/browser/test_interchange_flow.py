"""Issue 15's "Done when" as one flow in real browsers: a newcomer makes a new board from the
home page and drops an Excalidraw diagram on it (boxes, a bound arrow with its label, an
image); a colleague moves a box with the mouse and both see the arrow follow; the board goes
back out from the page's export menu as ``.excalidraw`` (read back by the server's importer),
as PDF and as a bundle, and the bundle restores the board with its image on a second server
with an empty database. And a tldraw file dropped on the page imports with its report."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

from backend.export.incoming import read_import
from backend.export.mapping import FileLimits

from .conftest import elements, new_board, wait_all_confirmed, wait_connected, wait_element_count
from .test_interchange import drop_file, screen

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).parent.parent / "fixtures" / "interchange"
SCENE = FIXTURES / "diagram.excalidraw"
BOX, ELLIPSE, ARROW, IMAGE = ("RectBox1aaaaaaaaaaaaa", "Ellipse1ddddddddddddd",
                              "Arrow1ccccccccccccccc", "Image1jjjjjjjjjjjjjjj")
KINDS = {"frame": 1, "rect": 1, "ellipse": 1, "arrow": 1, "diamond": 1, "line": 1,
         "stroke": 1, "text": 1, "image": 1}
"""What the diagram becomes: its 12 elements less the deleted one and the two labels, which
become the box's and the arrow's ``label``."""


@pytest.fixture
def server(shared_server):
    return shared_server


@pytest.fixture
def newcomer(browser, server):
    """A first-time visitor's page on the home page (downloads accepted)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps('Ann')});")
    tab = context.new_page()
    tab.goto(server.base_url + "/")
    yield tab
    context.close()


def fixture_image() -> bytes:
    """The bytes of the one image in the Excalidraw fixture's ``files`` (a data URL)."""
    (entry,) = json.loads(SCENE.read_text())["files"].values()
    return base64.b64decode(entry["dataURL"].split(",", 1)[1])


def fetch(url: str, data: bytes | None = None) -> bytes:
    """GET (or POST ``data``, as JSON, to) ``url``; the answer's body."""
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200, url
        return response.read()


def drop_and_wait(page, path: Path, count: int) -> str:
    """Drop the file at ``path`` on the board (named as on disk, no type, as a desktop file
    manager gives a ``.excalidraw``/``.tldr``); wait for ``count`` elements; the toast's text."""
    drop_file(page, path.read_bytes(), path.name, "")
    said = page.wait_for_function(  # the report or an error (a toast lasts 3 s)
        """() => { const t = [...document.querySelectorAll('.toast')].pop();
            return t && (t.textContent.includes('imported') || t.matches('.toast-error'))
                && t.textContent; }""", timeout=60_000).json_value()
    wait_element_count(page, count)
    return said


def wait_drawn_cyan(page, x: float, y: float) -> None:
    """Wait until the board's canvas shows cyan (the fixture's image) at board point (x, y)."""
    page.wait_for_function(
        """([x, y]) => { const canvas = document.querySelector('.static-layer');
            const dpr = canvas.width / canvas.getBoundingClientRect().width;
            const [r, g, b] = canvas.getContext('2d')
                .getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
            return r < 40 && g > 215 && b > 215; }""", arg=list(screen(page, x, y)))


def arrow_ends(page) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the page draws the arrow's two ends (its routed geometry, in board units)."""
    x0, y0, x1, y1 = page.evaluate(f"""() => {{
        const a = window.syncboard.scene.byId.get('{ARROW}'); const p = a.points;
        return [a.x + p[0], a.y + p[1], a.x + p[p.length - 2], a.y + p[p.length - 1]]; }}""")
    return (x0, y0), (x1, y1)


def off_outline(point: tuple[float, float], el: dict) -> float:
    """How far ``point`` is from the outline of ``el``'s box (board units)."""
    x, y = point
    left, top, right, bottom = el["x"], el["y"], el["x"] + el["w"], el["y"] + el["h"]
    if left <= x <= right and top <= y <= bottom:
        return min(x - left, right - x, y - top, bottom - y)
    return math.hypot(max(left - x, 0, x - right), max(top - y, 0, y - bottom))


def export_from_menu(page, fmt: str) -> bytes:
    """The whole board exported in ``fmt`` from the page's export menu: the download's bytes."""
    page.click("[aria-label='Export or import']")
    page.locator(".menu-item", has_text="Export selection, frame, PDF").click()
    page.select_option("[aria-label='What to export']", "board")
    page.select_option("[aria-label='Format']", fmt)
    with page.expect_download() as download:
        page.locator(".export-panel button", has_text="Download").click()
    extension = {"bundle": "syncboard.json"}.get(fmt, fmt)
    assert download.value.suggested_filename.endswith(f".{extension}")
    page.locator(".export-panel button", has_text="Close").click()
    return Path(download.value.path()).read_bytes()


@pytest.mark.slow
def test_a_newcomers_excalidraw_diagram_edited_with_a_colleague_exported_and_restored(
        newcomer, server, server_process, open_board):
    page = newcomer
    page.click("text=+ New board")
    page.wait_for_url("**/b/**")
    wait_connected(page)
    board_id = page.url.split("/b/")[1].split("#")[0]

    report = drop_and_wait(page, SCENE, sum(KINDS.values()))
    assert report == (
        "9 elements imported from an Excalidraw file, 1 arrowheads of other shapes drawn as "
        "arrows, 1 cross-hatch fills drawn solid, 1 hachure fills drawn solid, 2 sketchy "
        "outlines drawn clean, 2 texts set in the board's font (Ctrl+Z undoes it)")
    board = elements(page)
    assert Counter(el["type"] for el in board.values()) == KINDS
    assert board[BOX]["label"] == "Client" and board[ARROW]["label"] == "calls"
    assert (board[ARROW]["startBindId"], board[ARROW]["endBindId"]) == (BOX, ELLIPSE)
    image = fixture_image()
    file_id = board[IMAGE]["fileId"]
    assert file_id == hashlib.sha256(image).hexdigest()
    assert fetch(f"{server.base_url}/api/files/{file_id}") == image  # the bytes, on the server
    picture = board[IMAGE]
    wait_drawn_cyan(page, picture["x"] + picture["w"] / 2, picture["y"] + picture["h"] / 2)
    wait_all_confirmed(page)

    # A colleague opens the same board and drags the box 150 units right, 100 down.
    colleague = open_board(server, board_id, "Bob")
    wait_element_count(colleague, sum(KINDS.values()))
    start_at, end_at = arrow_ends(colleague)
    assert off_outline(start_at, board[BOX]) < 8 and off_outline(end_at, board[ELLIPSE]) < 8
    box = board[BOX]
    colleague.keyboard.press("v")
    start = screen(colleague, box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    end = screen(colleague, box["x"] + box["w"] / 2 + 150, box["y"] + box["h"] / 2 + 100)
    colleague.mouse.move(*start)
    colleague.mouse.down()
    colleague.mouse.move(*end, steps=8)
    colleague.mouse.up()
    for viewer in (colleague, page):
        viewer.wait_for_function(f"() => window.syncboard.board.elements.get('{BOX}')"
                                 f".get('x') === {box['x'] + 150}")
        start_at, end_at = arrow_ends(viewer)  # the start followed the box; the end stayed
        assert off_outline(start_at, {**box, "x": box["x"] + 150, "y": box["y"] + 100}) < 8
        assert off_outline(start_at, box) > 50
        assert off_outline(end_at, board[ELLIPSE]) < 8
    wait_all_confirmed(colleague)

    # Back to Excalidraw: the server's importer reads the download with its bindings and image.
    exported = export_from_menu(page, "excalidraw")
    raw = {el["id"]: el for el in json.loads(exported)["elements"]}
    assert raw[ARROW]["startBinding"]["elementId"] == BOX
    assert raw[ARROW]["endBinding"]["elementId"] == ELLIPSE
    assert {"id": ARROW, "type": "arrow"} in raw[BOX]["boundElements"]
    assert [el["text"] for el in raw.values() if el.get("containerId") == BOX] == ["Client"]
    scene = read_import(exported, FileLimits(1 << 20, 10**6))
    assert scene.kind == "excalidraw"
    again = {el["id"]: el for el in scene.board["elements"]}
    assert Counter(el["type"] for el in again.values()) == KINDS
    assert (again[ARROW]["startBindId"], again[ARROW]["endBindId"]) == (BOX, ELLIPSE)
    assert again[BOX]["x"] == box["x"] + 150 and again[BOX]["label"] == "Client"
    assert again[IMAGE]["fileId"] == file_id and scene.files[file_id] == ("image/png", image)

    pdf = PdfReader(io.BytesIO(export_from_menu(page, "pdf")))
    assert len(pdf.pages) >= 1
    assert "Client" in pdf.pages[0].extract_text()  # vector: the box's label stays text

    # A full backup restored on a second server with an empty database.
    bundle = export_from_menu(page, "bundle")
    fresh = server_process()
    restored_id = new_board(fresh)
    fetch(f"{fresh.base_url}/api/boards/{restored_id}/import", bundle)
    original = json.loads(fetch(f"{server.base_url}/api/boards/{board_id}/export.json"))
    restored = json.loads(fetch(f"{fresh.base_url}/api/boards/{restored_id}/export.json"))
    assert restored["elements"] == original["elements"]
    assert fetch(f"{fresh.base_url}/api/files/{file_id}") == image
    assert fetch(f"{fresh.base_url}/api/boards/{restored_id}/export.bundle") == bundle


def test_a_dropped_tldraw_file_imports_with_its_report(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    report = drop_and_wait(page, FIXTURES / "diagram.tldr", 10)
    assert report == ("10 elements imported from a tldraw file, 2 hand-drawn outlines drawn "
                      "clean (Ctrl+Z undoes it)")
    board = elements(page)
    assert (board["arrow1"]["startBindId"], board["arrow1"]["endBindId"]) == ("box1", "oval1")
    assert board["note1"]["type"] == "sticky" and board["note1"]["text"] == "A note"
    assert board["image1"]["fileId"] == hashlib.sha256(fixture_image()).hexdigest()
