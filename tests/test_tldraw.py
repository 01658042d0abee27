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

from tests.export_helpers import CYAN_PNG, base_url, fetch, fetch_json

FIXTURE = Path(__file__).parent / "fixtures" / "interchange" / "diagram.tldr"
CYAN_ID = "87d21ff5ceb0f9140c70642949986f381d3cd49a50edfe92b4016781177648c2"


@pytest.mark.gen_test(timeout=60)
async def test_tldraw_file_maps_every_shape_kind(sb_server):
    server = await sb_server()
    base = base_url(server)
    code, answer = await fetch_json(f"{base}/api/boards/tl/import", method="POST",
                                    body=FIXTURE.read_bytes())
    assert code == 200 and answer["kind"] == "tldraw", answer
    assert answer["report"] == "10 elements imported from a tldraw file, 2 hand-drawn " \
                               "outlines drawn clean"
    board = json.loads((await fetch(f"{base}/api/boards/tl/export.json")).body)
    by_id = {e["id"]: e for e in board["elements"]}
    assert [e["type"] for e in board["elements"]] == [
        "frame", "rect", "ellipse", "arrow", "stroke", "text", "sticky", "image", "line",
        "stroke"]
    assert by_id["frame1"]["name"] == "Plan" and by_id["box1"]["frameId"] == "frame1"
    assert (by_id["box1"]["label"], by_id["box1"]["fill"]) == ("Start", "#4465e9")
    arrow = by_id["arrow1"]
    assert (arrow["startBindId"], arrow["startAnchorX"], arrow["endBindId"],
            arrow["endAnchorX"]) == ("box1", 1, "oval1", 0)
    assert arrow["label"] == "next" and arrow["points"] == [0, 0, 260, 0]
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
