"""SVG export: framing, background, and every document string inert (checked by parsing)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from pycrdt import Array, Doc, Map, Text

from backend.board_model import read_board
from backend.export import ExportError, ExportOptions, export_board, parse_background
from backend.export.svg import SvgOptions, render_svg
from backend.export.text import text_width, wrap_text

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><script>alert(1)</script><svg onload="alert(2)'


def doc_with(elements: dict, meta: dict | None = None) -> Doc:
    doc = Doc()
    with doc.transaction():
        doc.get("meta", type=Map).update(meta or {})
        doc.get("elements", type=Map).update(elements)
    return doc


def parse(svg: str | bytes) -> ET.Element:
    return ET.fromstring(svg.encode() if isinstance(svg, str) else svg)


def all_attribute_values(root: ET.Element) -> list[str]:
    return [value for node in root.iter() for value in node.attrib.values()]


def test_hostile_strings_come_out_as_text_never_as_markup():
    doc = doc_with({
        "t": Map({"type": "sticky", "z": "a0", "x": 0, "y": 0, "w": 400, "h": 400,
                  "text": Text(HOSTILE), "fill": HOSTILE, "stroke": "red\" onload=\"x"}),
        "r": Map({"type": "rect", "z": "a1", "w": 10, "h": 10, "fill": "url(#x)",
                  "stroke": "#12345g", HOSTILE: HOSTILE, "createdBy": HOSTILE}),
        "i": Map({"type": "image", "z": "a2", "w": 10, "h": 10,
                  "fileId": "javascript:alert(1)"}),
    }, meta={"title": HOSTILE, "background": "</svg><script>"})
    root = parse(export_board(read_board(doc), "svg"))
    tags = {node.tag for node in root.iter()}
    assert tags <= {SVG + t for t in ("svg", "title", "rect", "g", "text", "tspan", "clipPath",
                                      "style")}
    assert root.find(SVG + "title").text == HOSTILE
    text = "".join(s.text or "" for s in root.iter(SVG + "tspan"))
    assert text.replace(" ", "") == HOSTILE.replace(" ", "")
    for value in all_attribute_values(root):
        assert "<" not in value and "script" not in value and "alert" not in value, value
    assert not any(name.startswith("on") for node in root.iter() for name in node.attrib)
    sticky = root.find(f"{SVG}g[@data-id='t']/{SVG}rect")
    assert sticky.get("fill") == "#fff3a3"  # bad colour -> the schema default


def test_control_characters_do_not_break_the_xml():
    doc = doc_with({"t": Map({"type": "text", "z": "a0", "text": Text("a\x00b\x1fc\x0bd")})})
    root = parse(export_board(read_board(doc), "svg"))
    assert [s.text for s in root.iter(SVG + "tspan")] == ["abcd"]


def test_a_document_full_of_garbage_still_exports():
    doc = doc_with({
        "a": Map({"type": "arrow", "points": Array([0.0]), "arrowEnd": "yes"}),
        "b": Map({"type": "ellipse", "w": "wide", "angle": float("inf"), "opacity": -1}),
        "c": Map({"type": 7}), "d": "not a map", "e": Map({}),
        "f": Map({"type": "text", "text": 12, "fontSize": 10_000, "align": "justify"}),
        "g": Map({"type": "image", "fileId": "0" * 64, "w": 20, "h": 20}),
    }, meta={"background": 12})
    content = read_board(doc)
    assert [e["id"] for e in content.elements] == ["b", "f", "g"] and content.skipped == 4
    root = parse(export_board(content, "svg"))
    assert root.find(f"{SVG}rect[@data-role='background']").get("fill") == "#ffffff"
    ellipse = root.find(f"{SVG}g[@data-id='b']")
    assert ellipse.get("transform") is None and ellipse.get("opacity") == "0"
    assert root.find(f"{SVG}g[@data-id='g']/{SVG}rect").get("data-role") == "missing-image"
    with pytest.raises(ExportError, match="PNG: use export_file"):
        export_board(content, "png")  # rasterising happens in a worker (test_export_png)


def test_view_box_fits_the_content_with_a_margin_or_takes_the_region():
    doc = doc_with({"r": Map({"type": "rect", "x": 100, "y": 50, "w": 200, "h": 100,
                              "strokeWidth": 0, "z": "a0"})})
    content = read_board(doc)
    root = parse(render_svg(content, SvgOptions(margin=10)))
    # Stroke width 0 still pads by 1 unit for antialiasing.
    assert root.get("viewBox") == "89 39 222 122"
    assert (root.get("width"), root.get("height")) == ("222", "122")
    region = parse(render_svg(content, SvgOptions(region=(0, 0, 50, 25))))
    assert region.get("viewBox") == "0 0 50 25" and region.get("width") == "50"
    empty = parse(render_svg(read_board(Doc()), SvgOptions(margin=5)))
    assert empty.get("viewBox") == "-5 -5 10 10"


def test_background_option_overrides_the_board_and_transparent_drops_it():
    content = read_board(doc_with({}, meta={"background": "#112233"}))
    assert parse(export_board(content, "svg")).find(SVG + "rect").get("fill") == "#112233"
    other = parse(export_board(content, "svg", ExportOptions(background="#abc")))
    assert other.find(SVG + "rect").get("fill") == "#aabbcc"
    clear = parse(export_board(content, "svg", ExportOptions(background="transparent")))
    assert clear.find(SVG + "rect") is None
    half = parse(export_board(content, "svg", ExportOptions(background="#ff000080")))
    assert half.find(SVG + "rect").get("fill-opacity") == "0.502"
    assert parse_background("transparent") == "transparent"


def test_rotation_is_about_the_frame_centre_in_degrees():
    doc = doc_with({"r": Map({"type": "rect", "x": 0, "y": 0, "w": 100, "h": 50,
                              "angle": 3.141592653589793 / 2, "z": "a0"})})
    group = parse(export_board(read_board(doc), "svg")).find(SVG + "g")
    assert group.get("transform") == "rotate(90 50 25)"


def test_sticky_text_wraps_to_its_width_and_drops_lines_that_do_not_fit():
    assert wrap_text("one two three", 0, 20) == ["one two three"]
    assert wrap_text("aaaa bbbb", text_width("bbbb", 10) + 0.1, 10) == ["aaaa", "bbbb"]
    assert wrap_text("abcdefgh", text_width("abcd", 10) + 0.1, 10) == ["abcd", "efgh"]
    doc = doc_with({"s": Map({"type": "sticky", "w": 100, "h": 60, "fontSize": 10, "z": "a0",
                              "text": Text("word " * 40)})})
    spans = list(parse(export_board(read_board(doc), "svg")).iter(SVG + "tspan"))
    # (60 - 2 * 14 padding) / (10 * 1.25 line height) = 2 lines fit.
    assert len(spans) == 2


def test_open_comment_threads_are_drawn_as_pins_only_with_the_comments_option():
    doc = doc_with({"r1": Map({"type": "rect", "x": 100, "y": 100, "w": 200, "h": 100,
                               "angle": 3.141592653589793, "z": "a0"})})
    with doc.transaction():
        threads = doc.get("comments", type=Map)
        threads["t1"] = Map({"elementId": "r1", "anchorX": 0.25, "anchorY": 0.75, "x": 0,
                             "createdAt": 1, "messages": Array([
                                 Map({"author": "Ann", "text": Text("<script>x</script>")})])})
        threads["t2"] = Map({"x": 40, "y": 50, "createdAt": 2, "messages": Array()})
        threads["t3"] = Map({"x": 9, "y": 9, "resolved": True, "messages": Array()})
    board = read_board(doc)
    assert parse(render_svg(board)).findall(".//{*}g[@data-role='comment']") == []
    svg = render_svg(board, SvgOptions(comments=True))
    assert "<script>" not in svg
    pins = parse(svg).findall(".//{*}g[@data-role='comment']")
    assert [pin.get("data-id") for pin in pins] == ["t1", "t2"]
    on_element, on_board = (pin.find("{*}path").get("d").split(" l")[0] for pin in pins)
    assert on_element == "M250 125"  # the anchor (150, 175), turned half a turn with the rect
    assert on_board == "M40 50"
    assert pins[0].find("{*}title").text == "Ann: <script>x</script>"
    assert [pin.find("{*}text").text for pin in pins] == ["1", "0"]
    assert b"data-role=\"comment\"" in export_board(board, "svg", ExportOptions(comments=True))
