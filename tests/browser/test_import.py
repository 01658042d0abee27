"""Importing a JSON file from the page (issue 12 item 10): one undo step for the importer, and a
file the server refuses is explained in words, with nothing written."""

from __future__ import annotations

import json
import urllib.request

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


def import_file(page, path) -> None:
    page.click("[aria-label='Export or import']")
    with page.expect_file_chooser() as chooser:
        page.locator(".menu-item", has_text="Import file").click()
    chooser.value.set_files(str(path))


def test_an_import_is_one_undo_step_and_a_bad_file_is_explained(server, open_board, tmp_path):
    source = open_board(server, new_board(server), "Ann")
    draw_rect(source, 400, 300, 500, 380)
    draw_stroke(source, 600, 300)
    wait_all_confirmed(source)
    board_id = source.evaluate("location.pathname.split('/').pop()")
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.json") as r:
        exported = json.loads(r.read())
    good = tmp_path / "good.json"
    good.write_text(json.dumps(exported))

    page = open_board(server, new_board(server), "Bob")
    draw_rect(page, 300, 500, 360, 560)
    import_file(page, good)
    wait_element_count(page, 3)
    assert page.locator(".toast").last.inner_text() == "Imported 2 elements (Ctrl+Z undoes it)"
    page.mouse.click(1100, 700)
    page.keyboard.press("Control+z")  # the whole import, not the rectangle drawn before
    wait_element_count(page, 1)
    assert [el["type"] for el in elements(page).values()] == ["rect"]
    page.keyboard.press("Control+Shift+z")
    wait_element_count(page, 3)

    bad = tmp_path / "bad.json"
    broken = dict(exported)
    del broken["schemaVersion"]
    bad.write_text(json.dumps(broken))
    import_file(page, bad)
    toast = page.locator(".toast-error").last
    toast.wait_for()
    assert toast.inner_text() == (
        "This file is not a syncboard board: expected a syncboard export (\"schemaVersion\"), "
        "a syncboard bundle, an Excalidraw scene (\"type\": \"excalidraw\") or a tldraw file "
        "(\"tldrawFileFormatVersion\")")
    wrong_fill = dict(exported, elements=[dict(exported["elements"][0], fill=12)])
    bad.write_text(json.dumps(wrong_fill))
    import_file(page, bad)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.toast-error')].some("
        "t => t.textContent.startsWith('Element 1 of the file, its “fill”: '))")
    assert len(elements(page)) == 3
    wait_all_confirmed(page)
