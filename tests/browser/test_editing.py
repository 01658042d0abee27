"""Everyday editing through real pointer and keyboard input (issue 12): the focus model (a press on
the board takes the keyboard back from the text editor and from panel controls), one text-editing
lifecycle, one undo step per gesture however slow, and text boxes that follow their content."""

from __future__ import annotations

import time

import pytest

from .conftest import (
    add_sticky,
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


def by_type(page) -> dict[str, dict]:
    return {el["type"]: el for el in elements(page).values()}


def editor_open(page) -> bool:
    return page.evaluate("!document.querySelector('.text-editor').hidden")


def test_a_click_elsewhere_commits_the_text_and_gives_the_keys_back(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 500, 300, 700, 400)
    page.keyboard.press("t")
    page.mouse.click(350, 200)
    page.keyboard.type("Hello")
    page.mouse.click(500, 350)  # the rectangle's left edge: selects it
    assert not editor_open(page)
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    wait_element_count(page, 1)
    assert by_type(page)["text"]["text"] == "Hello"
    page.keyboard.press("r")  # a tool key, not an "r" in the text
    assert page.evaluate("document.querySelector('.board-page').dataset.tool") == "rect"
    assert by_type(page)["text"]["text"] == "Hello"
    assert page.errors == []


def test_escape_a_tool_button_and_a_remote_delete_each_close_the_editor(
        server, open_board):
    board_id = new_board(server)
    page = open_board(server, board_id, "Ann")
    other = open_board(server, board_id, "Bob")
    page.keyboard.press("t")
    page.mouse.click(350, 200)
    page.keyboard.type("one")
    page.keyboard.press("Escape")
    assert not editor_open(page)

    page.mouse.dblclick(360, 200)  # edit it again, then switch tool from the toolbar
    assert editor_open(page)
    page.keyboard.type(" two")
    page.locator(".toolbar [data-tool='pen']").click()
    assert not editor_open(page)
    assert by_type(page)["text"]["text"] == "one two"

    page.keyboard.press("v")
    page.mouse.dblclick(360, 200)
    assert editor_open(page)
    wait_element_count(other, 1)
    other.keyboard.press("Control+a")
    other.keyboard.press("Delete")  # Bob deletes the text Ann is editing
    wait_element_count(page, 0)
    page.wait_for_function("() => document.querySelector('.text-editor').hidden")
    page.keyboard.press("r")
    assert page.evaluate("document.querySelector('.board-page').dataset.tool") == "rect"
    assert page.errors == [] and other.errors == []


def test_the_opacity_slider_does_not_keep_the_keyboard(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 400, 300, 600, 400)  # selected afterwards
    slider = page.locator("input.opacity")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    opacity = by_type(page)["rect"]["opacity"]
    assert opacity < 1
    page.mouse.click(400, 350)  # back on the rectangle's edge (keeps it selected)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    rect = by_type(page)["rect"]
    assert (rect["x"], rect["opacity"]) == (402, opacity)
    page.keyboard.press("Delete")
    wait_element_count(page, 0)
    page.keyboard.press("e")
    assert page.evaluate("document.querySelector('.board-page').dataset.tool") == "eraser"


def test_arrow_keys_pressed_faster_than_frames_each_move_the_selection(server, open_board):
    page = open_board(server, new_board(server), "Ann", controlled_clock=True)
    draw_rect(page, 400, 300, 600, 400)  # selected afterwards
    assert by_type(page)["rect"]["x"] == 400
    # Hold the page's frames: every press lands before the canvas caught up with the last one.
    page.clock.pause_at(time.time() + 1)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    rect = by_type(page)["rect"]
    assert (rect["x"], rect["y"]) == (403, 310)


def test_shortcuts_still_fire_after_a_panel_button_was_clicked(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 400, 300, 600, 400)
    page.locator(".stylepanel [data-key='strokeWidth'][data-value='8']").click()
    assert by_type(page)["rect"]["strokeWidth"] == 8
    page.keyboard.press("Delete")  # the button has the focus, the shortcut still works
    wait_element_count(page, 0)


def test_a_slow_gesture_is_one_undo_step(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    page.keyboard.press("r")
    page.mouse.move(300, 300)
    page.mouse.down()
    page.mouse.move(400, 350, steps=4)
    page.wait_for_timeout(900)  # the pause under test: longer than any time-based grouping
    page.mouse.move(500, 420, steps=4)
    page.mouse.up()
    assert by_type(page)["rect"]["w"] == 200
    page.keyboard.press("Control+z")  # one undo removes the whole rectangle
    wait_element_count(page, 0)
    page.keyboard.press("Control+Shift+z")
    wait_element_count(page, 1)
    assert by_type(page)["rect"]["w"] == 200

    drag(page, [(400, 300), (450, 330)])  # move it: a step of its own
    assert by_type(page)["rect"]["x"] == 350
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "() => [...window.syncboard.board.elements.values()][0].get('x') === 300")
    assert len(elements(page)) == 1


def test_a_text_editing_session_is_one_undo_step(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    page.keyboard.press("t")
    page.mouse.click(300, 300)
    page.keyboard.type("slow")
    page.wait_for_timeout(900)  # a pause while typing
    page.keyboard.type(" typing")
    page.mouse.click(700, 600)  # commit by clicking elsewhere
    assert by_type(page)["text"]["text"] == "slow typing"
    page.keyboard.press("Control+z")  # the new text and its typing go in one step
    wait_element_count(page, 0)


def test_a_bigger_font_size_grows_the_text_box(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    page.keyboard.press("t")
    page.mouse.click(300, 300)
    page.keyboard.type("Hello world")
    page.keyboard.press("Escape")
    before = by_type(page)["text"]
    page.mouse.click(310, 300)  # select it
    assert page.evaluate("window.syncboard.selection.size") == 1
    page.locator(".stylepanel [data-key='fontSize'][data-value='40']").click()
    after = by_type(page)["text"]
    assert after["fontSize"] == 40
    assert after["w"] > before["w"] * 1.6 and after["h"] > before["h"] * 1.6


def test_the_unsynced_count_counts_the_users_changes(server, open_board):
    page = open_board(server, new_board(server), "Ann")
    # The page writes the new board's meta.schemaVersion once: let the server confirm it, so
    # that only the user's changes below are counted.
    wait_all_confirmed(page)
    page.context.set_offline(True)
    page.wait_for_function("() => window.syncboard.connectionState() === 'offline'")
    for y in (250, 350, 450):
        draw_stroke(page, 400, y)
    add_sticky(page, 900, 400, "note")
    wait_element_count(page, 4)
    pending = page.locator(".status .pending")
    assert pending.inner_text() == "4 unsynced"  # 3 strokes and a note, not their updates
    page.context.set_offline(False)
    wait_all_confirmed(page)
    assert pending.is_hidden()
