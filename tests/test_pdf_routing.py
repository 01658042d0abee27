"""The PDF draws each bound connector along its route, not at its stored points (which the
browser leaves as they were when the arrow was drawn): its path is the route of
``backend/export/routing.py``, as the SVG's is (tests/test_export_svg_routing.py)."""

from __future__ import annotations

import io

from pycrdt import Array, Doc, Map
from pypdf import PdfReader

from backend.board_model import read_board
from backend.export.pdf import render_pdf
from backend.export.routing import route_points
from backend.export.svg import fit_view

STALE = [0.0, 0.0, 200.0, 100.0]
"""Where the arrow was drawn, before box b moved to the right of a."""


def _board():
    doc = Doc()
    with doc.transaction():
        doc.get("elements", type=Map).update({
            "a": Map({"type": "rect", "z": "a0", "x": 0, "y": 0, "w": 100, "h": 60}),
            "b": Map({"type": "rect", "z": "a1", "x": 400, "y": 0, "w": 100, "h": 60}),
            "arrow1": Map({"type": "arrow", "z": "a2", "x": 50, "y": 30, "w": 200, "h": 100,
                           "points": Array(STALE), "startBindId": "a", "endBindId": "b",
                           "startAnchorX": 0.5, "startAnchorY": 0.5, "endAnchorX": 0.5,
                           "endAnchorY": 0.5}),
        })
    content = read_board(doc)
    arrow = next(e for e in content.elements if e["id"] == "arrow1")
    by_id = {e["id"]: e for e in content.elements}
    return content, route_points(arrow, by_id.get)


def test_the_pdf_draws_a_bound_arrow_along_its_route():
    content, route = _board()
    assert [round(v) for v in route[0] + route[-1]] == [104, 30, 396, 30]  # outline + 4 gap
    view = fit_view(content, 32.0)
    pdf = render_pdf(content)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    ops = page.get_contents().get_data().decode("latin-1")
    height = float(page.mediabox.height)

    def moveto(x: float, y: float) -> str:
        return f"{x - view.x:.2f} {height - (y - view.y):.2f} m"

    assert moveto(*route[0]) in ops, ops
    assert moveto(50 + STALE[0], 30 + STALE[1]) not in ops  # not the stale start
