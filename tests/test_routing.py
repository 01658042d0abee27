"""Connector routing in Python (backend/export/routing.py) against the shared fixtures that the
browser's render/routing.js is tested with (frontend/test/routing.test.js)."""

from __future__ import annotations

import json

import pytest

from backend.export.routing import BIND_GAP, route_points, routed_elements
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
