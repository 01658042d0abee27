"""The browser app with ``--ws-path /``: the page learns the path from the server and its
board connects and syncs at the root (``ws://host/<board id>``)."""

from __future__ import annotations

import pytest

from .conftest import draw_rect, elements, new_board, wait_all_confirmed, wait_element_count

pytestmark = pytest.mark.browser


def test_board_page_connects_and_syncs_when_boards_are_served_at_the_root(
        server_process, open_board):
    server = server_process(ws_path="/")
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")  # waits until the page is connected and synced
    bob = open_board(server, board_id, "Bob", color="#1971c2")
    draw_rect(ann, 300, 200, 500, 330)
    wait_all_confirmed(ann)
    wait_element_count(bob, 1)
    assert [e["type"] for e in elements(bob).values()] == ["rect"]
    assert ann.errors == [] and bob.errors == []
