"""Frame membership beyond a mouse drag (issue 13, "Frames"): arrow-key nudges and align move
elements into and out of frames as a drag does; an undo made after someone else moved the
frame leaves the element in no frame it lies outside, repaired by the undoing page alone; and
a box moved away while a resize takes it in is repaired by the resizer's page when the
mover's page closed before the resize reached it. Real keyboard and mouse; the documents and
the frame's SVG export are checked."""

from __future__ import annotations

import pytest

from .conftest import elements, wait_all_confirmed, wait_element_count
from .test_frames import (
    by_center,
    drag_box_edge,
    draw,
    frame_export_ids,
    frame_ids,
    open_ann_and_bob,
    resize_frame,
    wait_frame_ids,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(shared_server):
    """Every test here works on its own board, so they share one server."""
    return shared_server


def frame_of(page) -> str:
    return next(i for i, e in elements(page).items() if e["type"] == "frame")


def test_arrow_keys_and_align_move_elements_out_of_and_into_a_frame(server, open_board):
    board_id, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (480, 300), (580, 360))  # a member near the frame's right edge
    draw(ann, "r", (350, 400), (450, 460))  # a member
    draw(ann, "r", (700, 280), (800, 340))  # right of the frame, free
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 4)
    rects = by_center(ann)
    edge, low, free = rects[(530, 330)], rects[(400, 430)], rects[(750, 310)]
    frame = frame_of(ann)
    assert frame_ids(ann, [edge, low, free]) == [frame, frame, ""]

    ann.mouse.click(480, 330)  # the member's left edge (it is not filled)
    ann.wait_for_function(f"() => window.syncboard.selection.has('{edge}')")
    for _ in range(8):
        ann.keyboard.press("Shift+ArrowRight")  # 10 px each: its centre ends at x 610
    for page in (ann, bob):
        page.wait_for_function(f"() => window.syncboard.board.get('{edge}').get('x') === 560")
        wait_frame_ids(page, [edge], [""])

    ann.keyboard.press("Escape")
    ann.mouse.click(700, 310)  # the free box's left edge
    ann.keyboard.down("Shift")
    ann.mouse.click(350, 430)  # and the low member's
    ann.keyboard.up("Shift")
    ann.wait_for_function(f"() => window.syncboard.selection.size === 2"
                          f" && window.syncboard.selection.has('{free}')")
    button = ann.locator('.stylepanel button[data-action="align-left"]').bounding_box()
    ann.mouse.click(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    for page in (ann, bob):
        page.wait_for_function(f"() => window.syncboard.board.get('{free}').get('x') === 350")
        wait_frame_ids(page, [edge, low, free], ["", frame, frame])
    wait_all_confirmed(ann)
    assert frame_export_ids(server, board_id, frame) == {frame, low, free}
    assert ann.errors == [] and bob.errors == []


def test_an_undo_after_someone_moved_the_frame_away_is_repaired_by_the_undoing_page(
        server, open_board):
    board_id, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (350, 280), (450, 340))  # a member
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 2)
    box = by_center(ann)[(400, 310)]
    frame = frame_of(ann)
    drag_box_edge(ann, (350, 310), (750, 310))  # Ann moves it out of the frame
    wait_frame_ids(bob, [box], [""])
    drag_box_edge(bob, (300, 450), (300, 710))  # Bob moves the frame down, without the box
    ann.wait_for_function(f"() => window.syncboard.board.get('{frame}').get('y') === 510")
    wait_all_confirmed(bob)
    bob.context.set_offline(True)  # only Ann's page sees what her undo does

    ann.keyboard.press("Control+z")  # the box goes back to (350, 280), in no frame now
    ann.wait_for_function(f"() => window.syncboard.board.get('{box}').get('x') === 350")
    wait_frame_ids(ann, [box], [""])
    wait_all_confirmed(ann)
    assert frame_export_ids(server, board_id, frame) == {frame}
    assert ann.errors == [] and bob.errors == []


def test_a_box_moved_away_by_a_page_that_then_closed_is_repaired_by_the_resizer(
        server, open_board):
    board_id, ann, bob = open_ann_and_bob(server, open_board)
    draw(ann, "r", (650, 300), (750, 360))  # right of the frame, free
    draw(ann, "f", (300, 250), (600, 500))
    ann.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_element_count(bob, 2)
    box = by_center(ann)[(700, 330)]
    frame = frame_of(ann)
    wait_frame_ids(bob, [box], [""])

    for page in (ann, bob):
        page.context.set_offline(True)
    for page in (ann, bob):
        page.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    resize_frame(ann, frame, (300, 400), (600, 500), (800, 500))
    wait_frame_ids(ann, [box], [frame])  # Ann's resize took it in
    drag_box_edge(bob, (650, 330), (1000, 330))  # Bob's move: far right, in no frame
    bob.wait_for_function(f"() => window.syncboard.board.get('{box}').get('x') === 1000")
    bob.context.set_offline(False)
    wait_all_confirmed(bob)  # Bob's move reached the server, Ann's resize has not
    bob.close()

    ann.context.set_offline(False)
    ann.wait_for_function(f"() => window.syncboard.board.get('{box}').get('x') === 1000")
    wait_frame_ids(ann, [box], [""])
    wait_all_confirmed(ann)
    assert elements(ann)[frame]["w"] == 500
    assert frame_export_ids(server, board_id, frame) == {frame}
    assert ann.errors == []
