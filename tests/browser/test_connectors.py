"""Connectors bound to shapes (also when duplicated), labels, diamonds, stroke styles, the colour
picker and frames, with real input in two browser contexts, checked in both documents, against
the Python routing (backend/export/routing.py) and in the exported SVG."""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backend.board_model import load_model, normalize_element
from backend.export.routing import route_points

from .conftest import drag, elements, new_board, wait_all_confirmed, wait_element_count

pytestmark = pytest.mark.browser

SVG = "{http://www.w3.org/2000/svg}"
TOLERANCE = 0.5


@pytest.fixture
def server(shared_server):
    """Every test here works on its own board, so they share one server."""
    return shared_server


def drawn_points(page, element_id: str) -> list[tuple[float, float]]:
    """Where the page draws a connector: its scene element's points, in world units."""
    return [tuple(p) for p in page.evaluate(
        """(id) => { const s = window.syncboard.scene; s.refresh(); const e = s.byId.get(id);
                     const out = []; for (let i = 0; i < e.points.length; i += 2)
                       out.push([e.x + e.points[i], e.y + e.points[i + 1]]); return out; }""",
        element_id)]


def python_route(page, element_id: str) -> list[tuple[float, float]]:
    """The route the exporter computes from the page's document."""
    model = load_model()
    plain = {i: normalize_element(i, e, model) for i, e in elements(page).items()}
    return route_points(plain[element_id], lambda i: plain.get(i))


def svg_route(server, board_id: str, element_id: str, query: str = "") -> list[tuple[float, ...]]:
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.svg{query}",
                                timeout=10) as response:
        root = ET.fromstring(response.read())
    group = next(g for g in root.iter(SVG + "g") if g.get("data-id") == element_id)
    d = group.find(SVG + "path").get("d")
    return [tuple(float(v) for v in part.split()) for part in re.split("[ML]", d) if part]


def assert_close(got, want) -> None:
    assert len(got) == len(want), (got, want)
    for (x, y), (wx, wy) in zip(got, want, strict=True):
        assert abs(x - wx) <= TOLERANCE and abs(y - wy) <= TOLERANCE, (got, want)


def screen(page, x: float, y: float) -> tuple[float, float]:
    s = page.evaluate("([x, y]) => window.syncboard.camera.toScreen(x, y)", [x, y])
    return s["x"], s["y"]


def test_arrow_bound_to_two_boxes_follows_both_when_two_people_move_them_at_once(
        server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    ann.keyboard.press("r")
    drag(ann, [(300, 300), (420, 380)])
    ann.keyboard.press("r")
    drag(ann, [(700, 300), (820, 380)])
    ann.keyboard.press("a")
    drag(ann, [(365, 345), (760, 335)])  # from inside one box to inside the other
    doc = elements(ann)
    boxes = sorted((e["x"], i) for i, e in doc.items() if e["type"] == "rect")
    left, right = boxes[0][1], boxes[1][1]
    arrow = next(i for i, e in doc.items() if e["type"] == "arrow")
    assert (doc[arrow]["startBindId"], doc[arrow]["endBindId"]) == (left, right)
    # Centre snap: the anchors hold their default 0.5, so they are not even stored.
    assert (doc[arrow].get("startAnchorX", 0.5), doc[arrow].get("endAnchorY", 0.5)) == (0.5, 0.5)
    assert_close(drawn_points(ann, arrow), [(424, 340), (696, 340)])
    wait_all_confirmed(ann)
    wait_element_count(bob, 3)

    # Ann drags the left box down while Bob drags the right box up, interleaved step by step.
    a_from, b_from = screen(ann, 360, 300), screen(bob, 760, 300)  # their top edges
    ann.mouse.move(*a_from)
    bob.mouse.move(*b_from)
    ann.mouse.down()
    bob.mouse.down()
    for step in range(1, 7):
        ann.mouse.move(a_from[0], a_from[1] + 25 * step)
        bob.mouse.move(b_from[0], b_from[1] - 25 * step)
    ann.mouse.up()
    bob.mouse.up()
    for page in (ann, bob):
        wait_all_confirmed(page)
    for page in (ann, bob):
        page.wait_for_function(
            f"""() => {{ const d = window.syncboard.board;
                 return d.get('{left}').get('y') === 450
                     && d.get('{right}').get('y') === 150; }}""")
    expected = python_route(ann, arrow)
    for page in (ann, bob):
        assert_close(drawn_points(page, arrow), expected)
        doc = elements(page)
        assert (doc[arrow]["startBindId"], doc[arrow]["endBindId"]) == (left, right)
    # The left box's centre is (360, 490), the right one's (760, 190): the arrow joins them.
    (sx, sy), (ex, ey) = expected
    assert 300 <= sx <= 424 and 446 <= sy <= 534 and 696 <= ex <= 820 and 146 <= ey <= 234
    assert_close(svg_route(server, board_id, arrow), expected)

    # Dragging the end away unbinds it; deleting the left box keeps the start where it was.
    ann.evaluate(f"window.syncboard.setSelection(['{arrow}'])")
    end_handle = screen(ann, ex, ey)
    drag(ann, [end_handle, (end_handle[0] + 150, end_handle[1] + 200)])
    assert elements(ann)[arrow].get("endBindId") == ""
    start_before = drawn_points(ann, arrow)[0]
    ann.evaluate(f"window.syncboard.setSelection(['{left}'])")
    ann.keyboard.press("Delete")
    wait_element_count(ann, 2)
    assert elements(ann)[arrow]["startBindId"] == ""
    assert_close([drawn_points(ann, arrow)[0]], [start_before])
    wait_all_confirmed(ann)
    bob.wait_for_function(f"() => window.syncboard.board.get('{arrow}').get('startBindId') === ''")
    assert_close([drawn_points(bob, arrow)[0]], [start_before])
    assert ann.errors == [] and bob.errors == []


def test_a_box_moves_freely_past_the_ends_of_the_arrows_bound_to_it(server, open_board):
    """The arrows bound to a dragged box follow it, so they are no snap targets for it: the
    box's right edge 2 px from its own arrow's start does not snap there."""
    page = open_board(server, new_board(server), "Ann")
    page.wait_for_function("() => window.syncboard.camera.zoom === 1")
    page.keyboard.press("r")
    drag(page, [(300, 300), (420, 380)])
    page.keyboard.press("r")
    drag(page, [(700, 300), (820, 380)])
    page.keyboard.press("a")
    drag(page, [(365, 345), (760, 335)])
    doc = elements(page)
    left = min((e["x"], i) for i, e in doc.items() if e["type"] == "rect")[1]
    arrow = next(i for i, e in doc.items() if e["type"] == "arrow")
    assert_close(drawn_points(page, arrow), [(424, 340), (696, 340)])
    page.keyboard.press("Escape")
    drag(page, [(360, 300), (363, 300), (366, 300)])  # the left box's top edge, 6 px right
    assert (elements(page)[left]["x"], elements(page)[left]["y"]) == (306, 300)
    assert_close(drawn_points(page, arrow), [(430, 340), (696, 340)])
    assert page.errors == []


def test_two_people_type_in_one_label_and_shapes_take_styles_and_colours(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    ann.keyboard.press("d")  # the diamond tool's shortcut
    drag(ann, [(400, 250), (640, 450)])
    wait_all_confirmed(ann)
    wait_element_count(bob, 1)
    shape = next(iter(elements(ann)))
    assert elements(ann)[shape]["type"] == "diamond"
    for page in (ann, bob):
        page.evaluate("window.syncboard.setTool('select')")
        page.mouse.dblclick(520, 350)  # inside the (transparent) diamond
        page.wait_for_selector("textarea.text-editor:not([hidden])")
    for a_char, b_char in zip("Yes?", "okay", strict=True):
        ann.keyboard.type(a_char)
        bob.keyboard.type(b_char)
    for page in (ann, bob):
        page.keyboard.press("Escape")
        wait_all_confirmed(page)
    ann.wait_for_function(
        f"() => window.syncboard.board.get('{shape}').get('label').toString().length === 8")
    bob.wait_for_function(
        f"() => window.syncboard.board.get('{shape}').get('label').toString().length === 8")
    label = elements(ann)[shape]["label"]
    assert label == elements(bob)[shape]["label"] and sorted(label) == sorted("Yes?okay")

    # Style panel: dashed outline, a custom hex colour from the picker, remembered as recent.
    ann.mouse.click(520, 250)  # the diamond's top vertex: selects it
    ann.click(".style-row button[data-key='strokeStyle'][data-value='dashed']")
    hex_input = ann.locator("input.hex-input[data-color-key='stroke']")
    hex_input.fill("#12ab9c")
    hex_input.press("Enter")
    ann.wait_for_function(
        f"() => window.syncboard.board.get('{shape}').get('stroke') === '#12ab9c'")
    assert elements(ann)[shape]["strokeStyle"] == "dashed"
    assert ann.locator(".recent-colors button[data-recent='#12ab9c']").count() >= 1
    hex_input.fill("red;}")
    hex_input.press("Enter")
    assert elements(ann)[shape]["stroke"] == "#12ab9c"  # not a schema colour: refused

    wait_all_confirmed(ann)
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.svg",
                                timeout=10) as response:
        root = ET.fromstring(response.read())
    group = next(g for g in root.iter(SVG + "g") if g.get("data-id") == shape)
    polygon = group.find(SVG + "polygon")
    assert polygon.get("stroke") == "#12ab9c" and polygon.get("stroke-dasharray") == "8 6"
    spans = "".join(t.text or "" for t in group.iter(SVG + "tspan"))
    assert sorted(spans.replace(" ", "")) == sorted(label)
    assert ann.errors == [] and bob.errors == []


def test_frame_holds_what_is_drawn_in_it_moves_it_and_exports_alone(server, open_board):
    board_id = new_board(server)
    page = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    page.keyboard.press("r")
    drag(page, [(350, 300), (450, 360)])
    page.keyboard.press("o")
    drag(page, [(900, 300), (1000, 360)])  # outside the frame
    page.keyboard.press("f")
    drag(page, [(300, 250), (600, 500)])
    doc = elements(page)
    frame = next(i for i, e in doc.items() if e["type"] == "frame")
    rect = next(i for i, e in doc.items() if e["type"] == "rect")
    ellipse = next(i for i, e in doc.items() if e["type"] == "ellipse")
    assert doc[frame]["name"] == "Frame"
    assert (doc[rect]["frameId"], doc[ellipse].get("frameId", "")) == (frame, "")
    page.keyboard.press("Escape")
    drag(page, [(300, 400), (340, 440)])  # grab the frame's left edge: frame and rect move
    doc = elements(page)
    assert (doc[frame]["x"], doc[frame]["y"]) == (340, 290)
    assert (doc[rect]["x"], doc[rect]["y"]) == (390, 340)
    assert (doc[ellipse]["x"], doc[ellipse]["y"]) == (900, 300)
    wait_all_confirmed(page)
    bob.wait_for_function(f"() => window.syncboard.board.get('{frame}')?.get('x') === 340")

    # While Ann renames the frame, Bob draws a diamond into it and drags the rect out of it
    # (Alt: no snapping, the move is exact).
    page.once("dialog", lambda dialog: dialog.accept("Intro slide"))
    page.locator(".frames-panel .frame-rename").click()
    bob.keyboard.press("d")
    drag(bob, [screen(bob, 520, 320), screen(bob, 600, 400)])
    bob.mouse.move(*screen(bob, 390, 370))  # the rect's left edge (it is not filled)
    bob.mouse.down()
    bob.keyboard.down("Alt")
    bob.mouse.move(*screen(bob, 390, 500), steps=3)
    bob.mouse.move(*screen(bob, 390, 620), steps=3)
    bob.mouse.up()
    bob.keyboard.up("Alt")
    diamond = next(i for i, e in elements(bob).items() if e["type"] == "diamond")
    for p in (page, bob):
        wait_all_confirmed(p)
    for p in (page, bob):
        p.wait_for_function(
            f"""() => {{ const d = window.syncboard.board;
                 return d.get('{frame}').get('name') === 'Intro slide'
                     && d.get('{diamond}')?.get('frameId') === '{frame}'
                     && d.get('{rect}').get('y') === 590 && !d.get('{rect}').get('frameId'); }}""")
    assert elements(page) == elements(bob)
    assert [elements(page)[diamond][k] for k in ("x", "y", "w", "h")] == [520, 320, 80, 80]
    shown = [{frame} | {i for i, e in elements(p).items() if e.get("frameId") == frame}
             for p in (page, bob)]
    assert shown == [{frame, diamond}] * 2

    page.locator(".frames-panel .frame-name", has_text="Intro slide").click()
    view = page.evaluate("window.syncboard.camera.viewRect()")
    assert view["minX"] <= 340 and view["maxX"] >= 640 and view["maxX"] < 900
    with page.expect_download() as download:
        page.locator(".frames-panel .frame-export").click()
    root = ET.fromstring(Path(download.value.path()).read_bytes())
    ids = {g.get("data-id") for g in root.iter(SVG + "g")}
    assert ids == shown[0]  # exactly what both pages hold in the frame: Bob's diamond, no rect
    assert root.get("viewBox") == "340 290 300 250"
    name = next(t for t in root.iter(SVG + "text") if t.get("data-role") == "frame-name")
    assert name.text == "Intro slide"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.svg?frame=nope",
                               timeout=10)
    assert missing.value.code == 404

    # An arrow from the rect to the ellipse; duplicating everything binds the copy to the copies.
    page.keyboard.press("Shift+!")
    page.keyboard.press("a")
    drag(page, [screen(page, 440, 620), screen(page, 950, 330)])
    arrow = next(i for i, e in elements(page).items() if e["type"] == "arrow")
    assert (elements(page)[arrow]["startBindId"], elements(page)[arrow]["endBindId"]) == \
        (rect, ellipse)
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+d")
    wait_element_count(page, 10)
    doc = elements(page)
    copy = next(i for i, e in doc.items() if e["type"] == "arrow" and i != arrow)
    ends = (doc[copy]["startBindId"], doc[copy]["endBindId"])
    assert doc[ends[0]]["type"] == "rect" and doc[ends[1]]["type"] == "ellipse"
    assert not {rect, ellipse} & set(ends)
    wait_all_confirmed(page)
    wait_element_count(bob, 10)
    assert page.errors == [] and bob.errors == []


RECORD_PAINTED_TEXT = """() => {
  window.paintedText = [];
  const fill = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    window.paintedText.push({ text, font: this.font, y });
    return fill.call(this, text, x, y, ...rest);
  };
}"""
"""Test instrumentation: every string the page's canvases paint, with its font, in order."""
LABEL_FONT = '20px "DejaVu Sans", sans-serif'


def test_a_typed_label_breaks_into_the_same_lines_on_the_canvas_and_in_the_exports(
        server, open_board):
    """The label below breaks "WWW MMM WWW | MMM illicit lilt little" by the bundled font's
    advances; the exporter's old estimate (0.55 em a character) broke it after "MMM". Bob's
    page, which receives the label as Ann types it, breaks it into the same lines."""
    board_id = new_board(server)
    page = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    page.wait_for_function("() => window.syncboard.camera.zoom === 1")
    page.keyboard.press("r")
    drag(page, [(400, 250), (640, 400)])  # 240 wide: the label wraps in 240 - 2 * 8
    shape = next(iter(elements(page)))
    page.evaluate("window.syncboard.setTool('select')")
    page.mouse.dblclick(520, 325)
    page.wait_for_selector("textarea.text-editor:not([hidden])")
    page.keyboard.type("WWW MMM WWW MMM illicit lilt little")
    page.evaluate(RECORD_PAINTED_TEXT)
    page.keyboard.press("Escape")
    wait_all_confirmed(page)
    page.evaluate("window.syncboard.painted()")
    painted = [t["text"] for t in page.evaluate("window.paintedText")
               if t["font"] == LABEL_FONT]
    assert painted == ["WWW MMM WWW", "MMM illicit lilt little"]
    bob.wait_for_function(f"""() => window.syncboard.board.get('{shape}')?.get('label')
                                ?.toString() === 'WWW MMM WWW MMM illicit lilt little'""")
    bob.evaluate("window.syncboard.painted()")
    bob.evaluate(RECORD_PAINTED_TEXT)
    bob.mouse.move(640, 700)
    bob.mouse.wheel(5, 0)  # a pan: Bob's page paints the board again
    bob.wait_for_function(f"() => window.paintedText.some((t) => t.font === '{LABEL_FONT}')")
    assert [t["text"] for t in bob.evaluate("window.paintedText")
            if t["font"] == LABEL_FONT] == painted
    # The canvas drew in the bundled font, fetched from the server (not a fallback).
    assert page.evaluate("document.fonts.check('20px \"DejaVu Sans\"')")
    assert page.evaluate("""() => [...document.fonts].some((f) => f.family.includes('DejaVu Sans')
                                       && f.status === 'loaded')""")

    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.svg",
                                timeout=10) as response:
        root = ET.fromstring(response.read())
    group = next(g for g in root.iter(SVG + "g") if g.get("data-id") == shape)
    label = next(t for t in group.iter(SVG + "text") if t.get("data-role") == "label")
    assert [span.text for span in label.iter(SVG + "tspan")] == painted
    assert "@font-face" in root.find(SVG + "style").text
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.pdf",
                                timeout=30) as response:
        from pypdf import PdfReader
        text = PdfReader(io.BytesIO(response.read())).pages[0].extract_text()
    assert [line.strip() for line in text.splitlines() if line.strip()] == painted
    assert page.errors == [] and bob.errors == []
