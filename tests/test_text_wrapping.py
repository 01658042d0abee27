"""Label and sticky-note line breaks (``backend/export/text.py``) against the shared fixtures
that the browser's ``render/textmetrics.js`` also passes (``frontend/test/wrapping.test.js``),
and the SVG and PDF exports drawing exactly those lines."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from fontTools.ttLib import TTFont
from pycrdt import Doc, Map, Text

from backend.board_model import BoardContent, read_board
from backend.export.pdf import render_pdf
from backend.export.svg import SvgOptions, label_box, render_svg
from backend.export.text import text_units, text_width, wrap_text
from tests.conftest import ROOT

FIXTURES = json.loads((ROOT / "shared" / "fixtures" / "wrapping.json").read_text("utf-8"))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_wrapping_fixture(case):
    assert wrap_text(case["text"], case["width"], case["fontSize"]) == case["lines"]


def test_widths_are_the_font_advances_summed_then_scaled_once():
    assert text_units("ab cd") == 5632  # 1255 + 1300 + 651 + 1126 + 1300 (DejaVu Sans)
    assert text_width("ab cd", 20) == 55
    assert text_units("\u6f22") == 2048  # not in the font: one em


def test_the_metrics_file_is_what_the_bundled_font_gives():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_font_metrics.py"),
                           "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _board(**fields) -> BoardContent:
    doc = Doc()
    with doc.transaction():
        doc.get("elements", type=Map).update({"r1": Map({
            "type": "rect", "z": "a0", "x": 10, "y": 20, "w": 170, "h": 120,
            **{k: Text(v) if k in ("label", "text") else v for k, v in fields.items()}})})
    return read_board(doc)


def _lines(svg: str, role: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    texts = [t for t in root.iter(f"{SVG}text") if t.get("data-role") == role]
    assert len(texts) == 1, svg
    return [span.text or "" for span in texts[0].iter(f"{SVG}tspan")]


LABEL = "WWW MMM WWW MMM illicit lilt little"
"""Breaks differently from the old estimate (0.55 em a character, 14 characters in the 154-unit
box): that gave "WWW MMM WWW | MMM illicit | lilt little"."""


def test_the_svg_label_breaks_where_the_metrics_say_and_embeds_the_font():
    board = _board(label=LABEL, fontSize=20, align="center")
    svg = render_svg(board)
    expected = wrap_text(LABEL, label_box(board.elements[0]).w, 20)
    assert expected == ["WWW MMM", "WWW MMM", "illicit lilt little"]
    assert _lines(svg, "label") == expected
    style = ET.fromstring(svg.encode("utf-8")).find(f"{SVG}style")
    assert "@font-face" in style.text and 'font-family:"DejaVu Sans"' in style.text
    font = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", style.text).group(1))
    cmap = TTFont(io.BytesIO(font)).getBestCmap()
    assert set(LABEL) - {" "} <= {chr(code) for code in cmap}  # the subset draws the label
    assert "font-kerning:none" in style.text


def test_the_png_rasteriser_gets_the_font_file_not_an_embedded_copy():
    svg = render_svg(_board(label=LABEL, fontSize=20), SvgOptions(embed_font=False))
    style = ET.fromstring(svg.encode("utf-8")).find(f"{SVG}style")
    assert "@font-face" not in style.text and "font-kerning:none" in style.text
    assert render_svg(_board()).find("<style>") == -1  # no text, no style


def test_the_pdf_label_is_wrapped_in_the_shape_like_the_svg():
    from pypdf import PdfReader
    pdf = render_pdf(_board(label=LABEL, fontSize=20, align="center"))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert [line.strip() for line in text.splitlines() if line.strip()] == \
        ["WWW MMM", "WWW MMM", "illicit lilt little"]
