"""Schema version 2 in the exporter: connectors are exported along the same route as the browser
draws them (shared/fixtures/routing.json, parsed back out of the SVG), labels, diamonds, stroke
styles and frames are drawn, hostile values come out inert, and JSON export -> import -> export
of a board using every new field is identical."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from backend.board_model import (
    BoardContent,
    build_import_update,
    load_model,
    normalize_element,
    read_update,
    validate_board_json,
)
from backend.export import export_board
from backend.export.__main__ import main
from backend.export.svg import render_svg
from backend.resources import shared_file
from tests.export_helpers import load_import_script

FIXTURES = json.loads(shared_file("fixtures/routing.json").read_text(encoding="utf-8"))
SVG = "{http://www.w3.org/2000/svg}"


def board_of(elements: list[dict]) -> dict:
    return {"schemaVersion": 2, "meta": {}, "elements": elements}


def through_crdt(data: dict, validate: bool = True):
    """Validate, write as a Yjs update, read back: what the exporter sees for a stored board
    (``validate=False``: a live document may hold what an import would refuse)."""
    if validate:
        assert validate_board_json(data) == []
    return read_update(build_import_update(data))


def path_points(d: str) -> list[tuple[float, float]]:
    assert re.fullmatch(r"M[-\d. ]+(L[-\d. ]+)*", d), d
    return [tuple(float(v) for v in part.split()) for part in re.split("[ML]", d) if part]


def group(svg: str, element_id: str) -> ET.Element:
    root = ET.fromstring(svg.split("\n", 1)[1])
    return next(g for g in root.iter(SVG + "g") if g.get("data-id") == element_id)


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"][:60])
def test_exported_arrow_follows_the_shared_routing_fixture(case):
    targets = [{"id": tid, **t, "z": f"a{i}"} for i, (tid, t) in enumerate(case["targets"].items())
               if t["type"] != "line"]  # a line without points cannot be drawn (skipped)
    arrow = {**case["arrow"], "z": "b0"}
    svg = render_svg(through_crdt(board_of([*targets, arrow]), validate=False))
    line = group(svg, "arrow").find(SVG + "path")
    got = path_points(line.get("d"))
    assert len(got) == len(case["expected"]), got
    for (x, y), (ex, ey) in zip(got, case["expected"], strict=True):
        assert abs(x - ex) <= FIXTURES["tolerance"] and abs(y - ey) <= FIXTURES["tolerance"], got


def every_v2_field_board() -> dict:
    return board_of([
        {"id": "frame1", "type": "frame", "x": -50, "y": -50, "w": 700, "h": 400, "z": "a0",
         "name": "Slide <1> & \"intro\""},
        {"id": "box1", "type": "rect", "x": 0, "y": 0, "w": 100, "h": 100, "z": "a1",
         "label": "Start here, then go", "fontSize": 16, "align": "left", "frameId": "frame1",
         "strokeStyle": "dashed"},
        {"id": "dia1", "type": "diamond", "x": 300, "y": 0, "w": 120, "h": 100, "z": "a2",
         "label": "ok?", "frameId": "frame1", "strokeStyle": "dotted", "fill": "#a5d8ff"},
        {"id": "arrow1", "type": "arrow", "x": 50, "y": 50, "z": "a3", "points": [0, 0, 310, 0],
         "startBindId": "box1", "endBindId": "dia1", "endAnchorX": 0.25, "endAnchorY": 0.75,
         "routing": "elbow", "label": "yes", "frameId": "frame1"},
        {"id": "line1", "type": "line", "x": 0, "y": 200, "z": "a4", "points": [0, 0, 80, 0],
         "label": "", "routing": "straight"},
    ])


def test_json_export_import_export_is_identical_with_every_schema_2_field():
    first = export_board(through_crdt(every_v2_field_board()), "json")
    second = export_board(through_crdt(json.loads(first)), "json")
    assert first == second
    data = json.loads(first)
    assert data["schemaVersion"] == 2 and data["meta"]["schemaVersion"] == 2
    arrow = next(e for e in data["elements"] if e["id"] == "arrow1")
    assert (arrow["startBindId"], arrow["endBindId"], arrow["routing"], arrow["label"]) == \
        ("box1", "dia1", "elbow", "yes")
    assert (arrow["startAnchorX"], arrow["endAnchorX"], arrow["endAnchorY"]) == (0.5, 0.25, 0.75)


def test_a_version_1_file_is_read_unchanged_with_every_new_field_at_its_default():
    v1 = {"schemaVersion": 1, "meta": {"schemaVersion": 1}, "elements": [
        {"id": "r", "type": "rect", "x": 1, "y": 2, "w": 3, "h": 4, "z": "a0", "mine": [1]},
        {"id": "a", "type": "arrow", "x": 0, "y": 0, "z": "a1", "points": [0, 0, 10, 0]}]}
    content = through_crdt(v1)
    rect, arrow = content.elements
    assert (rect["x"], rect["y"], rect["w"], rect["h"], rect["mine"]) == (1, 2, 3, 4, [1])
    assert (rect["strokeStyle"], rect["frameId"], rect["label"], rect["align"]) == \
        ("solid", "", "", "center")
    assert (arrow["startBindId"], arrow["endBindId"], arrow["routing"]) == ("", "", "straight")
    path = group(render_svg(content), "a").find(SVG + "path")
    assert path_points(path.get("d")) == [(0, 0), (10, 0)]


def test_hostile_schema_2_values_fall_back_and_stay_inert_in_svg():
    model = load_model()
    raw = {"type": "arrow", "x": 0, "y": 0, "points": [0, 0, 10, 0],
           "startBindId": "<script>", "endBindId": "x" * 65, "startAnchorX": 1e300,
           "endAnchorY": -5, "routing": "javascript:", "strokeStyle": "url(#x)",
           "label": "</text><script>alert(1)</script>", "frameId": "../..", "name": 7}
    element = normalize_element("evil", raw, model)
    assert (element["startBindId"], element["endBindId"], element["frameId"]) == ("", "", "")
    assert (element["startAnchorX"], element["endAnchorY"]) == (1, 0)
    assert (element["routing"], element["strokeStyle"]) == ("straight", "solid")
    frame = normalize_element("f", {"type": "frame", "name": "<b>" * 100}, model)
    assert len(frame["name"]) == 200 and frame["w"] == 400
    svg = render_svg(BoardContent(meta={}, elements=[frame, element]))
    root = ET.fromstring(svg.split("\n", 1)[1])
    assert not [n for n in root.iter() if n.tag.split("}")[-1] in ("script", "b", "foreignObject")]
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_svg_draws_labels_diamonds_stroke_styles_and_frames():
    svg = render_svg(through_crdt(every_v2_field_board()))
    box, dia, arrow = group(svg, "box1"), group(svg, "dia1"), group(svg, "arrow1")
    assert box.find(SVG + "rect").get("stroke-dasharray") == "8 6"  # dashed: 4w 3w, w = 2
    polygon = dia.find(SVG + "polygon")
    assert polygon.get("points") == "360,0 420,50 360,100 300,50"
    assert polygon.get("stroke-dasharray") == "0 4"  # dotted: round dots every 2w
    label = box.find(f"{SVG}text[@data-role='label']")
    spans = [span.text for span in label.findall(SVG + "tspan")]
    assert " ".join(spans) == "Start here, then go" and len(spans) > 1  # wrapped in the box
    assert label.get("text-anchor") == "start"  # align left, as stored
    assert dia.find(f"{SVG}text[@data-role='label']").get("text-anchor") == "middle"
    assert arrow.find(f"{SVG}text[@data-role='label']/{SVG}tspan").text == "yes"
    assert arrow.find(f"{SVG}path[@data-role='arrowhead-end']").get("stroke-dasharray") is None
    name = group(svg, "frame1").find(f"{SVG}text[@data-role='frame-name']")
    assert name.text == 'Slide <1> & "intro"'


def test_the_export_script_exports_one_frame_and_names_a_missing_one(tmp_path, capsys):
    source = tmp_path / "board.json"
    source.write_text(json.dumps(every_v2_field_board()))
    url = f"sqlite+aiosqlite:///{tmp_path}/boards.db"
    assert load_import_script().main([str(source), "--board", "diagram", "--db", url]) == 0
    out = tmp_path / "frame.svg"
    assert main(["--db", url, "--board", "diagram", "--format", "svg", "--frame", "frame1",
                 "--out", str(out)]) == 0
    root = ET.fromstring(out.read_text().split("\n", 1)[1])
    assert root.get("viewBox") == "-50 -50 700 400"
    assert {g.get("data-id") for g in root.iter(SVG + "g")} == {"frame1", "box1", "dia1",
                                                                "arrow1"}
    assert main(["--db", url, "--board", "diagram", "--format", "svg", "--frame", "nope",
                 "--out", str(tmp_path / "x.svg")]) == 1
    assert "no frame 'nope'" in capsys.readouterr().err
