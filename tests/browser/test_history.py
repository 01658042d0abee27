"""The history panel (issue 14): save a version, preview it read-only while another person's
edits keep arriving, restore one deleted element or the whole version, and undo each restore
as one step."""

from __future__ import annotations

import pytest

from .conftest import (
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
    return shared_server


def types(page) -> list[str]:
    return sorted(el["type"] for el in elements(page).values())


def open_version(page, label: str) -> None:
    page.locator(".history-item", has_text=label).click()
    page.locator(".history-banner").wait_for()


def test_preview_restore_and_undo_from_the_history_panel(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    draw_rect(ann, 400, 300, 500, 380)
    draw_rect(ann, 600, 300, 700, 380)
    wait_all_confirmed(ann)
    ann.on("dialog", lambda dialog: dialog.accept("two boxes"))
    ann.get_by_role("button", name="History").click()
    ann.get_by_role("button", name="Save version…").click()
    ann.locator(".history-item", has_text="two boxes").wait_for()
    assert "2 elements" in ann.locator(".history-item", has_text="two boxes").inner_text()

    # Delete the left box and draw a stroke.
    ann.keyboard.press("v")
    ann.mouse.click(400, 340)
    ann.keyboard.press("Delete")
    draw_stroke(ann, 420, 550)
    wait_element_count(ann, 2)
    wait_all_confirmed(ann)
    ann.keyboard.press("v")

    # Preview: the old board is shown read-only; Bob's drawing keeps arriving underneath.
    open_version(ann, "two boxes")
    assert "read-only" in ann.locator(".history-banner").inner_text()
    bob = open_board(server, board_id, "Bob")
    draw_rect(bob, 800, 500, 880, 560)
    wait_element_count(ann, 3)
    assert types(ann) == ["rect", "rect", "stroke"]

    # Restore just the deleted box, clicked in the preview.
    ann.mouse.click(400, 340)
    ann.get_by_role("button", name="Restore 1 selected element").click()
    ann.locator(".history-banner").wait_for(state="hidden")
    wait_element_count(ann, 4)
    assert types(ann) == ["rect", "rect", "rect", "stroke"]
    ann.keyboard.press("Control+z")  # one step: the box goes again
    wait_element_count(ann, 3)

    # Restore the whole version: Bob's box and the stroke go, both old boxes are back.
    open_version(ann, "two boxes")
    ann.get_by_role("button", name="Restore this version").click()
    ann.locator(".history-banner").wait_for(state="hidden")
    wait_element_count(ann, 2)
    wait_element_count(bob, 2)
    restored = sorted((el["x"], el["y"]) for el in elements(ann).values())
    assert restored == [(400, 300), (600, 300)]
    ann.locator(".history-item", has_text="Before a restore").first.wait_for()
    ann.keyboard.press("Control+z")  # the whole restore is one undo step
    wait_element_count(ann, 3)
    wait_element_count(bob, 3)
    assert types(bob) == ["rect", "rect", "stroke"]
    assert not ann.errors and not bob.errors
