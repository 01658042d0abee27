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
