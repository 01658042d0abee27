"""Copy, cut and paste with the real keyboard (issue 12, clipboard): within a board, between two
tabs on different boards, plain text from elsewhere, an image file, and what other apps get."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import add_sticky, drag, draw_rect, elements, new_board, wait_connected
from .test_tools import tiny_png

pytestmark = pytest.mark.browser

RED_PNG = tiny_png(40, 30)


@pytest.fixture
def server(shared_server):
    return shared_server


@pytest.fixture
def tabs(browser, server):
    """Factory: ``tabs(*board_ids)`` opens one page per board in ONE browser context (tabs of one
    browser share the clipboard), clipboard permissions granted for reading results back."""
    contexts = []

    def open_tabs(*board_ids):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
        context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps('Ann')});")
        contexts.append(context)
        pages = []
        for board_id in board_ids:
            page = context.new_page()
            page.errors = []
            page.on("pageerror", lambda error, page=page: page.errors.append(str(error)))
            page.goto(f"{server.base_url}/b/{board_id}")
            wait_connected(page)
            pages.append(page)
        return pages

    yield open_tabs
    for context in contexts:
        context.close()


def by_text(page) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for el in elements(page).values():
        out.setdefault(el.get("text", el["type"]), []).append(el)
    return out


def copy_text_from_the_title_field(page, text: str) -> None:
    """Put plain text on the clipboard the way a user would: type it into a text field, select
    it, Ctrl+C (the title field of the top bar serves as 'another app')."""
    page.locator(".board-title").click()
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("Escape")  # cancels the rename


def test_copy_and_paste_within_a_board_lands_at_the_pointer_as_one_undo_step(server, tabs):
    (page,) = tabs(new_board(server))
    draw_rect(page, 400, 300, 500, 380)
    add_sticky(page, 700, 340, "hello")
    page.keyboard.press("v")
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.mouse.move(900, 600)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 4")
    pasted = page.evaluate("[...window.syncboard.selection]")
    doc = elements(page)
    assert len(pasted) == 2 and {doc[i]["type"] for i in pasted} == {"rect", "sticky"}
    originals = [el for i, el in doc.items() if i not in pasted]
    dx = {doc[i]["type"]: doc[i]["x"] for i in pasted}
    ox = {el["type"]: el["x"] for el in originals}
    assert dx["rect"] - ox["rect"] == pytest.approx(dx["sticky"] - ox["sticky"])
    bounds = page.evaluate(
        "() => window.syncboard.scene.contentBounds(window.syncboard.selection)")
    centre = ((bounds["minX"] + bounds["maxX"]) / 2, (bounds["minY"] + bounds["maxY"]) / 2)
    assert centre == pytest.approx((900, 600), abs=2)
    assert by_text(page)["hello"][0]["text"] == by_text(page)["hello"][1]["text"]
    page.keyboard.press("Control+z")  # the whole paste is one step
    page.wait_for_function("() => window.syncboard.board.elements.size === 2")
    assert page.errors == []


def test_cut_and_paste_between_two_tabs_on_different_boards(server, tabs):
    first, second = tabs(new_board(server), new_board(server))
    add_sticky(first, 600, 300, "moves to the other board")
    first.keyboard.press("v")
    first.keyboard.press("Control+a")
    first.keyboard.press("Control+x")
    first.wait_for_function("() => window.syncboard.board.elements.size === 0")
    second.bring_to_front()
    second.mouse.move(500, 500)
    second.keyboard.press("Control+v")
    second.wait_for_function("() => window.syncboard.board.elements.size === 1")
    note = next(iter(elements(second).values()))
    assert note["type"] == "sticky" and note["text"] == "moves to the other board"
    assert second.errors == [] and first.errors == []


def test_pasted_plain_text_becomes_a_text_element_and_never_a_stale_image(server, tabs):
    (page,) = tabs(new_board(server))
    # An image on the clipboard, as another app would leave it (the set-up, not the action).
    page.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const blob = new Blob([bytes], {type: 'image/png'});
            await navigator.clipboard.write([new ClipboardItem({'image/png': blob})]);
        }""",
        base64.b64encode(RED_PNG).decode(),
    )
    page.mouse.move(600, 400)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 1")
    assert next(iter(elements(page).values()))["type"] == "image"

    copy_text_from_the_title_field(page, "a line from another app")
    page.mouse.move(700, 500)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 2")
    texts = [el for el in elements(page).values() if el["type"] == "text"]
    assert [t["text"] for t in texts] == ["a line from another app"]
    assert sum(el["type"] == "image" for el in elements(page).values()) == 1
    assert page.errors == []


def test_a_copy_gives_other_apps_the_texts_and_a_picture(server, tabs):
    (page,) = tabs(new_board(server))
    add_sticky(page, 600, 300, "first note")
    add_sticky(page, 900, 300, "second note")
    page.keyboard.press("v")
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    formats = page.evaluate(
        """async () => {
            const out = {};
            for (const item of await navigator.clipboard.read()) {
                for (const type of item.types) out[type] = await (await item.getType(type)).text();
            }
            return out;
        }"""
    )
    assert formats["text/plain"] == "first note\n\nsecond note"
    assert '<img src="data:image/png;base64,' in formats["text/html"]


# ---- connectors (issue 13): a copy holds an arrow where it is drawn, not its stale stored points

def world_points(el: dict) -> list[tuple[float, float]]:
    """A document element's stored points in world units (connectors here have angle 0)."""
    pts = el["points"]
    return [(el["x"] + pts[i], el["y"] + pts[i + 1]) for i in range(0, len(pts), 2)]


def drawn_points(page, element_id: str) -> list[tuple[float, float]]:
    """Where the page draws a connector (its scene element), in world units."""
    return [tuple(p) for p in page.evaluate(
        """(id) => { const e = window.syncboard.scene.byId.get(id); const out = [];
                     for (let i = 0; i < e.points.length; i += 2)
                       out.push([e.x + e.points[i], e.y + e.points[i + 1]]); return out; }""",
        element_id)]


def shifted(points, dx: float, dy: float) -> list[tuple[float, float]]:
    return [(x + dx, y + dy) for x, y in points]


def assert_close(got, want, tolerance: float = 1e-6) -> None:
    assert len(got) == len(want), (got, want)
    for (x, y), (wx, wy) in zip(got, want, strict=True):
        assert abs(x - wx) <= tolerance and abs(y - wy) <= tolerance, (got, want)


def arrow_between_boxes_then_one_box_moved(page) -> tuple[str, str, str]:
    """Two boxes and an arrow bound to both, drawn with the mouse; then the right box is dragged
    200 down (Alt: no snapping), so the arrow's stored points are no longer where it is drawn.
    Returns (left box, right box, arrow); the select tool is active, nothing selected."""
    draw_rect(page, 300, 300, 420, 380)
    draw_rect(page, 700, 300, 820, 380)
    page.keyboard.press("a")
    drag(page, [(365, 345), (760, 335)])  # from inside one box to inside the other
    page.keyboard.press("v")
    page.mouse.move(760, 300)  # the right box's top edge (boxes are not filled)
    page.mouse.down()
    page.keyboard.down("Alt")
    page.mouse.move(760, 400, steps=3)
    page.mouse.move(760, 500, steps=3)
    page.mouse.up()
    page.keyboard.up("Alt")
    page.keyboard.press("Escape")
    doc = elements(page)
    left, right = (i for _, i in sorted((e["x"], i) for i, e in doc.items() if e["type"] == "rect"))
    arrow = next(i for i, e in doc.items() if e["type"] == "arrow")
    assert doc[right]["y"] == 500
    assert (doc[arrow]["startBindId"], doc[arrow]["endBindId"]) == (left, right)
    stored, drawn = world_points(doc[arrow]), drawn_points(page, arrow)
    assert abs(stored[-1][1] - drawn[-1][1]) > 100  # stale: the drawn end followed the box
    return left, right, arrow


def click_arrow(page, arrow: str) -> None:
    """Select the arrow alone: a click on the middle of its drawn path."""
    (x0, y0), (x1, y1) = drawn_points(page, arrow)
    page.mouse.click((x0 + x1) / 2, (y0 + y1) / 2)
    page.wait_for_function(f"() => [...window.syncboard.selection].join() === '{arrow}'")


@pytest.mark.slow
def test_an_arrow_copied_without_its_boxes_pastes_free_where_it_is_drawn(server, tabs):
    page, other = tabs(new_board(server), new_board(server))
    _, _, arrow = arrow_between_boxes_then_one_box_moved(page)
    drawn = drawn_points(page, arrow)
    click_arrow(page, arrow)
    page.keyboard.press("Control+c")
    page.locator(".board-title").hover()  # the pointer leaves the board: the paste is offset
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 4")
    (copy,) = page.evaluate("[...window.syncboard.selection]")
    doc = elements(page)
    assert (doc[copy]["startBindId"], doc[copy]["endBindId"]) == ("", "")
    expected = shifted(drawn, 16, 16)  # like every paste of this board's copy: 16 down-right
    assert_close(drawn_points(page, copy), expected)
    assert_close(world_points(doc[copy]), expected)
    assert (doc[copy]["x"], doc[copy]["y"]) == pytest.approx(expected[0])  # the documented form

    # Into another board (another tab), where its boxes do not exist: free, the same shape.
    other.bring_to_front()
    other.mouse.move(600, 400)
    other.keyboard.press("Control+v")
    other.wait_for_function("() => window.syncboard.board.elements.size === 1")
    (there,) = elements(other).values()
    assert (there["startBindId"], there["endBindId"]) == ("", "")
    ((ax, ay), (bx, by)), (x0, y0) = world_points(there), drawn[0]
    assert_close([(ax, ay), (bx, by)], shifted(drawn, ax - x0, ay - y0))
    assert ((ax + bx) / 2, (ay + by) / 2) == pytest.approx((600, 400), abs=1)
    assert page.errors == [] and other.errors == []


def test_an_arrow_copied_with_its_boxes_pastes_bound_to_the_pasted_boxes(server, tabs):
    (page,) = tabs(new_board(server))
    left, right, arrow = arrow_between_boxes_then_one_box_moved(page)
    drawn = drawn_points(page, arrow)
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.mouse.move(700, 650)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 6")
    pasted = page.evaluate("[...window.syncboard.selection]")
    doc = elements(page)
    copy = next(i for i in pasted if doc[i]["type"] == "arrow")
    left_copy, right_copy = (
        i for _, i in sorted((doc[i]["x"], i) for i in pasted if doc[i]["type"] == "rect"))
    assert (doc[copy]["startBindId"], doc[copy]["endBindId"]) == (left_copy, right_copy)
    dx, dy = doc[left_copy]["x"] - doc[left]["x"], doc[left_copy]["y"] - doc[left]["y"]
    assert (doc[right_copy]["x"] - doc[right]["x"], doc[right_copy]["y"] - doc[right]["y"]) == \
        pytest.approx((dx, dy))
    # Drawn along the copies, and stored where it is drawn (a reader that does not route, an
    # older client, sees it in place); the pasted group is centred at the pointer.
    assert_close(drawn_points(page, copy), shifted(drawn, dx, dy))
    assert_close(world_points(doc[copy]), shifted(drawn, dx, dy))
    bounds = page.evaluate("() => window.syncboard.scene.contentBounds(window.syncboard.selection)")
    centre = ((bounds["minX"] + bounds["maxX"]) / 2, (bounds["minY"] + bounds["maxY"]) / 2)
    assert centre == pytest.approx((700, 650), abs=2)
    # Moving a pasted box moves the pasted arrow's end, not the original's.
    before = drawn_points(page, arrow)
    page.keyboard.press("Escape")
    top = doc[right_copy]["y"]
    page.mouse.move(doc[right_copy]["x"] + 60, top)
    page.mouse.down()
    page.keyboard.down("Alt")
    page.mouse.move(doc[right_copy]["x"] + 60, top + 40, steps=3)
    page.mouse.up()
    page.keyboard.up("Alt")
    page.wait_for_function(
        f"() => window.syncboard.board.get('{right_copy}').get('y') === {top + 40}")
    assert drawn_points(page, copy)[-1][1] > shifted(drawn, dx, dy)[-1][1] + 20
    assert_close(drawn_points(page, arrow), before)
    assert page.errors == []


def test_ctrl_d_duplicates_an_arrow_alone_free_where_it_is_drawn(server, tabs):
    (page,) = tabs(new_board(server))
    _, _, arrow = arrow_between_boxes_then_one_box_moved(page)
    drawn = drawn_points(page, arrow)
    click_arrow(page, arrow)
    page.keyboard.press("Control+d")
    page.wait_for_function("() => window.syncboard.board.elements.size === 4")
    (copy,) = page.evaluate("[...window.syncboard.selection]")
    doc = elements(page)
    assert (doc[copy]["startBindId"], doc[copy]["endBindId"]) == ("", "")
    assert_close(drawn_points(page, copy), shifted(drawn, 16, 16))
    assert_close(world_points(doc[copy]), shifted(drawn, 16, 16))
    assert page.errors == []
