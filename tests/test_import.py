"""HTTP import: through the CRDT path (connected clients see it at once), validated first
(nothing written on a violation), and export -> import -> export gives the same file."""

from __future__ import annotations

import json

import pytest
from pycrdt import Array, Map, Text

from tests.export_helpers import base_url, every_element_board, fetch, fetch_json

FILE_ID = "ab" * 32


def export_form(board: dict) -> dict:
    return {"schemaVersion": 1, **board}


@pytest.mark.gen_test(timeout=30)
async def test_import_reaches_a_connected_client_as_y_types_at_once(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    watcher = await yclient(server, "import_live")
    body = json.dumps(export_form(every_element_board(FILE_ID)))
    code, answer = await fetch_json(f"{base}/api/boards/import_live/import", method="POST",
                                    body=body)
    assert code == 200 and answer == {"id": "import_live", "elements": 8, "kind": "syncboard",
                                      "report": "8 elements imported from a syncboard JSON file"}
    await watcher.wait_for(lambda: len(watcher.elements) == 8, what="imported elements")
    sticky = watcher.elements["sticky1"]
    assert isinstance(sticky, Map) and isinstance(sticky["text"], Text)
    assert str(sticky["text"]) == "A sticky note with several words to wrap"
    assert isinstance(watcher.elements["stroke1"]["points"], Array)
    assert watcher.doc.get("meta", type=Map)["title"] == "every type"


@pytest.mark.gen_test(timeout=30)
async def test_export_then_import_into_a_new_board_then_export_is_identical(sb_server):
    server = await sb_server()
    base = base_url(server)
    board = every_element_board(FILE_ID)
    board["elements"][0]["customField"] = {"kept": ["as", "is"]}
    await fetch(f"{base}/api/boards/first/import", method="POST",
                body=json.dumps(export_form(board)))
    first = (await fetch(f"{base}/api/boards/first/export.json")).body
    code, _ = await fetch_json(f"{base}/api/boards/second/import", method="POST", body=first)
    assert code == 200
    second = (await fetch(f"{base}/api/boards/second/export.json")).body
    assert second == first
    assert json.loads(first)["elements"][0]["customField"] == {"kept": ["as", "is"]}
    svg_first = (await fetch(f"{base}/api/boards/first/export.svg")).body
    assert (await fetch(f"{base}/api/boards/second/export.svg")).body == svg_first


@pytest.mark.gen_test(timeout=30)
async def test_invalid_import_names_the_path_and_writes_nothing(sb_server):
    server = await sb_server()
    base = base_url(server)
    board = export_form(every_element_board(FILE_ID))
    board["elements"][6]["fill"] = 'red" onload="alert(1)'
    cases = [
        (json.dumps(board), "$.elements[6].fill"),
        ('{"schemaVersion": 1, "meta": {}, "elements": [{"id": "a", "type": "rect", '
         '"x": NaN}]}', "$"),
        ("{not json", "$"),
        (json.dumps({**board, "elements": [{"id": "a b", "type": "rect"}]}),
         "$.elements[0].id"),
    ]
    for body, path in cases:
        code, answer = await fetch_json(f"{base}/api/boards/refused/import", method="POST",
                                        body=body)
        assert code == 400 and answer["path"] == path, answer
    assert await server.store.board_info("refused") is None
    assert "refused" not in server.registry.rooms
