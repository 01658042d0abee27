"""The home page: name and colour, a new board through POST /api/boards, recent boards."""

from __future__ import annotations

import pytest

from .conftest import wait_connected

pytestmark = pytest.mark.browser


def test_new_board_from_home_uses_the_chosen_name_and_is_listed_as_recent(
    server_process, browser
):
    server = server_process(auth="token")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.base_url + "/")
    page.fill(".name-input", "Dora")
    page.locator(".home .swatch").nth(4).click()
    page.click("text=+ New board")
    page.wait_for_url("**/b/**#t=*")
    wait_connected(page)
    me = page.locator(".participants .avatar").first
    assert me.get_attribute("data-name") == "Dora"
    board_id = page.url.split("/b/")[1].split("#")[0]

    page.goto(server.base_url + "/")
    link = page.locator(f".recent a[href='/b/{board_id}']")
    assert link.count() == 1
    link.click()
    wait_connected(page)  # the remembered edit token opens it again
    context.close()


def test_renaming_in_place_shows_the_title_on_the_home_page_for_everyone(
        server_process, browser):
    server = server_process(auth="none")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
    ann, bob = (context.new_page() for context in contexts)
    dialogs = []
    ann.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    for page in (ann, bob):
        page.goto(server.base_url + "/b/retro-board")
        wait_connected(page)
    ann.locator(".board-title").click()  # the title becomes a text field in the top bar
    ann.keyboard.press("Control+a")
    ann.keyboard.type("Sprint retro")
    ann.keyboard.press("Enter")
    assert dialogs == []  # no native prompt
    assert ann.locator(".board-title").inner_text() == "Sprint retro"
    bob.wait_for_function(
        "() => document.querySelector('.board-title').textContent === 'Sprint retro'")

    ann.locator(".board-title").click()  # Escape cancels a rename
    ann.keyboard.type("typo")
    ann.keyboard.press("Escape")
    assert ann.locator(".board-title").inner_text() == "Sprint retro"

    for page in (ann, bob):  # each one's home page lists the board by title
        page.goto(server.base_url + "/")
        link = page.locator(".recent a[href='/b/retro-board']")
        assert link.inner_text() == "Sprint retro"
        assert page.locator(".recent li .muted").first.inner_text() == "opened just now"
    for context in contexts:
        context.close()
