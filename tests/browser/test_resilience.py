"""Never losing work in the browser: a server killed and restarted mid-drawing, a network cut,
and offline edits that survive a page reload all end with every element on every client."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from .conftest import (
    add_sticky,
    draw_rect,
    draw_stroke,
    elements,
    new_board,
    wait_all_confirmed,
    wait_connected,
    wait_element_count,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def connection_state(page) -> str:
    return page.evaluate("window.syncboard.connectionState()")


def pending_count(page) -> int:
    return page.evaluate("window.syncboard.pending.count")


def test_server_killed_and_restarted_while_drawing_loses_nothing(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    draw_rect(ann, 300, 150, 420, 240)
    wait_all_confirmed(ann)

    server.kill()
    ann.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    draw_rect(ann, 460, 150, 580, 240)
    draw_stroke(ann, 320, 320)
    add_sticky(ann, 800, 300, "drawn while the server was down")
    assert pending_count(ann) > 0
    assert ann.locator(".status .pending").is_visible()

    server.start()
    wait_all_confirmed(ann, timeout_ms=30000)
    wait_element_count(bob, 4, timeout_ms=30000)
    carol = open_board(server, board_id, "Carol")
    wait_element_count(carol, 4)
    assert elements(ann) == elements(bob) == elements(carol)
    assert ann.locator(".status .pending").is_hidden()
    assert ann.errors == [] and bob.errors == [] and carol.errors == []


def test_edits_made_while_the_network_is_cut_merge_after_reconnect(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    bob = open_board(server, board_id, "Bob")
    draw_rect(ann, 300, 150, 420, 240)
    wait_all_confirmed(ann)
    wait_element_count(bob, 1)

    ann.context.set_offline(True)
    ann.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    draw_stroke(ann, 320, 320)
    add_sticky(ann, 800, 300, "offline note")
    draw_rect(bob, 460, 400, 600, 500)  # Bob keeps working online meanwhile
    wait_all_confirmed(bob)
    assert pending_count(ann) > 0

    ann.context.set_offline(False)
    wait_all_confirmed(ann, timeout_ms=30000)
    wait_element_count(bob, 4)
    wait_element_count(ann, 4)
    assert elements(ann) == elements(bob)
    assert sorted(e["type"] for e in elements(bob).values()) == ["rect", "rect", "sticky", "stroke"]


def test_offline_edits_survive_a_reload_and_sync_when_the_connection_returns(
    server, open_board
):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    draw_rect(ann, 300, 150, 420, 240)
    wait_all_confirmed(ann)

    blocked = {"on": True}

    def websocket(route):
        if blocked["on"]:
            route.close(code=1001, reason="test: no network")
        else:
            route.connect_to_server()

    ann.route_web_socket("**/ws/**", websocket)
    ann.reload()
    ann.wait_for_function("() => window.syncboard && window.syncboard.board.elements.size === 1")
    draw_rect(ann, 460, 150, 580, 240)
    add_sticky(ann, 800, 300, "kept in IndexedDB")
    assert pending_count(ann) > 0
    before = elements(ann)
    ann.evaluate("window.syncboard.flushLocal()")  # IndexedDB commits a moment after each edit

    # A reload while still cut off: the offline copy and the unsynced count come back.
    ann.reload()
    ann.wait_for_function("() => window.syncboard && window.syncboard.board.elements.size === 3")
    assert elements(ann) == before
    assert pending_count(ann) > 0
    assert connection_state(ann) != "connected"

    blocked["on"] = False
    wait_all_confirmed(ann, timeout_ms=30000)
    bob = open_board(server, board_id, "Bob")
    wait_connected(bob)
    wait_element_count(bob, 3)
    assert elements(bob) == before


def test_closing_the_tab_with_unsynced_changes_asks_first(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    server.kill()
    ann.wait_for_function("() => window.syncboard.connectionState() !== 'connected'")
    draw_rect(ann, 300, 150, 420, 240)
    assert pending_count(ann) > 0
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "stay on the page"

    ann.on("dialog", on_dialog)
    with ann.expect_event("dialog", timeout=15000):  # instead of waiting a fixed 500 ms
        ann.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]
    assert not ann.is_closed()


def test_status_tells_no_network_from_an_unreachable_server_and_retries_now(
        server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", controlled_clock=True)
    status = ann.locator(".status .status-text")
    ann.context.set_offline(True)
    ann.wait_for_function("() => window.syncboard.connectionState() === 'offline'")
    assert status.inner_text() == "Offline: no network"
    assert ann.locator(".retry-now").is_hidden()
    ann.context.set_offline(False)
    wait_connected(ann)

    server.kill()  # the network is up, the server is not
    ann.wait_for_function("() => window.syncboard.connectionState() === 'unreachable'",
                          timeout=30000)
    assert re.fullmatch(r"Server unreachable, retrying (in \d s|now)", status.inner_text())
    # Hold the page's timers so its own backoff cannot reconnect first: only the click can.
    ann.clock.pause_at(time.time() + 1)
    server.start()
    ann.locator(".retry-now").click()
    wait_connected(ann, timeout_ms=30000)
    assert status.inner_text() == "Connected"
    assert ann.errors == []


def test_a_reload_while_offline_opens_the_board_and_everything_syncs_later(
        server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann")
    ann.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    draw_rect(ann, 300, 150, 420, 240)
    wait_all_confirmed(ann)

    ann.context.set_offline(True)
    ann.wait_for_function("() => window.syncboard.connectionState() === 'offline'")
    draw_stroke(ann, 320, 320)
    ann.evaluate("window.syncboard.flushLocal()")
    ann.reload()  # no network: the service worker serves the app, IndexedDB the board
    ann.wait_for_function("() => window.syncboard && window.syncboard.board.elements.size === 2",
                          timeout=15000)
    assert ann.locator(".status .status-text").inner_text() == "Offline: no network"
    add_sticky(ann, 800, 300, "after the offline reload")
    wait_element_count(ann, 3)

    ann.context.set_offline(False)
    wait_all_confirmed(ann, timeout_ms=30000)
    bob = open_board(server, board_id, "Bob")
    wait_element_count(bob, 3)
    assert elements(bob) == elements(ann)
    assert ann.errors == [] and bob.errors == []
def test_changes_the_server_refuses_for_good_are_announced_and_offered_as_a_download(
        server_process, open_board):
    import asyncio
    import concurrent.futures

    from pycrdt import Doc, Map

    from tests.yclient import YClient

    server = server_process(max_board_bytes=6000)  # a few strokes fill it
    board_id = new_board(server)
    page = open_board(server, board_id, "Ann")
    notice = page.locator(".refusal")
    for i in range(60):  # bounded: each stroke is a few hundred bytes
        draw_stroke(page, 200 + (i % 6) * 60, 150 + (i // 6) * 50, length=120)
        if notice.is_visible():
            break
    notice.wait_for(state="visible", timeout=10000)
    assert "not saved" in notice.inner_text()
    assert "cap" in notice.inner_text()  # the server's reason
    assert connection_state(page) == "refused"
    drawn = page.evaluate("window.syncboard.board.elements.size")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download unsent changes").click()
    unsent = Path(download_info.value.path()).read_bytes()
    assert unsent

    async def server_copy_with(update: bytes) -> tuple[int, int]:
        client = await YClient(f"{server.ws_url}/{board_id}").sync()
        try:
            on_server = len(client.doc.get("elements", type=Map))
            doc = Doc()
            doc.apply_update(client.doc.get_update())
            doc.apply_update(update)
            return on_server, len(doc.get("elements", type=Map))
        finally:
            client.close()

    # Playwright's sync API runs an event loop in this thread: read the server from another
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        on_server, restored = pool.submit(asyncio.run, server_copy_with(unsent)).result(30)
    assert on_server < drawn  # the refused strokes are not on the server...
    assert restored == drawn  # ...and the download holds exactly what was missing
    assert not page.errors
