"""The history panel (issue 14): save a version, preview it read-only while another person's
edits keep arriving, restore one deleted element or the whole version, undo each restore as
one step, and copy a version to a new board."""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import unquote

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
from .test_access import create_board_with_tokens

pytestmark = pytest.mark.browser


@pytest.fixture
def server(shared_server):
    return shared_server


def types(page) -> list[str]:
    return sorted(el["type"] for el in elements(page).values())


def export_json(server, path: str, token: str) -> dict:
    """``GET /api/boards/<path>/export.json`` with ``token``."""
    request = urllib.request.Request(f"{server.base_url}/api/boards/{path}/export.json",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


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


def recording_errors(page):
    """``page`` with ``errors``: the uncaught errors it throws from now on."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def open_link(browser, url: str, name: str):
    """A board link in a context of its own whose pages (the tabs it opens too) use
    ``name``; the name is set only where there is storage (not in a new tab's first
    about:blank, which refuses it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(f"if (location.protocol.startsWith('http')) "
                            f"localStorage.setItem('syncboard:name', {json.dumps(name)});")
    page = recording_errors(context.new_page())
    page.goto(url)
    return page


@pytest.fixture
def popup_blocking_browser(chromium):
    """A Chromium whose popup blocker is on, as in a user's browser."""
    browser = chromium.launch_blocking_popups()
    yield browser
    browser.close()


@pytest.mark.slow
def test_copy_a_version_to_a_new_board(server_process, popup_blocking_browser):
    """"Copy to a new board" opens a new board holding exactly the previewed version, with
    its own edit link (the server's default ``--auth token``); the board itself is untouched.
    The copy takes longer than the click's user activation lasts (the import is held until
    it has expired, as on a big board or a slow link), and the tab still opens: a browser
    blocks a ``window.open`` made after that as a popup."""
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    ann = open_link(popup_blocking_browser, links["editUrl"], "Ann")
    wait_connected(ann)
    draw_rect(ann, 400, 300, 500, 380)
    add_sticky(ann, 650, 340, "keep me")
    wait_element_count(ann, 2)
    wait_all_confirmed(ann)
    ann.on("dialog", lambda dialog: dialog.accept("rect and note"))
    ann.get_by_role("button", name="History").click()
    ann.get_by_role("button", name="Save version…").click()
    ann.locator(".history-item", has_text="rect and note").wait_for()
    ann.keyboard.press("v")
    ann.mouse.click(400, 340)
    ann.keyboard.press("Delete")
    wait_element_count(ann, 1)
    wait_all_confirmed(ann)

    open_version(ann, "rect and note")
    held = []
    ann.route("**/api/boards/*/import", lambda route: held.append(route))
    with ann.context.expect_page() as opened:
        with ann.expect_request("**/api/boards/*/import"):
            ann.get_by_role("button", name="Copy to a new board").click()
        ann.wait_for_function("() => !navigator.userActivation.isActive", timeout=15000)
        held[0].continue_()
    copy = recording_errors(opened.value)
    copy.wait_for_url(re.compile(r".*/b/[^#]+#t=.+"))
    wait_connected(copy)
    wait_element_count(copy, 2)
    assert {el["text"] if el["type"] == "sticky" else el["x"] for el in elements(copy).values()} \
        == {400, "keep me"}
    match = re.fullmatch(rf"{re.escape(server.base_url)}/b/([^#]+)#t=(.+)", copy.url)
    assert match and match[1] != links["id"], copy.url
    version = ann.locator(".history-item.selected").get_attribute("data-version")
    # The copy holds exactly the version, in the export form (which fills in defaults).
    was = export_json(server, f"{links['id']}/versions/{version}", links["editToken"])
    now = export_json(server, match[1], unquote(match[2]))
    assert now["elements"] == was["elements"] and now["meta"] == was["meta"]
    draw_rect(copy, 300, 500, 360, 560)  # the copy's link is an edit link
    wait_element_count(copy, 3)
    wait_all_confirmed(copy)
    assert len(elements(ann)) == 1  # the board the version came from is as it was
    assert not ann.errors and not copy.errors
