"""Excalidraw scenes both ways (backend/export/excalidraw.py), over HTTP.

Fixture ``tests/fixtures/interchange/diagram.excalidraw`` was written by hand for these tests
from Excalidraw's published scene format: the element fields of
packages/element/src/types.ts and what packages/excalidraw/data/restore.ts reads, in the
shape of the files excalidraw.com saves (version 2, ``files`` with data URLs). It holds a
frame, a rectangle with a bound label (``containerId``), an ellipse and a diamond, an arrow
bound at both ends (one legacy ``focus``/``gap`` binding, one newer ``fixedPoint``/``mode``
binding) with its own label, a line, a freedraw, a free text, an image and a deleted
element.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pycrdt import Map, Text

from backend.export.incoming import read_import
from backend.export.mapping import FileLimits
from tests.export_helpers import CYAN_PNG, base_url, fetch, fetch_json

FIXTURE = Path(__file__).parent / "fixtures" / "interchange" / "diagram.excalidraw"
CYAN_ID = "87d21ff5ceb0f9140c70642949986f381d3cd49a50edfe92b4016781177648c2"

# What restore.ts reads from every element, and per type (restoreElementWithProperties and
# restoreElement): a file missing one of these is repaired or refused by Excalidraw.
BASE_FIELDS = {"id": str, "type": str, "x": (int, float), "y": (int, float),
               "width": (int, float), "height": (int, float), "angle": (int, float),
               "strokeColor": str, "backgroundColor": str, "fillStyle": str,
               "strokeWidth": (int, float), "strokeStyle": str, "roughness": int,
               "opacity": int, "seed": int, "version": int, "versionNonce": int,
               "isDeleted": bool, "groupIds": list, "boundElements": list, "updated": int,
               "locked": bool}
TYPE_FIELDS = {
    "text": {"text": str, "originalText": str, "fontSize": (int, float), "fontFamily": int,
             "textAlign": str, "verticalAlign": str, "lineHeight": (int, float),
             "autoResize": bool},
    "freedraw": {"points": list, "pressures": list, "simulatePressure": bool},
    "image": {"fileId": str, "status": str, "scale": list},
    "line": {"points": list}, "arrow": {"points": list, "elbowed": bool},
    "frame": {"name": str},
}
TYPES = {"rectangle", "ellipse", "diamond", "text", "freedraw", "image", "line", "arrow",
         "frame"}


def excalidraw_problems(scene: dict) -> list[str]:
    """Why Excalidraw's restore would not take a scene as it is (empty: it would)."""
    problems = [] if scene.get("type") == "excalidraw" and scene.get("version") == 2 else \
        ["not a version 2 excalidraw scene"]
    ids = {e.get("id") for e in scene["elements"]}
    for e in scene["elements"]:
        if e.get("type") not in TYPES:
            problems.append(f"{e.get('id')}: type {e.get('type')!r}")
        for name, kind in {**BASE_FIELDS, **TYPE_FIELDS.get(e.get("type"), {})}.items():
            if not isinstance(e.get(name), kind) or (isinstance(e.get(name), bool) and \
                    kind is int):
                problems.append(f"{e.get('id')}.{name} = {e.get(name)!r}")
        if not 0 <= e.get("opacity", -1) <= 100:
            problems.append(f"{e['id']}.opacity out of 0..100")
        if e.get("type") in ("line", "arrow", "freedraw") and e["points"][0] != [0, 0]:
            problems.append(f"{e['id']}: first point is not [0, 0]")
        if e.get("containerId") is not None and e["containerId"] not in ids:
            problems.append(f"{e['id']}: container {e['containerId']} missing")
        for end in ("startBinding", "endBinding"):
            if e.get(end) and e[end]["elementId"] not in ids:
                problems.append(f"{e['id']}.{end} names a missing element")
        if e.get("type") == "image" and e["fileId"] not in scene["files"]:
            problems.append(f"{e['id']}: file {e['fileId']} missing")
    for file_id, entry in scene["files"].items():
        if entry.get("id") != file_id or not entry.get("dataURL", "").startswith("data:image/"):
            problems.append(f"files.{file_id}")
    return problems


@pytest.mark.gen_test(timeout=60)
async def test_excalidraw_file_round_trips_through_a_live_board(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    await fetch(f"{base}/api/boards/exc/import", method="POST",
                body=json.dumps({"schemaVersion": 1, "meta": {}, "elements": []}))
    watcher = await yclient(server, "exc")
    code, answer = await fetch_json(f"{base}/api/boards/exc/import", method="POST",
                                    body=FIXTURE.read_bytes())
    assert code == 200, answer
    assert answer["report"] == (
        "9 elements imported from an Excalidraw file, 1 arrowheads of other shapes drawn "
        "as arrows, 1 cross-hatch fills drawn solid, 1 hachure fills drawn solid, "
        "2 sketchy outlines drawn clean, 2 texts set in the board's font")
    await watcher.wait_for(lambda: len(watcher.elements) == 9, what="imported elements")
    rect = watcher.elements["RectBox1aaaaaaaaaaaaa"]
    assert isinstance(rect, Map) and isinstance(rect["label"], Text)
    assert str(rect["label"]) == "Client" and rect["groupIds"] == ["grpOuter", "grpInner"]
    assert "Gone1kkkkkkkkkkkkkkkk" not in watcher.elements  # isDeleted
    board = json.loads((await fetch(f"{base}/api/boards/exc/export.json")).body)
    by_id = {e["id"]: e for e in board["elements"]}
    arrow = by_id["Arrow1ccccccccccccccc"]
    assert (arrow["startBindId"], arrow["endBindId"]) == ("RectBox1aaaaaaaaaaaaa",
                                                          "Ellipse1ddddddddddddd")
    # Legacy binding: anchored where the end was drawn (x 205 on a 0..200 box: its right
    # edge); the newer one keeps its fixedPoint.
    assert (arrow["startAnchorX"], arrow["startAnchorY"]) == (1, 0.5)
    assert (arrow["endAnchorX"], arrow["endAnchorY"]) == (0, 0.5)
    assert arrow["label"] == "calls" and arrow["arrowEnd"] and not arrow["arrowStart"]
    ellipse = by_id["Ellipse1ddddddddddddd"]
    assert (ellipse["opacity"], ellipse["strokeStyle"], ellipse["locked"]) == (0.5, "dashed",
                                                                              True)
    assert by_id["Fr4meA1b2C3d4E5f6G7h8"] | {"type": "frame", "name": "Overview"} == \
        by_id["Fr4meA1b2C3d4E5f6G7h8"]
    assert board["elements"][0]["type"] == "frame" and ellipse["frameId"] == \
        "Fr4meA1b2C3d4E5f6G7h8"
    assert by_id["Draw1hhhhhhhhhhhhhhhh"]["type"] == "stroke"
    assert by_id["Image1jjjjjjjjjjjjjjj"]["fileId"] == CYAN_ID
    assert (await fetch(f"{base}/api/files/{CYAN_ID}")).body == CYAN_PNG

    exported = await fetch(f"{base}/api/boards/exc/export.excalidraw")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="exc.excalidraw"'
    scene = json.loads(exported.body)
    assert excalidraw_problems(scene) == []
    out = {e["id"]: e for e in scene["elements"]}
    assert out["RectBox1aaaaaaaaaaaaa-label"]["containerId"] == "RectBox1aaaaaaaaaaaaa"
    assert out["Arrow1ccccccccccccccc"]["endBinding"]["fixedPoint"] == [0, 0.5]
    assert {"type": "arrow", "id": "Arrow1ccccccccccccccc"} in \
        out["Ellipse1ddddddddddddd"]["boundElements"]
    assert out["Image1jjjjjjjjjjjjjjj"]["fileId"] in scene["files"]
    # Read back by the same importer into another board: the same board again.
    code, again = await fetch_json(f"{base}/api/boards/exc2/import", method="POST",
                                   body=exported.body)
    assert code == 200 and again["elements"] == 9, again
    board2 = json.loads((await fetch(f"{base}/api/boards/exc2/export.json")).body)
    keys = ("type", "x", "y", "w", "h", "angle", "stroke", "fill", "opacity", "label",
            "text", "points", "startBindId", "endBindId", "startAnchorX", "endAnchorY",
            "frameId", "groupIds", "locked", "strokeStyle", "fileId", "name")
    assert [{k: e.get(k) for k in keys} for e in board2["elements"]] == \
        [{k: e.get(k) for k in keys} for e in board["elements"]]


def test_a_scene_without_its_type_field_is_still_read_as_excalidraw():
    """Shaped like Excalidraw's own test scene tests/fixtures/manually-created.excalidraw (no
    ``type``, ``version`` or ``source``; ``index`` and ``boundElements`` null), written here."""
    scene = {"elements": [{
        "id": "test-rectangle-1", "type": "rectangle", "x": 100, "y": 100, "width": 200,
        "height": 150, "angle": 0, "strokeColor": "#000000", "backgroundColor": "transparent",
        "fillStyle": "hachure", "strokeWidth": 1, "strokeStyle": "solid", "roughness": 1,
        "opacity": 100, "seed": 1, "version": 1, "versionNonce": 2, "index": None,
        "isDeleted": False, "groupIds": [], "frameId": None, "boundElements": None,
        "updated": 1, "link": None, "locked": False, "roundness": None}],
        "appState": {"viewBackgroundColor": "#ffffff"}, "files": {}}
    incoming = read_import(json.dumps(scene).encode(), FileLimits(1 << 20, 10**6))
    assert incoming.kind == "excalidraw"
    assert incoming.report() == "1 element imported from an Excalidraw file, 1 sketchy " \
                                "outlines drawn clean"
    (rect,) = incoming.board["elements"]
    assert (rect["id"], rect["type"], rect["x"], rect["w"], rect["fill"]) == \
        ("test-rectangle-1", "rect", 100, 200, "transparent")
