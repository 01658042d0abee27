"""The change feed reports bound arrows where the board draws them (shared/BOARD.md,
"Following a board"): a real in-process server, a stock pycrdt client drawing and moving
shapes, and the SSE reader of tests/sse_reader.py. The arrow is the first case of
shared/fixtures/routing.json (two boxes, both ends bound to their centres); its stored points
never change, yet each event must give it the route that ``export.json`` and ``export.svg``
give at that moment."""

from __future__ import annotations

import json

import pytest
from pycrdt import Array, Map

from backend.resources import shared_file
from tests.export_helpers import assert_near, base_url, drawn_points, fetch, svg_arrow_paths
from tests.sse_reader import SseReader

CASE = json.loads(shared_file("fixtures/routing.json").read_text(encoding="utf-8"))["cases"][0]
GEOMETRY = ["angle", "h", "points", "w", "x", "y"]
START = (-200.0, 150.0)
"""Where box A is first drawn (the fixture has it at 0, 0)."""


@pytest.mark.gen_test(timeout=60)
async def test_a_bound_arrow_is_reported_along_its_route_when_its_boxes_move(sb_server,
                                                                            yclient):
    server = await sb_server(events_window_ms=100)
    base = base_url(server)
    client = await yclient(server, "feed-routes")
    reader = await SseReader(f"{base}/api/boards/feed-routes/events").open()
    await reader.wait_for(lambda: reader.events, what="the ready event")

    def events() -> list[dict]:
        return reader.of_type("elements.changed")

    async def step(change) -> dict:
        """One edit, and the one event that reports it."""
        count = len(events())
        await client.edit(change)
        await reader.wait_for(lambda: len(events()) > count, what="the edit's event")
        assert len(events()) == count + 1, events()[count:]
        return events()[-1]

    async def exported_arrow() -> tuple[list, list]:
        board = json.loads((await fetch(f"{base}/api/boards/feed-routes/export.json")).body)
        arrow = next(e for e in board["elements"] if e["id"] == "arrow")
        return drawn_points(arrow), svg_arrow_paths(
            (await fetch(f"{base}/api/boards/feed-routes/export.svg")).body)["arrow"]

    def elements(doc) -> Map:
        return doc.get("elements", type=Map)

    def draw(doc) -> None:
        for tid, target in CASE["targets"].items():
            x, y = START if tid == "A" else (target["x"], target["y"])
            elements(doc)[tid] = Map({**target, "x": x, "y": y, "z": f"a{tid}"})
        elements(doc)["C"] = Map({"type": "rect", "x": 0, "y": 400, "w": 50, "h": 50, "z": "aC"})
        arrow = {k: v for k, v in CASE["arrow"].items() if k != "id"}
        elements(doc)["arrow"] = Map({**arrow, "z": "b0",
                                      "points": Array([float(v) for v in arrow["points"]])})
    try:
        drawn = await step(draw)
        created = next(e for e in drawn["created"] if e["id"] == "arrow")
        json_points, svg_points = await exported_arrow()
        assert_near(drawn_points(created), json_points, 1e-9, "created")
        assert_near(drawn_points(created), svg_points, 0.0006, "created, SVG")
        assert created["points"] != CASE["arrow"]["points"]  # routed, not as stored

        moved = await step(lambda doc: elements(doc)["C"].__setitem__("x", 70))
        assert [u["id"] for u in moved["updated"]] == ["C"]  # nothing is bound to C

        def move_a(doc) -> None:
            elements(doc)["A"]["x"] = CASE["targets"]["A"]["x"]
            elements(doc)["A"]["y"] = CASE["targets"]["A"]["y"]
        moved = await step(move_a)
        assert [u["id"] for u in moved["updated"]] == ["A", "arrow"]
        entry = moved["updated"][1]
        assert (entry["type"], entry["frameId"], sorted(entry["fields"])) == \
            ("arrow", "", GEOMETRY)
        assert_near(drawn_points(entry["fields"]), CASE["expected"], 1e-9, "A moved")
        json_points, svg_points = await exported_arrow()
        assert_near(drawn_points(entry["fields"]), json_points, 1e-9, "A moved, JSON")
        assert_near(drawn_points(entry["fields"]), svg_points, 0.0006, "A moved, SVG")

        # A script deletes B and leaves the binding: the end falls back to its stored point.
        gone = await step(lambda doc: elements(doc).pop("B"))
        assert gone["deleted"] == ["B"] and [u["id"] for u in gone["updated"]] == ["arrow"]
        fields = gone["updated"][0]["fields"]
        json_points, _ = await exported_arrow()
        assert_near(drawn_points(fields), json_points, 1e-9, "B deleted")
        assert drawn_points(fields)[-1] == pytest.approx((350, 50))  # stored: 50 + 300, 50
        live = server.registry.rooms["feed-routes"].document.doc.get("elements", type=Map)
        assert list(live["arrow"]["points"]) == CASE["arrow"]["points"]  # never rewritten
    finally:
        reader.close()
