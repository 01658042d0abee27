"""Frames hold what lies in them (shared/BOARD.md, "Frames"): resizing a frame with the mouse
takes in the free elements it now covers and lets go of those it no longer covers, as one undo
step, while another person moves a member out at the same time; deleting a frame deletes its
content with it (as Excalidraw and tldraw do), and one undo brings everything back. Checked in
both browser contexts and in the frame's SVG export."""

from __future__ import annotations

import urllib.request
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from .conftest import drag, elements, new_board, wait_all_confirmed, wait_element_count

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def server(shared_server):
    """Every test here works on its own board, so they share one server."""
    return shared_server


def screen(page, x: float, y: float) -> tuple[float, float]:
    s = page.evaluate("([x, y]) => window.syncboard.camera.toScreen(x, y)", [x, y])
    return s["x"], s["y"]


def by_center(page) -> dict[tuple[float, float], str]:
    """Rectangles of the page's document by their centre (world units) -> id."""
    return {(e["x"] + e["w"] / 2, e["y"] + e["h"] / 2): i for i, e in elements(page).items()
            if e["type"] == "rect"}


def frame_ids(page, ids) -> list[str]:
    doc = elements(page)
    return [doc[i].get("frameId", "") for i in ids]


def wait_frame_ids(page, ids, expected) -> None:
    page.wait_for_function(
        """([ids, expected]) => ids.every((id, i) =>
             (window.syncboard.board.get(id)?.get('frameId') ?? '') === expected[i])""",
        arg=[list(ids), list(expected)])


def frame_export_ids(server, board_id: str, frame: str) -> set[str]:
    with urllib.request.urlopen(
            f"{server.base_url}/api/boards/{board_id}/export.svg?frame={frame}",
            timeout=10) as response:
        root = ET.fromstring(response.read())
    return {g.get("data-id") for g in root.iter(SVG + "g")}


def draw(page, tool: str, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.keyboard.press(tool)
    drag(page, [a, b])


def open_ann_and_bob(server, open_board) -> tuple[str, Page, Page]:
    """A new board open for Ann and Bob; Ann's view at 100 % (screen points are board points)."""
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    ann.wait_for_function("() => window.syncboard.camera.zoom === 1")
    return board_id, ann, bob


def test_resizing_a_frame_takes_in_and_lets_go_in_one_undo_step_while_a_member_moves_out(
        server, open_board):
    board_id, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (350, 420), (450, 480))  # low in the frame: the resize leaves it out
    draw(ann, "r", (350, 280), (450, 340))  # in the frame: Bob moves it out meanwhile
    draw(ann, "r", (650, 300), (750, 360))  # right of the frame: the resize takes it in
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 4)
    rects = by_center(ann)
    low, moved, right = rects[(400, 450)], rects[(400, 310)], rects[(700, 330)]
    frame = next(i for i, e in elements(ann).items() if e["type"] == "frame")
    assert frame_ids(ann, [low, moved, right]) == [frame, frame, ""]

    ann.mouse.click(300, 400)  # the frame's left edge selects it
    ann.wait_for_function(f"() => window.syncboard.selection.has('{frame}')")
    ann.mouse.move(600, 500)  # its bottom-right handle
    ann.mouse.down()
    ann.mouse.move(700, 460, steps=3)
    # Bob drags a member out of the frame while Ann's resize is under way.
    bob.evaluate("window.syncboard.setTool('select')")
    bob.mouse.move(*screen(bob, 350, 310))  # the rectangle's left edge (it is not filled)
    bob.mouse.down()
    bob.keyboard.down("Alt")  # no snapping: the move is exact
    bob.mouse.move(*screen(bob, 350, 200), steps=3)
    bob.mouse.move(*screen(bob, 350, 150), steps=3)
    bob.mouse.up()
    bob.keyboard.up("Alt")
    ann.wait_for_function(f"""() => {{ const m = window.syncboard.board.get('{moved}');
                                      return m.get('y') === 120 && !m.get('frameId'); }}""")
    ann.mouse.move(800, 420, steps=3)
    ann.mouse.up()
    for page in (ann, bob):
        wait_all_confirmed(page)
        wait_frame_ids(page, [low, moved, right], ["", "", frame])
        f = elements(page)[frame]
        assert (f["x"], f["y"], f["w"], f["h"]) == (300, 250, 500, 170)
    assert frame_export_ids(server, board_id, frame) == {frame, right}

    ann.keyboard.press("Control+z")  # one step: the size and the membership together
    for page in (ann, bob):
        page.wait_for_function(f"() => window.syncboard.board.get('{frame}').get('w') === 300")
        wait_frame_ids(page, [low, moved, right], [frame, "", ""])
        assert elements(page)[moved]["y"] == 120  # Bob's move is Bob's: Ann's undo keeps it
    wait_all_confirmed(ann)
    assert frame_export_ids(server, board_id, frame) == {frame, low}
    assert ann.errors == [] and bob.errors == []


def test_deleting_a_frame_deletes_its_content_and_one_undo_brings_it_all_back(
        server, open_board):
    _, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (350, 300), (450, 360))  # in the frame
    draw(ann, "r", (800, 300), (900, 360))  # outside it
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    # From the outside box to the inside one, bound at both ends; its middle is outside the frame.
    draw(ann, "a", (850, 330), (400, 330))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    doc = elements(ann)
    rects = by_center(ann)
    inside, outside = rects[(400, 330)], rects[(850, 330)]
    frame = next(i for i, e in doc.items() if e["type"] == "frame")
    arrow = next(i for i, e in doc.items() if e["type"] == "arrow")
    assert doc[inside]["frameId"] == frame
    assert doc[outside].get("frameId", "") == doc[arrow].get("frameId", "") == ""
    assert (doc[arrow]["startBindId"], doc[arrow]["endBindId"]) == (outside, inside)
    wait_element_count(bob, 4)

    ann.mouse.click(300, 450)  # the frame's left edge
    ann.wait_for_function(f"() => window.syncboard.selection.has('{frame}')")
    ann.keyboard.press("Delete")
    for page in (ann, bob):
        wait_element_count(page, 2)
        doc = elements(page)
        assert set(doc) == {outside, arrow}
        assert doc[arrow]["endBindId"] == "" and doc[arrow]["startBindId"] == outside
    ann.keyboard.press("Control+z")
    for page in (ann, bob):
        wait_element_count(page, 4)
        doc = elements(page)
        assert doc[inside]["frameId"] == frame and doc[arrow]["endBindId"] == inside
    assert ann.errors == [] and bob.errors == []


def wait_same_and_synced(ann, bob, ids) -> None:
    """Both pages online, every change confirmed, and both documents equal for ``ids``."""
    for page in (ann, bob):
        page.wait_for_function("() => window.syncboard.connectionState() === 'connected'")
    for page in (ann, bob):
        wait_all_confirmed(page)
    bob.wait_for_function(
        """(want) => Object.entries(want).every(([id, fields]) => {
             const m = window.syncboard.board.get(id);
             return m && Object.entries(fields).every(([k, v]) => (m.get(k) ?? '') === v); })""",
        arg={i: {k: e.get(k, "") for k in ("x", "y", "w", "h", "frameId")}
             for i, e in elements(ann).items() if i in ids})


def drag_box_edge(page, at: tuple[float, float], to: tuple[float, float]) -> None:
    """Drag an unfilled box by its edge point ``at`` (board units) to ``to``, Alt held (no
    snapping: the move is exact)."""
    page.keyboard.press("Escape")
    page.mouse.move(*screen(page, *at))
    page.mouse.down()
    page.keyboard.down("Alt")
    page.mouse.move(*screen(page, (at[0] + to[0]) / 2, (at[1] + to[1]) / 2), steps=3)
    page.mouse.move(*screen(page, *to), steps=3)
    page.mouse.up()
    page.keyboard.up("Alt")


def resize_frame(page, frame: str, edge: tuple[float, float], handle: tuple[float, float],
                 to: tuple[float, float]) -> None:
    """Select the frame by a click on its edge, drag its corner handle to ``to``."""
    page.keyboard.press("Escape")
    page.mouse.click(*edge)
    page.wait_for_function(f"() => window.syncboard.selection.has('{frame}')")
    page.mouse.move(*handle)
    page.mouse.down()
    page.mouse.move(*to, steps=4)
    page.mouse.up()


def assert_members_inside(page, frame: str) -> None:
    """Every element naming the frame has its centre in the frame's box."""
    doc = elements(page)
    f = doc[frame]
    for i, e in doc.items():
        if e.get("frameId") == frame:
            cx, cy = e["x"] + e["w"] / 2, e["y"] + e["h"] / 2
            assert f["x"] <= cx <= f["x"] + f["w"] and f["y"] <= cy <= f["y"] + f["h"], (i, e, f)


@pytest.mark.parametrize("case", ["moved_out_as_the_resize_takes_it_in",
                                  "moved_where_the_resize_lets_go"])
def test_a_move_and_a_resize_made_at_once_end_with_one_consistent_frame_membership(
        server, open_board, case):
    """Both offline (so the two edits are truly concurrent), Ann resizes the frame while Bob
    moves a box: ``moved_out_as_the_resize_takes_it_in``: the resize takes in the free box
    right of the frame while Bob moves it far away; ``moved_where_the_resize_lets_go``: Bob
    moves a member to the frame's bottom-right corner while the resize cuts that corner off.
    Back online, both pages agree and the box is free (it lies in no frame), not a member of a
    frame it lies outside; the frame's export holds what both pages show."""
    board_id, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (350, 280), (450, 340))  # a member
    draw(ann, "r", (650, 300), (750, 360))  # right of the frame, free
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 3)
    rects = by_center(ann)
    member, right = rects[(400, 310)], rects[(700, 330)]
    frame = next(i for i, e in elements(ann).items() if e["type"] == "frame")
    assert frame_ids(ann, [member, right]) == [frame, ""]
    wait_frame_ids(bob, [member, right], [frame, ""])

    for page in (ann, bob):
        page.context.set_offline(True)
    for page in (ann, bob):
        page.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    if case == "moved_out_as_the_resize_takes_it_in":
        box = right
        resize_frame(ann, frame, (300, 400), (600, 500), (800, 500))
        wait_frame_ids(ann, [right], [frame])  # Ann's resize took it in
        drag_box_edge(bob, (650, 330), (1000, 330))  # Bob's move: far right, in no frame
        bob.wait_for_function(f"() => window.syncboard.board.get('{right}').get('x') === 1000")
        wait_frame_ids(bob, [right], [""])
    else:
        box = member
        resize_frame(ann, frame, (300, 400), (600, 500), (500, 400))
        wait_frame_ids(ann, [member], [frame])  # still inside Ann's smaller frame
        drag_box_edge(bob, (350, 310), (520, 450))  # Bob's move: into the corner Ann cuts off
        bob.wait_for_function(f"() => window.syncboard.board.get('{member}').get('y') === 420")
        wait_frame_ids(bob, [member], [frame])  # still inside the frame as Bob sees it
    for page in (ann, bob):
        page.context.set_offline(False)

    wait_same_and_synced(ann, bob, {frame, member, right})
    for page in (ann, bob):
        wait_frame_ids(page, [box], [""])
    wait_same_and_synced(ann, bob, {frame, member, right})
    assert elements(ann) == elements(bob)
    for page in (ann, bob):
        assert_members_inside(page, frame)
    shown = {frame} | {i for i, e in elements(ann).items() if e.get("frameId") == frame}
    assert frame_export_ids(server, board_id, frame) == shown
    assert ann.errors == [] and bob.errors == []


def test_a_member_freed_while_held_outside_its_frame_is_back_in_it_after_the_drag_ends(
        server, open_board):
    """Bob holds a member outside its frame while Ann resizes the frame: her resize, seeing it
    out there, frees it. Bob's page hears of that only after he has brought the member back and
    let go (his network is cut meanwhile), so his end of the move confirms the frame at once
    with her ``""``. The page whose client id is higher resizes, so hers is the write that wins
    the merge: the old code ended with the member free inside its frame on both pages."""
    board_id = new_board(server)
    one = open_board(server, board_id, "One")
    two = open_board(server, board_id, "Two", color="#1971c2")
    ids = [p.evaluate("window.syncboard.board.doc.clientID") for p in (one, two)]
    ann, bob = (one, two) if ids[0] > ids[1] else (two, one)
    ann.wait_for_function("() => window.syncboard.camera.zoom === 1")
    draw(ann, "r", (350, 280), (450, 340))
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 2)
    doc = elements(ann)
    frame = next(i for i, e in doc.items() if e["type"] == "frame")
    member = next(i for i, e in doc.items() if e["type"] == "rect")
    wait_frame_ids(bob, [member], [frame])

    bob.keyboard.press("Escape")
    bob.mouse.move(*screen(bob, 350, 310))  # the member's left edge (it is not filled)
    bob.mouse.down()
    bob.keyboard.down("Alt")  # no snapping: the move is exact
    bob.mouse.move(*screen(bob, 350, 200), steps=3)
    bob.mouse.move(*screen(bob, 350, 100), steps=3)  # above the frame, held there
    ann.wait_for_function(f"() => window.syncboard.board.get('{member}').get('y') === 70")
    bob.context.set_offline(True)
    bob.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    resize_frame(ann, frame, (300, 400), (600, 500), (700, 520))
    wait_frame_ids(ann, [member], [""])  # out of the frame, as Ann sees it
    wait_all_confirmed(ann)
    bob.mouse.move(*screen(bob, 350, 200), steps=3)
    bob.mouse.move(*screen(bob, 350, 310), steps=3)  # back where it was, and let go
    bob.mouse.up()
    bob.keyboard.up("Alt")
    bob.wait_for_function(f"() => window.syncboard.board.get('{member}').get('y') === 280")
    bob.context.set_offline(False)

    for page in (ann, bob):
        wait_all_confirmed(page, timeout_ms=30000)
    for page in (ann, bob):
        wait_frame_ids(page, [member], [frame])
        page.wait_for_function(f"() => window.syncboard.board.get('{frame}').get('w') === 400")
    wait_same_and_synced(ann, bob, {frame, member})
    assert elements(ann) == elements(bob)
    assert frame_export_ids(server, board_id, frame) == {frame, member}
    assert ann.errors == [] and bob.errors == []
