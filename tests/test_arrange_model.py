"""Groups and locks in the board model (issue 13b): `groupIds` and `locked` read tolerantly,
inert in SVG, validated on import and carried by export -> import -> export unchanged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from pycrdt import Doc, Map

from backend.board_model import load_model, read_board
from backend.export import export_board
from tests.export_helpers import base_url, fetch, fetch_json

HOSTILE = '"><script>alert(1)</script>'


def test_hostile_group_ids_and_lock_values_are_inert():
    doc = Doc()
    with doc.transaction():
        doc.get("elements", type=Map).update({
            "a": Map({"type": "rect", "w": 10, "h": 10, "z": "a0", "locked": "yes",
                      "groupIds": ["g1", HOSTILE, 7, "g1", None, "g2",
                                   *[f"x{i}" for i in range(50)]]}),
            "b": Map({"type": "rect", "w": 10, "h": 10, "z": "a1", "groupIds": {"g1": True},
                      "locked": True}),
        })
    a, b = read_board(doc).elements
    # The first 32 items are read: g1, g2 and x0..x25 of them are ids (x26... are not read).
    assert a["groupIds"][:3] == ["g1", "g2", "x0"] and a["groupIds"][-1] == "x25"
    assert a["locked"] is False
    assert b["groupIds"] == [] and b["locked"] is True
    svg = export_board(read_board(doc), "svg")
    text = svg.decode() if isinstance(svg, bytes) else svg
    assert "script" not in text and ET.fromstring(text.encode()) is not None


@pytest.mark.gen_test(timeout=30)
async def test_groups_and_locks_survive_export_import_export(sb_server):
    server = await sb_server()
    base = base_url(server)
    board = {"schemaVersion": load_model().version, "meta": {}, "elements": [
        {"id": "r1", "type": "rect", "x": 0, "y": 0, "w": 50, "h": 40, "z": "a0",
         "groupIds": ["inner", "outer"]},
        {"id": "r2", "type": "ellipse", "x": 80, "y": 0, "w": 50, "h": 40, "z": "a1",
         "groupIds": ["outer"], "locked": True},
        {"id": "r3", "type": "rect", "x": 0, "y": 90, "w": 50, "h": 40, "z": "a2"},
    ]}
    code, _ = await fetch_json(f"{base}/api/boards/grouped/import", method="POST",
                               body=json.dumps(board))
    assert code == 200
    first = (await fetch(f"{base}/api/boards/grouped/export.json")).body
    exported = {e["id"]: e for e in json.loads(first)["elements"]}
    assert exported["r1"]["groupIds"] == ["inner", "outer"] and not exported["r1"]["locked"]
    assert exported["r2"]["groupIds"] == ["outer"] and exported["r2"]["locked"] is True
    assert exported["r3"]["groupIds"] == [] and exported["r3"]["locked"] is False
    code, _ = await fetch_json(f"{base}/api/boards/regrouped/import", method="POST", body=first)
    assert code == 200
    assert (await fetch(f"{base}/api/boards/regrouped/export.json")).body == first
    bad = {**board, "elements": [{"id": "x", "type": "rect", "groupIds": ["ok", "not ok"]}]}
    code, answer = await fetch_json(f"{base}/api/boards/refused/import", method="POST",
                                    body=json.dumps(bad))
    assert code == 400 and answer["path"] == "$.elements[0].groupIds[1]", answer
