"""Two people on one board in real Chromium: shapes, strokes and notes appear for both, cursors
show, and undo removes only your own change."""

from __future__ import annotations

import pytest

from .conftest import (
    add_sticky,
    canvas_pixel,
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


def by_type(doc: dict[str, dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for element in doc.values():
        out.setdefault(element["type"], []).append(element)
    return out


def test_rect_stroke_and_sticky_drawn_in_one_context_appear_in_the_other(
    server, open_board, tmp_path
):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob", color="#1971c2")

    draw_rect(ann, 300, 200, 500, 330)
    draw_stroke(ann, 580, 250)
    add_sticky(ann, 900, 300, "ship it")
    wait_all_confirmed(ann)
    wait_element_count(bob, 3)

    mine, theirs = elements(ann), elements(bob)
    assert theirs == mine
    kinds = by_type(theirs)
    assert sorted(kinds) == ["rect", "sticky", "stroke"]
    rect = kinds["rect"][0]
    assert (rect["x"], rect["y"], rect["w"], rect["h"]) == (300, 200, 200, 130)
    assert len(kinds["stroke"][0]["points"]) >= 20
    assert kinds["sticky"][0]["text"] == "ship it"
    assert {e["createdBy"] for e in theirs.values()} == {"Ann"}

    # Bob's canvas shows them: the rectangle's left edge is dark, the note is yellow.
    bob.screenshot(path=str(tmp_path / "bob.png"))
    edge = canvas_pixel(bob, 300, 260)
    assert max(edge[:3]) < 120, edge
    note = canvas_pixel(bob, 900, 350)
    assert note[0] > 230 and note[1] > 220 and note[2] < 200, note
    assert ann.errors == [] and bob.errors == []


def test_a_stroke_streams_to_the_other_context_while_it_is_drawn(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    ann.keyboard.press("p")
    ann.mouse.move(300, 300)
    ann.mouse.down()
    for i in range(1, 40):
        ann.mouse.move(300 + i * 6, 300 + (i % 5) * 4)
    # The pointer is still down: Bob already sees the growing stroke.
    bob.wait_for_function(
        "() => [...window.syncboard.board.elements.values()].some("
        "m => m.get('type') === 'stroke' && m.get('points').length >= 20)",
        timeout=10000,
    )
    ann.mouse.up()


def test_the_other_participants_cursor_and_name_appear(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", color="#e03131")
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    ann.mouse.move(500, 420)
    ann.mouse.move(520, 440, steps=3)
    bob.wait_for_function(
        "() => window.syncboard.presence.others().some(p => p.name === 'Ann' && p.cursor"
        " && Math.abs(p.cursor.x - window.syncboard.camera.toWorld(520, 440).x) < 1)",
        timeout=10000,
    )
    peer = bob.evaluate("window.syncboard.presence.others()[0]")
    assert peer["color"] == "#e03131"
    # Listed in the participant bar, and drawn on Bob's overlay canvas in Ann's colour.
    assert bob.locator(".participants [data-name='Ann']").count() == 1
    pixel = canvas_pixel(bob, 522, 450, layer="overlay")
    assert pixel[0] > 180 and pixel[2] < 120 and pixel[3] > 200, pixel


def test_undo_in_one_context_removes_only_its_own_change(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    draw_rect(ann, 350, 150, 500, 260)
    wait_all_confirmed(ann)
    wait_element_count(bob, 1)
    bob.keyboard.press("o")
    bob.mouse.move(600, 300)
    bob.mouse.down()
    bob.mouse.move(760, 420, steps=4)
    bob.mouse.up()
    wait_all_confirmed(bob)
    wait_element_count(ann, 2)

    ann.keyboard.press("Control+z")
    wait_element_count(bob, 1)
    wait_element_count(ann, 1)
    assert [e["type"] for e in elements(bob).values()] == ["ellipse"]
    assert [e["type"] for e in elements(ann).values()] == ["ellipse"]

    ann.keyboard.press("Control+Shift+z")
    wait_element_count(bob, 2)
    assert sorted(e["type"] for e in elements(bob).values()) == ["ellipse", "rect"]


def test_two_people_typing_in_one_note_keep_both_texts(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    add_sticky(ann, 500, 400, "shared ")
    wait_all_confirmed(ann)
    wait_element_count(bob, 1)
    note_id = next(iter(elements(bob)))
    for page in (ann, bob):
        page.evaluate("window.syncboard.setTool('select')")
        page.mouse.dblclick(500, 400)
        page.keyboard.press("End")
    # Both type at once, interleaved keystroke by keystroke.
    for a_char, b_char in zip("AAAA", "bbbb", strict=True):
        ann.keyboard.type(a_char)
        bob.keyboard.type(b_char)
    for page in (ann, bob):
        page.keyboard.press("Escape")
    wait_all_confirmed(ann)
    wait_all_confirmed(bob)
    ann.wait_for_function(
        f"() => window.syncboard.board.get('{note_id}').get('text').toString().length === 15"
    )
    text_a = elements(ann)[note_id]["text"]
    assert text_a == elements(bob)[note_id]["text"]
    assert text_a.startswith("shared ")
    assert sorted(text_a[len("shared "):]) == sorted("AAAAbbbb")


def test_renaming_yourself_on_the_board_reaches_the_others(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    ann.once("dialog", lambda dialog: dialog.accept("Annabel"))
    ann.click(".participants .avatar[data-name='Ann']")
    bob.wait_for_selector(".participants .avatar[data-name='Annabel']", timeout=10000)
    assert ann.evaluate("localStorage.getItem('syncboard:name')") == "Annabel"


def test_following_shows_a_frame_and_escape_stops_it_and_cursors_stay_over_the_editor(
        server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", "#e03131")
    bob = open_board(server, board_id, "Bob", "#1971c2")
    bob.locator(".participants .avatar[data-name='Ann']").click()
    frame = bob.locator(".follow-frame")
    frame.wait_for(state="visible")
    assert frame.inner_text() == "Following Ann · Esc to stop"
    bob.keyboard.press("Escape")
    frame.wait_for(state="hidden")

    ann.keyboard.press("n")
    ann.mouse.click(700, 400)  # a sticky note: its editor lies over the board
    ann.keyboard.type("note")
    ann.mouse.move(705, 405, steps=3)  # over the open editor
    ann.mouse.move(720, 420, steps=3)
    bob.wait_for_function(
        """() => window.syncboard.presence.others().some(
            (p) => p.name === 'Ann' && p.cursor && Math.abs(p.cursor.x - 720) < 2)""")
    assert ann.errors == [] and bob.errors == []
