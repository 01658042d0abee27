"""Readers that do not route see bound arrows where the board draws them (shared/BOARD.md,
"Connectors as drawn"): over a real server, the shapes of every case of
shared/fixtures/routing.json are drawn elsewhere, then moved into place by a pycrdt client; the
arrows' stored points are left as they were drawn. ``export.json`` and ``export.excalidraw``
must then give each arrow the fixture's expected route, the same path ``export.svg`` draws, and
both files must come back from an import unchanged."""

from __future__ import annotations

import json
import math

import pytest
from pycrdt import Array, Map

from backend.export.routing import BINDABLE_TYPES
from backend.resources import shared_file
from tests.export_helpers import (
    assert_near,
    base_url,
    drawn_points,
    fetch,
    fetch_json,
    svg_arrow_paths,
    turned_about_box,
)

FIXTURES = json.loads(shared_file("fixtures/routing.json").read_text(encoding="utf-8"))
OFFSET = (150.0, -70.0)
"""Where each target is first drawn, relative to where the fixture puts it."""


def prefixed(n: int, element_id: str) -> str:
    """Case ``n``'s own copy of a fixture id (``""`` stays unbound)."""
    return f"c{n}-{element_id}" if element_id else ""


def case_board() -> tuple[dict, list[str]]:
    """Every case on one board, its targets displaced by ``OFFSET``; the ids of the targets."""
    elements, targets = [], []
    for n, case in enumerate(FIXTURES["cases"]):
        for tid, target in case["targets"].items():
            if target["type"] in BINDABLE_TYPES:  # a line without points is not drawable
                elements.append({**target, "id": prefixed(n, tid), "z": f"a{len(elements):03d}",
                                 "x": target["x"] + OFFSET[0], "y": target["y"] + OFFSET[1]})
                targets.append(prefixed(n, tid))
        arrow = case["arrow"]
        elements.append({**arrow, "id": prefixed(n, arrow["id"]), "z": f"b{n:03d}",
                         "startBindId": prefixed(n, arrow["startBindId"]),
                         "endBindId": prefixed(n, arrow["endBindId"])})
    return {"schemaVersion": 2, "meta": {}, "elements": elements}, targets


async def draw_then_move_into_place(server, client, board_id: str, board: dict,
                                    targets: list[str]) -> Map:
    """Write ``board`` through ``client`` as drawn (shapes displaced, arrows' stored points as
    the fixture has them), then move the shapes into place; returns the server's live
    ``elements`` once it holds the moves."""
    def draw(doc) -> None:  # as drawn: some anchors out of range, which an import refuses
        elements = doc.get("elements", type=Map)
        for e in board["elements"]:
            fields = {k: v for k, v in e.items() if k != "id"}
            if "points" in fields:
                fields["points"] = Array([float(v) for v in fields["points"]])
            elements[e["id"]] = Map(fields)
    await client.edit(draw)

    def move_into_place(doc) -> None:
        elements = doc.get("elements", type=Map)
        for tid in targets:
            elements[tid]["x"] -= OFFSET[0]
            elements[tid]["y"] -= OFFSET[1]
    await client.edit(move_into_place)
    live = server.registry.rooms[board_id].document.doc.get("elements", type=Map)
    placed = {e["id"]: (e["x"] - OFFSET[0], e["y"] - OFFSET[1]) for e in board["elements"]
              if e["id"] in targets}
    await client.wait_for(lambda: all(t in live and math.dist((live[t]["x"], live[t]["y"]),
                                                         placed[t]) < 1e-9 for t in targets),
                          what="the server holds the moves")
    return live


@pytest.mark.gen_test(timeout=60)
async def test_exports_give_bound_arrows_as_routed_after_their_shapes_moved(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    board, targets = case_board()
    client = await yclient(server, "routed")
    stored = {e["id"]: e["points"] for e in board["elements"] if e["type"] == "arrow"}
    live = await draw_then_move_into_place(server, client, "routed", board, targets)

    exported = (await fetch(f"{base}/api/boards/routed/export.json")).body
    arrows = {e["id"]: e for e in json.loads(exported)["elements"] if e["type"] == "arrow"}
    paths = svg_arrow_paths((await fetch(f"{base}/api/boards/routed/export.svg")).body)
    for n, case in enumerate(FIXTURES["cases"]):
        arrow = arrows[prefixed(n, case["arrow"]["id"])]
        assert_near(drawn_points(arrow), case["expected"], FIXTURES["tolerance"], case["name"])
        assert_near(drawn_points(arrow), paths[arrow["id"]], 0.0006, case["name"])  # 3 decimals
    # The server exported the routes; it did not write them into the document.
    assert {key: list(live[key]["points"]) for key in stored} == stored

    scene = json.loads((await fetch(f"{base}/api/boards/routed/export.excalidraw")).body)
    for element in scene["elements"]:
        if element["type"] == "arrow":
            arrow = arrows[element["id"]]
            assert element["points"][0] == [0, 0]
            flat = [v for point in element["points"] for v in point]
            assert_near(drawn_points({**element, "points": flat}), drawn_points(arrow), 1e-9,
                        element["id"])

    # export -> import -> export is identical, byte for byte.
    code, answer = await fetch_json(f"{base}/api/boards/again/import", method="POST",
                                    body=exported)
    assert code == 200, answer
    assert (await fetch(f"{base}/api/boards/again/export.json")).body == exported
    # The Excalidraw file read back draws every arrow where it was, and exports it so.
    code, answer = await fetch_json(f"{base}/api/boards/back/import", method="POST",
                                    body=json.dumps(scene))
    assert code == 200, answer
    back = json.loads((await fetch(f"{base}/api/boards/back/export.json")).body)
    for element in back["elements"]:
        if element["type"] == "arrow":
            assert_near(drawn_points(element), drawn_points(arrows[element["id"]]), 1e-9,
                        element["id"])


GEOMETRY = ("x", "y", "w", "h", "angle", "points")


@pytest.mark.gen_test(timeout=60)
async def test_a_frame_or_selection_export_gives_arrows_the_whole_board_exports_geometry(
        sb_server, yclient):
    """A part of the board (a frame, a selection by URL or posted) gives each routed arrow the
    geometry the whole-board export gives it: ``x, y`` its first routed point, ``points`` from
    0, 0 (shared/BOARD.md, "Connectors as drawn"), bound to nothing, and draws it the same."""
    server = await sb_server()
    base = base_url(server)
    board, targets = case_board()
    frame = {"id": "frame", "type": "frame", "x": -1000, "y": -1000, "w": 3000, "h": 3000,
             "z": "c000", "name": "all"}
    board["elements"] = [{**e, "frameId": "frame"} for e in board["elements"]] + [frame]
    client = await yclient(server, "parts")
    await draw_then_move_into_place(server, client, "parts", board, targets)
    url = f"{base}/api/boards/parts"

    whole = {e["id"]: e for e in json.loads((await fetch(f"{url}/export.json")).body)["elements"]
             if e["type"] == "arrow"}
    whole_svg = svg_arrow_paths((await fetch(f"{url}/export.svg")).body)
    some = sorted(whole)[:40]  # within the URL's 2,000 ids, and leaving shapes out
    parts = {
        "frame": await fetch(f"{url}/export.json?frame=frame"),
        "ids": await fetch(f"{url}/export.json?ids={','.join(some)}"),
        "posted": await fetch(f"{url}/export.json", method="POST",
                              headers={"Content-Type": "application/json"},
                              body=json.dumps({"ids": sorted(whole)})),
    }
    moved_first = 0
    for how, response in parts.items():
        assert response.code == 200, (how, response.body[:300])
        arrows = {e["id"]: e for e in json.loads(response.body)["elements"]
                  if e["type"] == "arrow"}
        assert set(arrows) == (set(some) if how == "ids" else set(whole)), how
        for arrow_id, arrow in arrows.items():
            want = whole[arrow_id]
            assert {k: arrow[k] for k in GEOMETRY} == {k: want[k] for k in GEOMETRY}, \
                (how, arrow_id)
            assert (arrow["startBindId"], arrow["endBindId"], arrow["routing"]) == \
                ("", "", "straight"), (how, arrow_id)
            if want["points"][:2] == [0, 0] and min(want["points"]) < 0:
                moved_first += 1  # its first point is not its top-left: the case that differed
    assert moved_first > 0
    # The frame's SVG draws each arrow where the whole board's does (an arrow kept as stored,
    # turned by its angle: through its group's rotation).
    frame_svg = svg_arrow_paths((await fetch(f"{url}/export.svg?frame=frame")).body)
    assert set(frame_svg) == set(whole_svg)
    for arrow_id, path in frame_svg.items():
        assert_near(turned(path, whole[arrow_id]), whole_svg[arrow_id], 0.002, arrow_id)


def turned(path: list[tuple[float, float]], element: dict) -> list[tuple[float, float]]:
    """An SVG path of ``element`` as its group's ``rotate`` (its angle about its points'
    box centre) draws it."""
    return turned_about_box(path, element["angle"])
