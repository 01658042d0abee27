"""A link that can no longer reach its board says so in plain words and makes the page read-only
(issue 12 item 8): a revoked link (the board's links rotated while it is open) and a link to a
board that does not exist. What the tab holds stays exportable."""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

import pytest

from .conftest import draw_rect, elements, wait_all_confirmed, wait_connected
from .test_access import create_board_with_tokens, open_url

pytestmark = pytest.mark.browser


def rotate(server, board_id: str, token: str) -> None:
    request = urllib.request.Request(
        f"{server.base_url}/api/boards/{board_id}/rotate", method="POST", data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def tools_shown(page) -> list[str]:
    return page.locator(".toolbar [data-tool]:visible").evaluate_all(
        "bs => bs.map(b => b.dataset.tool)")


def test_a_revoked_link_says_so_and_the_page_becomes_read_only(server_process, browser):
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    page = open_url(browser, links["editUrl"], "Ann")
    wait_connected(page)
    draw_rect(page, 400, 300, 520, 380)
    wait_all_confirmed(page)

    rotate(server, links["id"], links["editToken"])
    notice = page.locator(".refusal")
    notice.wait_for(state="visible", timeout=15000)
    assert "This link was revoked: ask for a new one" in notice.inner_text()
    assert tools_shown(page) == ["select", "hand"]
    page.keyboard.press("r")  # tool keys of drawing tools do nothing now
    page.mouse.move(600, 300)
    page.mouse.down()
    page.mouse.move(700, 400, steps=3)
    page.mouse.up()
    assert len(elements(page)) == 1
    with page.expect_download() as download:
        notice.get_by_role("button", name="Download the board as JSON").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert [el["type"] for el in exported["elements"]] == ["rect"]


def test_a_link_to_a_board_that_does_not_exist_says_so(server_process, browser):
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    unknown = secrets.token_urlsafe(16).replace("-", "x")
    page = open_url(browser, f"{server.base_url}/b/{unknown}#t={links['editToken']}", "Ann")
    notice = page.locator(".refusal")
    notice.wait_for(state="visible", timeout=15000)
    assert "This board does not exist" in notice.inner_text()
    assert tools_shown(page) == ["select", "hand"]
