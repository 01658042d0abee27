"""The space page with real input: create a space from the home page, make three boards,
rename one, search, open it, go back to the space from the board's link to it, rotate the
board's links from the space page, and see the old link refused; a browser holding only the
board's link sees no trace of the space (frontend/src/ui/spacepage.js, ui/topbar.js,
backend/space_handlers.py)."""

from __future__ import annotations

import pytest

from .conftest import wait_connected

pytestmark = pytest.mark.browser

CARDS = ".space-grid .space-card"


def card_titles(page) -> list[str]:
    return page.locator(f"{CARDS} .space-card-title").all_inner_texts()


@pytest.mark.slow
def test_a_team_space_from_creation_to_a_rotated_board_link(server_process, browser):
    server = server_process(auth="token", space_index_interval_s="0.1")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.base_url + "/")
    page.get_by_role("button", name="+ New space").click()
    page.wait_for_url("**/s/**#t=*")
    space_url = page.url
    page.locator(".space-role").get_by_text("You can edit").wait_for()
    page.locator(".space-name-button").click()  # the space's name is renamed in place
    page.keyboard.press("Control+a")
    page.keyboard.type("Design team")
    page.keyboard.press("Enter")
    page.locator(".space-name-button").get_by_text("Design team").wait_for()

    for count in (1, 2, 3):
        page.get_by_role("button", name="+ New board").click()
        page.wait_for_function(
            f"() => document.querySelectorAll('{CARDS}').length === {count}")
    assert card_titles(page) == ["Untitled board"] * 3

    # Rename the second card in place.
    second = page.locator(CARDS).nth(1)
    board_id = second.get_attribute("data-board-id")
    second.get_by_role("button", name="Rename").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("Quarterly roadmap")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.space-card-title')]"
        ".some((t) => t.textContent === 'Quarterly roadmap')")

    # Search (titles and board text, through the server's full-text index).
    page.locator(".space-search").click()
    page.keyboard.type("quarter")
    page.wait_for_function(
        f"() => document.querySelectorAll('{CARDS}').length === 1")
    assert card_titles(page) == ["Quarterly roadmap"]

    # Open it: the board page, with its edit link and the new title.
    page.locator(f"{CARDS} .space-card-title").click()
    page.wait_for_url(f"**/b/{board_id}#t=*")
    wait_connected(page)
    old_link = page.url
    page.wait_for_function(
        "() => document.querySelector('.board-title')?.textContent === 'Quarterly roadmap'")

    # The board links back to the space it was opened from, under the space's name; the
    # link carries no token (the space page finds the one this browser keeps).
    back = page.locator(".board-space")
    back.get_by_text("← Design team").wait_for()
    assert back.get_attribute("href") == "/s/" + space_url.split("/s/")[1].split("#")[0]
    box = back.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(space_url.split("#")[0])
    page.locator(".space-role").get_by_text("You can edit").wait_for()

    # Back on the space page (its edit token remembered), rotate the board's links.
    card = page.locator(f"{CARDS}[data-board-id='{board_id}']")
    card.get_by_role("button", name="Share").click()
    dialog = page.locator(".space-dialog")
    old_edit = dialog.get_by_label("Edit link").input_value()
    assert old_edit == old_link
    dialog.get_by_role("button", name="Rotate links").click()
    page.wait_for_function(
        "(old) => { const i = document.querySelector("
        "'.space-dialog input[aria-label=\"Edit link\"]'); return i && i.value !== old; }",
        arg=old_edit)
    new_edit = dialog.get_by_label("Edit link").input_value()

    # The old link is refused by the server; the new one opens the board.
    stale = context.new_page()
    stale.goto(old_link)
    notice = stale.locator(".refusal")
    notice.wait_for(state="visible", timeout=15000)
    assert "revoked" in notice.inner_text()
    fresh = context.new_page()
    fresh.goto(new_edit)
    wait_connected(fresh)
    fresh.locator(".board-space").get_by_text("← Design team").wait_for()

    # Another browser with only the board's link: no link to the space, and the page never
    # asks the server about spaces (it has no space token to ask with).
    outsider = browser.new_context(viewport={"width": 1280, "height": 900})
    stranger = outsider.new_page()
    asked = []
    stranger.on("request", lambda request: asked.append(request.url))
    stranger.goto(new_edit)
    wait_connected(stranger)
    stranger.wait_for_function(
        "() => document.querySelector('.board-title')?.textContent === 'Quarterly roadmap'")
    assert stranger.locator(".board-space").is_hidden()
    assert [url for url in asked if "/api/spaces" in url] == []
    outsider.close()
    # The home page remembers the space under its new name.
    fresh.goto(server.base_url + "/")
    assert fresh.locator(".recent-spaces a").all_inner_texts() == ["Design team"]
    context.close()
