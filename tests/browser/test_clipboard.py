"""Copy, cut and paste with the real keyboard (issue 12, clipboard): within a board, between two
tabs on different boards, plain text from elsewhere, an image file, and what other apps get."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import add_sticky, draw_rect, elements, new_board, wait_connected
from .test_tools import tiny_png

pytestmark = pytest.mark.browser

RED_PNG = tiny_png(40, 30)


@pytest.fixture
def server(shared_server):
    return shared_server


@pytest.fixture
def tabs(browser, server):
    """Factory: ``tabs(*board_ids)`` opens one page per board in ONE browser context (tabs of one
    browser share the clipboard), clipboard permissions granted for reading results back."""
    contexts = []

    def open_tabs(*board_ids):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
        context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps('Ann')});")
        contexts.append(context)
        pages = []
        for board_id in board_ids:
            page = context.new_page()
            page.errors = []
            page.on("pageerror", lambda error, page=page: page.errors.append(str(error)))
            page.goto(f"{server.base_url}/b/{board_id}")
            wait_connected(page)
            pages.append(page)
        return pages

    yield open_tabs
    for context in contexts:
        context.close()


def by_text(page) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for el in elements(page).values():
        out.setdefault(el.get("text", el["type"]), []).append(el)
    return out


def copy_text_from_the_title_field(page, text: str) -> None:
    """Put plain text on the clipboard the way a user would: type it into a text field, select
    it, Ctrl+C (the title field of the top bar serves as 'another app')."""
    page.locator(".board-title").click()
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("Escape")  # cancels the rename


def test_copy_and_paste_within_a_board_lands_at_the_pointer_as_one_undo_step(server, tabs):
    (page,) = tabs(new_board(server))
    draw_rect(page, 400, 300, 500, 380)
    add_sticky(page, 700, 340, "hello")
    page.keyboard.press("v")
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.mouse.move(900, 600)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 4")
    pasted = page.evaluate("[...window.syncboard.selection]")
    doc = elements(page)
    assert len(pasted) == 2 and {doc[i]["type"] for i in pasted} == {"rect", "sticky"}
    originals = [el for i, el in doc.items() if i not in pasted]
    dx = {doc[i]["type"]: doc[i]["x"] for i in pasted}
    ox = {el["type"]: el["x"] for el in originals}
    assert dx["rect"] - ox["rect"] == pytest.approx(dx["sticky"] - ox["sticky"])
    bounds = page.evaluate(
        "() => window.syncboard.scene.contentBounds(window.syncboard.selection)")
    centre = ((bounds["minX"] + bounds["maxX"]) / 2, (bounds["minY"] + bounds["maxY"]) / 2)
    assert centre == pytest.approx((900, 600), abs=2)
    assert by_text(page)["hello"][0]["text"] == by_text(page)["hello"][1]["text"]
    page.keyboard.press("Control+z")  # the whole paste is one step
    page.wait_for_function("() => window.syncboard.board.elements.size === 2")
    assert page.errors == []


def test_cut_and_paste_between_two_tabs_on_different_boards(server, tabs):
    first, second = tabs(new_board(server), new_board(server))
    add_sticky(first, 600, 300, "moves to the other board")
    first.keyboard.press("v")
    first.keyboard.press("Control+a")
    first.keyboard.press("Control+x")
    first.wait_for_function("() => window.syncboard.board.elements.size === 0")
    second.bring_to_front()
    second.mouse.move(500, 500)
    second.keyboard.press("Control+v")
    second.wait_for_function("() => window.syncboard.board.elements.size === 1")
    note = next(iter(elements(second).values()))
    assert note["type"] == "sticky" and note["text"] == "moves to the other board"
    assert second.errors == [] and first.errors == []


def test_pasted_plain_text_becomes_a_text_element_and_never_a_stale_image(server, tabs):
    (page,) = tabs(new_board(server))
    # An image on the clipboard, as another app would leave it (the set-up, not the action).
    page.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const blob = new Blob([bytes], {type: 'image/png'});
            await navigator.clipboard.write([new ClipboardItem({'image/png': blob})]);
        }""",
        base64.b64encode(RED_PNG).decode(),
    )
    page.mouse.move(600, 400)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 1")
    assert next(iter(elements(page).values()))["type"] == "image"

    copy_text_from_the_title_field(page, "a line from another app")
    page.mouse.move(700, 500)
    page.keyboard.press("Control+v")
    page.wait_for_function("() => window.syncboard.board.elements.size === 2")
    texts = [el for el in elements(page).values() if el["type"] == "text"]
    assert [t["text"] for t in texts] == ["a line from another app"]
    assert sum(el["type"] == "image" for el in elements(page).values()) == 1
    assert page.errors == []


def test_a_copy_gives_other_apps_the_texts_and_a_picture(server, tabs):
    (page,) = tabs(new_board(server))
    add_sticky(page, 600, 300, "first note")
    add_sticky(page, 900, 300, "second note")
    page.keyboard.press("v")
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    formats = page.evaluate(
        """async () => {
            const out = {};
            for (const item of await navigator.clipboard.read()) {
                for (const type of item.types) out[type] = await (await item.getType(type)).text();
            }
            return out;
        }"""
    )
    assert formats["text/plain"] == "first note\n\nsecond note"
    assert '<img src="data:image/png;base64,' in formats["text/html"]
