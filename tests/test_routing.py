"""Connector routing in Python (backend/export/routing.py) against the shared fixtures that the
browser's render/routing.js is tested with (frontend/test/routing.test.js)."""

from __future__ import annotations

import json

import pytest

from backend.board_model import load_model, normalize_element
from backend.export.routing import (
    BIND_GAP,
    route_points,
    routed_elements,
    routed_geometry,
    with_routed_geometry,
)
from backend.resources import shared_file

FIXTURES = json.loads(shared_file("fixtures/routing.json").read_text(encoding="utf-8"))


def stored_points(arrow: dict) -> list[tuple[float, float]]:
    p = arrow["points"]
    return [(arrow["x"] + p[i], arrow["y"] + p[i + 1]) for i in range(0, len(p) - 1, 2)]


def test_the_bind_gap_is_the_one_the_fixtures_were_derived_with():
    assert FIXTURES["bindGap"] == BIND_GAP


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"][:60])
def test_routing_fixture(case):
    arrow, targets = case["arrow"], case["targets"]
    got = route_points(arrow, targets.get) or stored_points(arrow)
    assert len(got) == len(case["expected"]), got
    for (x, y), (ex, ey) in zip(got, case["expected"], strict=True):
        assert abs(x - ex) <= FIXTURES["tolerance"] and abs(y - ey) <= FIXTURES["tolerance"], got


def test_a_routed_element_is_redrawn_along_its_route_and_others_are_untouched():
    box = {"id": "A", "type": "rect", "x": 0, "y": 0, "w": 100, "h": 100, "angle": 0}
    arrow = {"id": "arrow", "type": "arrow", "x": 300, "y": 50, "angle": 0.3,
             "points": [0, 0, 100, 0], "routing": "straight", "startBindId": "A",
             "startAnchorX": 0.5, "startAnchorY": 0.5, "endBindId": "", "endAnchorX": 0.5,
             "endAnchorY": 0.5}
    out_box, out_arrow = routed_elements([box, arrow])
    assert out_box is box
    assert out_arrow["angle"] == 0 and out_arrow["id"] == "arrow"
    absolute = stored_points(out_arrow)
    assert absolute == route_points(arrow, {"A": box}.get)
    assert arrow["points"] == [0, 0, 100, 0]  # the input element is not changed


def test_routed_geometry_moves_a_stale_arrow_onto_its_route_and_leaves_a_routed_one_alone():
    case = FIXTURES["cases"][0]  # both ends bound to box centres: (104, 50) -> (296, 50)
    model = load_model()
    targets = {tid: normalize_element(tid, {**t, "z": "a0"}, model)
               for tid, t in case["targets"].items()}
    stale = normalize_element("arrow", {**case["arrow"], "angle": 0.5, "z": "b0"}, model)
    drawn = routed_geometry(stale, targets.get)
    geometry = [drawn["x"], drawn["y"], drawn["w"], drawn["h"], drawn["angle"], *drawn["points"]]
    assert geometry == pytest.approx([104, 50, 192, 0, 0, 0, 0, 192, 0])
    assert drawn["points"][:2] == [0, 0]  # x, y is the first routed point
    assert normalize_element("arrow", drawn, model) == drawn  # as an import reads it back
    assert drawn | {k: stale[k] for k in ("x", "y", "w", "h", "angle", "points")} == stale
    assert stale["points"] == [0, 0, 300, 0] and stale["angle"] == 0.5  # not changed
    # Already on its route (as an import of an export holds it), or not routed at all:
    # the same object, so export -> import -> export is identical.
    assert routed_geometry(drawn, targets.get) is drawn
    free = {**stale, "startBindId": "", "endBindId": ""}
    assert routed_geometry(free, targets.get) is free
    elements = [*targets.values(), stale]
    out = with_routed_geometry(elements)
    assert out[0] is elements[0] and out[1] is elements[1] and out[2] == drawn
