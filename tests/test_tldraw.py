"""tldraw files (backend/export/tldraw.py) imported over HTTP.

Fixture ``tests/fixtures/interchange/diagram.tldr`` was written by hand for these tests from
tldraw's published record format (the ``TLRecord`` types of packages/tlschema: shapes with
``props``, ``binding`` records for arrows, image ``asset`` records with a data URL ``src``,
``richText`` documents), in the layout tldraw's "Save as file" writes: a frame holding a
labelled rectangle, an ellipse, an arrow bound to both, a draw stroke, a text and a note,
plus a rotated image, a line and a draw shape whose segment is a base64 ``path`` (tldraw 4's
delta-encoded Float16 points, packages/tlschema/src/misc/b64Vecs.ts) on the page.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from backend.export.incoming import read_import
from backend.export.mapping import FileLimits
from tests.export_helpers import CYAN_PNG, base_url, fetch, fetch_json

FIXTURE = Path(__file__).parent / "fixtures" / "interchange" / "diagram.tldr"
CYAN_ID = "87d21ff5ceb0f9140c70642949986f381d3cd49a50edfe92b4016781177648c2"


@pytest.mark.gen_test(timeout=60)
async def test_tldraw_file_maps_every_shape_kind(sb_server):
    server = await sb_server()
    base = base_url(server)
    await fetch(f"{base}/api/boards/tl/import", method="POST", body=json.dumps(
        {"schemaVersion": 1, "meta": {}, "elements": [
            {"id": "mine", "type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "z": "b0Z"}]}))
    code, answer = await fetch_json(f"{base}/api/boards/tl/import", method="POST",
                                    body=FIXTURE.read_bytes())
    assert code == 200 and answer["kind"] == "tldraw", answer
    assert answer["report"] == "10 elements imported from a tldraw file, 2 hand-drawn " \
                               "outlines drawn clean"
    board = json.loads((await fetch(f"{base}/api/boards/tl/export.json")).body)
    # Drawn elsewhere, so put on top of what the board held, in tldraw's paint order.
    assert board["elements"][0]["id"] == "mine"
    assert [e["z"] for e in board["elements"][1:4]] == ["b0a", "b0b", "b0c"]
    board["elements"] = board["elements"][1:]
    by_id = {e["id"]: e for e in board["elements"]}
    assert [e["type"] for e in board["elements"]] == [
        "frame", "rect", "ellipse", "arrow", "stroke", "text", "sticky", "image", "line",
        "stroke"]
    assert by_id["frame1"]["name"] == "Plan" and by_id["box1"]["frameId"] == "frame1"
    assert (by_id["box1"]["label"], by_id["box1"]["fill"]) == ("Start", "#4465e9")
    arrow = by_id["arrow1"]
    assert (arrow["startBindId"], arrow["startAnchorX"], arrow["endBindId"],
            arrow["endAnchorX"]) == ("box1", 1, "oval1", 0)
    assert arrow["label"] == "next"
    # Stored as tldraw drew it; export.json gives it along its route (test_export_routed.py).
    stored = read_import(FIXTURE.read_bytes(), FileLimits(1 << 20, 10**6)).board["elements"]
    assert next(e for e in stored if e["id"] == "arrow1")["points"] == [0, 0, 260, 0]
    assert by_id["oval1"]["locked"] and by_id["oval1"]["opacity"] == 0.5
    assert by_id["text1"]["text"] == "Hello\ntldraw"
    assert by_id["note1"]["text"] == "A note" and by_id["note1"]["fill"] == "#fff3a3"
    assert by_id["line1"]["strokeStyle"] == "dotted"
    # tldraw 4+ keeps a draw segment's points as base64 Float16 deltas (its b64Vecs).
    assert by_id["draw2"]["points"] == [100, 50, 110, 58, 125, 70, 150, 72]
    # Rotated about its top-left corner in tldraw, about its centre here: same centre.
    image = by_id["image1"]
    centre = (1000 + 32 * math.cos(0.25) - 32 * math.sin(0.25),
              32 * math.sin(0.25) + 32 * math.cos(0.25))
    assert image["x"] + 32 == pytest.approx(centre[0]) and \
        image["y"] + 32 == pytest.approx(centre[1])
    assert image["fileId"] == CYAN_ID
    assert (await fetch(f"{base}/api/files/{CYAN_ID}")).body == CYAN_PNG


def test_names_of_the_wrong_type_fall_back_instead_of_failing():
    """Found by mutating the fixtures: lists and objects where tldraw and Excalidraw write a
    name (a parent, a colour, a type, a style) reached dict lookups and failed with a
    TypeError (a 500). Now each falls back to its default, or the shape is skipped."""
    records = json.loads(FIXTURE.read_text())
    shapes = {r["id"]: r for r in records["records"]}
    shapes["shape:box1"]["parentId"] = ["shape:frame1"]
    shapes["shape:box1"]["props"].update(color={"a": 1}, size=[1], dash={}, geo=[])
    shapes["shape:text1"]["props"]["textAlign"] = {"x": 1}
    shapes["shape:image1"]["props"]["assetId"] = {"id": 1}
    shapes["shape:note1"]["props"]["align"] = [1]
    limits = FileLimits(1 << 20, 10**6)
    board = read_import(json.dumps(records).encode(), limits).board
    box = next(e for e in board["elements"] if e["id"] == "box1")
    assert (box["type"], box["stroke"], box["strokeWidth"], box["frameId"]) == \
        ("rect", "#1d1d1d", 2, "")
    scene = json.loads((FIXTURE.parent / "diagram.excalidraw").read_text())
    scene["elements"][1]["type"] = {"rectangle": 1}
    scene["elements"][3]["strokeStyle"] = ["dashed"]
    scene["elements"][3]["frameId"] = ["Fr4meA1b2C3d4E5f6G7h8"]
    scene["elements"][9]["textAlign"] = {}
    incoming = read_import(json.dumps(scene).encode(), limits)
    by_id = {e["id"]: e for e in incoming.board["elements"]}
    assert "RectBox1aaaaaaaaaaaaa" not in by_id and \
        incoming.approximations["elements of unknown type skipped"] == 1
    assert (by_id["Ellipse1ddddddddddddd"]["strokeStyle"],
            by_id["Ellipse1ddddddddddddd"]["frameId"]) == ("solid", "")
    assert by_id["Text1iiiiiiiiiiiiiiii"]["align"] == "left"
