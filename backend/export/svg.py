"""SVG export: one standalone SVG document drawn from a ``BoardContent``.

Built with ``xml.etree.ElementTree``, so every string from the document reaches the output as
escaped character data or attribute text, never as markup. Colours were already checked
against the schema's strict pattern by ``board_model``; they are converted once more here to
``#rrggbb`` plus an opacity, and anything unexpected becomes ``none``. Geometry follows the
browser painters (frontend/src/render/shapes.js) and shared/BOARD.md; connectors are drawn
along their route (``routing.py``, the browser's ``render/routing.js``). Text is broken into
lines by the bundled font's advance widths (``text.py``, the browser's
``render/textmetrics.js``) and drawn in that font, embedded as a subset (``fontembed.py``).
"""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from ..board_model import BoardContent
from .fontembed import FONT_FAMILY as EMBEDDED_FAMILY
from .fontembed import font_face_css
from .routing import routed_elements
from .text import text_width, wrap_text

SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = f"{EMBEDDED_FAMILY}, sans-serif"
TEXT_STYLE = "text{font-kerning:none;font-variant-ligatures:none}"
"""Neither the browser nor the line breaking applies kerning or ligatures."""
IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
STICKY_PADDING = 14
LINE_HEIGHT = 1.25
LABEL_TYPES = frozenset({"rect", "ellipse", "diamond", "line", "arrow"})
LABEL_PADDING = 8
"""Inset of a shape label's box; on a line or arrow, the padding of its background plate."""
FRAME_STROKE_WIDTH = 1
FRAME_NAME_SIZE = 14
FRAME_NAME_GAP = 6
FRAME_NAME_COLOR = "#868e96"

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_HEX = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


@dataclass(frozen=True)
class SvgOptions:
    """How to frame and paint the export.

    ``background``: a schema colour, ``transparent``, or None for the board's own background.
    ``region``: ``(x, y, w, h)`` in board units, or None to fit the content plus ``margin``.
    ``comments``: draw a pin for each open comment thread (issue 20) on top.
    ``embed_font``: carry the subset of the bundled font the text needs (off for the PNG
    rasteriser, which is given the font file itself).
    """

    background: str | None = None
    region: tuple[float, float, float, float] | None = None
    margin: float = 32.0
    comments: bool = False
    embed_font: bool = True


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in board units."""

    x: float
    y: float
    w: float
    h: float


def render_svg(board: BoardContent, options: SvgOptions = SvgOptions(),
               images: Mapping[str, tuple[str, bytes]] | None = None) -> str:
    """The board as an SVG document (UTF-8 text with an XML declaration)."""
    images = images or {}
    drawn = routed_elements(board.elements)  # once: for the view and for drawing
    view = Box(*options.region) if options.region else fit_view(board, options.margin, drawn)
    root = ET.Element("svg", {
        "xmlns": SVG_NS, "version": "1.1",
        "width": _num(view.w), "height": _num(view.h),
        "viewBox": " ".join(_num(v) for v in (view.x, view.y, view.w, view.h)),
    })
    background = options.background or board.meta.get("background", "transparent")
    paint, alpha = _paint(background)
    if paint != "none":
        ET.SubElement(root, "rect", {"data-role": "background", "x": _num(view.x),
                                     "y": _num(view.y), "width": _num(view.w),
                                     "height": _num(view.h), "fill": paint,
                                     **_alpha("fill-opacity", alpha)})
    title = board.meta.get("title")
    if title:
        ET.SubElement(root, "title").text = _xml_safe(title)
    for element in drawn:
        draw = _DRAW.get(element["type"])
        if draw is None:  # a schema type this exporter does not draw is left out
            continue
        group = _group(root, element)
        draw(group, element, images)
        if element.get("label") and element["type"] in LABEL_TYPES:
            _draw_label(group, element, background)
    if options.comments:
        _draw_comment_pins(root, board)
    _add_font_style(root, options.embed_font)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def element_frame(element: dict) -> Box:
    """The unrotated frame of an element (point types: the box of their points)."""
    if element["type"] in ("stroke", "line", "arrow"):
        xs, ys = element["points"][0::2], element["points"][1::2]
        return Box(element["x"] + min(xs), element["y"] + min(ys), max(xs) - min(xs),
                   max(ys) - min(ys))
    return Box(element["x"], element["y"], element["w"], element["h"])


def element_bounds(element: dict) -> Box:
    """The rotated frame's bounding box, padded for stroke width and arrowheads."""
    frame = element_frame(element)
    if element["type"] == "text":
        frame = _with_text_extent(frame, element)
    pad = element["strokeWidth"] / 2 + 1
    if element["type"] == "arrow":
        pad += max(10.0, element["strokeWidth"] * 4)
    cos, sin = abs(math.cos(element["angle"])), abs(math.sin(element["angle"]))
    half_w = (frame.w * cos + frame.h * sin) / 2 + pad
    half_h = (frame.w * sin + frame.h * cos) / 2 + pad
    cx, cy = frame.x + frame.w / 2, frame.y + frame.h / 2
    return Box(cx - half_w, cy - half_h, 2 * half_w, 2 * half_h)


def fit_view(board: BoardContent, margin: float, drawn: list[dict] | None = None) -> Box:
    """The content's bounding box plus ``margin`` on each side (a small square when empty).
    ``drawn``: the board's elements as ``routed_elements`` gives them, when the caller has
    them already (the board is then routed once)."""
    if not board.elements:
        return Box(-margin, -margin, 2 * margin, 2 * margin)
    boxes = [element_bounds(e) for e in
             (routed_elements(board.elements) if drawn is None else drawn)]
    x0 = min(b.x for b in boxes) - margin
    y0 = min(b.y for b in boxes) - margin
    x1 = max(b.x + b.w for b in boxes) + margin
    y1 = max(b.y + b.h for b in boxes) + margin
    return Box(x0, y0, x1 - x0, y1 - y0)


def _add_font_style(root: ET.Element, embed_font: bool) -> None:
    """A ``<style>`` first in the document when it draws any text: no kerning, and the
    bundled font's subset for the characters drawn when ``embed_font``."""
    chars = {char for node in root.iter() if node.tag in ("text", "tspan")
             for char in node.text or ""}
    if not chars:
        return
    css = TEXT_STYLE
    if embed_font:
        css = font_face_css("".join(sorted(chars))) + css
    style = ET.Element("style")
    style.text = css
    root.insert(0, style)


def _with_text_extent(frame: Box, element: dict) -> Box:
    """A text element's frame grown to its text's size (its w, h may be 0)."""
    lines = wrap_text(element["text"], 0, element["fontSize"])
    width = max(text_width(line, element["fontSize"]) for line in lines)
    height = len(lines) * element["fontSize"] * LINE_HEIGHT
    return Box(frame.x, frame.y, max(frame.w, width), max(frame.h, height))


def _group(root: ET.Element, element: dict) -> ET.Element:
    attrs = {"data-id": element["id"], "data-type": element["type"]}
    if element["opacity"] < 1:
        attrs["opacity"] = _num(element["opacity"])
    if element["angle"]:
        frame = element_frame(element)
        attrs["transform"] = (f"rotate({_num(math.degrees(element['angle']))} "
                              f"{_num(frame.x + frame.w / 2)} {_num(frame.y + frame.h / 2)})")
    return ET.SubElement(root, "g", attrs)


def _stroke_attrs(element: dict, dashes: bool = True) -> dict[str, str]:
    paint, alpha = _paint(element["stroke"])
    if paint == "none" or element["strokeWidth"] <= 0:
        return {"stroke": "none"}
    attrs = {"stroke": paint, "stroke-width": _num(element["strokeWidth"]),
             "stroke-linecap": "round", "stroke-linejoin": "round",
             **_alpha("stroke-opacity", alpha)}
    pattern = dash_pattern(element.get("strokeStyle", "solid"), element["strokeWidth"])
    if dashes and pattern:
        attrs["stroke-dasharray"] = " ".join(_num(v) for v in pattern)
    return attrs


def dash_pattern(style: str, stroke_width: float) -> tuple[float, float] | None:
    """The dash and gap lengths of a ``strokeStyle`` (shared/board.schema.json), None if solid."""
    width = max(1.0, stroke_width)
    if style == "dashed":
        return (4 * width, 3 * width)
    if style == "dotted":
        return (0.0, 2 * width)
    return None


def _fill_attrs(color: str) -> dict[str, str]:
    paint, alpha = _paint(color)
    return {"fill": paint, **_alpha("fill-opacity", alpha)}


def _draw_rect(group: ET.Element, e: dict, _images: Mapping) -> None:
    radius = min(8.0, e["w"] / 6, e["h"] / 6)
    ET.SubElement(group, "rect", {"x": _num(e["x"]), "y": _num(e["y"]), "width": _num(e["w"]),
                                  "height": _num(e["h"]), "rx": _num(radius),
                                  **_fill_attrs(e["fill"]), **_stroke_attrs(e)})


def _draw_ellipse(group: ET.Element, e: dict, _images: Mapping) -> None:
    ET.SubElement(group, "ellipse", {"cx": _num(e["x"] + e["w"] / 2),
                                     "cy": _num(e["y"] + e["h"] / 2),
                                     "rx": _num(e["w"] / 2), "ry": _num(e["h"] / 2),
                                     **_fill_attrs(e["fill"]), **_stroke_attrs(e)})


def _draw_stroke(group: ET.Element, e: dict, _images: Mapping) -> None:
    pts = _absolute(e)
    if len(pts) == 1:
        ET.SubElement(group, "circle", {"cx": _num(pts[0][0]), "cy": _num(pts[0][1]),
                                        "r": _num(e["strokeWidth"] / 2),
                                        **_fill_attrs(e["stroke"])})
        return
    ET.SubElement(group, "path", {"d": _smooth_path(pts), "fill": "none", **_stroke_attrs(e)})


def _draw_line(group: ET.Element, e: dict, _images: Mapping) -> None:
    pts = _absolute(e)
    ET.SubElement(group, "path", {"d": _polyline(pts), "fill": "none", **_stroke_attrs(e)})


def _draw_arrow(group: ET.Element, e: dict, images: Mapping) -> None:
    _draw_line(group, e, images)
    pts = _absolute(e)
    if len(pts) < 2:
        return
    size = max(10.0, e["strokeWidth"] * 4)
    heads = []
    if e["arrowEnd"]:
        heads.append(("end", pts[-2], pts[-1]))
    if e["arrowStart"]:
        heads.append(("start", pts[1], pts[0]))
    for role, (fx, fy), (tx, ty) in heads:
        angle = math.atan2(ty - fy, tx - fx)
        spread = math.pi / 7
        head = [(tx - size * math.cos(angle - spread), ty - size * math.sin(angle - spread)),
                (tx, ty),
                (tx - size * math.cos(angle + spread), ty - size * math.sin(angle + spread))]
        ET.SubElement(group, "path", {"data-role": f"arrowhead-{role}", "d": _polyline(head),
                                      "fill": "none", **_stroke_attrs(e, dashes=False)})


def _draw_diamond(group: ET.Element, e: dict, _images: Mapping) -> None:
    x, y, w, h = e["x"], e["y"], e["w"], e["h"]
    corners = [(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)]
    ET.SubElement(group, "polygon", {"points": " ".join(f"{_num(a)},{_num(b)}" for a, b in corners),
                                     **_fill_attrs(e["fill"]), **_stroke_attrs(e)})


def _draw_frame(group: ET.Element, e: dict, _images: Mapping) -> None:
    ET.SubElement(group, "rect", {"x": _num(e["x"]), "y": _num(e["y"]), "width": _num(e["w"]),
                                  "height": _num(e["h"]), **_fill_attrs(e["fill"]),
                                  **_stroke_attrs({**e, "strokeWidth": FRAME_STROKE_WIDTH})})
    if e["name"]:
        title = ET.SubElement(group, "text", {
            "data-role": "frame-name", "x": _num(e["x"]), "y": _num(e["y"] - FRAME_NAME_GAP),
            "font-family": FONT_FAMILY, "font-size": _num(FRAME_NAME_SIZE),
            **_fill_attrs(FRAME_NAME_COLOR)})
        title.text = _xml_safe(e["name"])


def _draw_text(group: ET.Element, e: dict, _images: Mapping) -> None:
    _text_block(group, e, wrap_text(e["text"], 0, e["fontSize"]), e["x"], e["y"], e["w"])


def _draw_sticky(group: ET.Element, e: dict, _images: Mapping) -> None:
    box = {"x": _num(e["x"]), "y": _num(e["y"]), "width": _num(e["w"]), "height": _num(e["h"])}
    ET.SubElement(group, "rect", {**box, **_fill_attrs(e["fill"])})
    # The note clips its text as the browser does.
    # Element ids match [A-Za-z0-9_-]+, so the clip id is a safe XML id.
    clip = ET.SubElement(group, "clipPath", {"id": f"clip-{e['id']}"})
    ET.SubElement(clip, "rect", box)
    group.set("clip-path", f"url(#clip-{e['id']})")
    inner_w = max(0.0, e["w"] - 2 * STICKY_PADDING)
    room = max(0.0, e["h"] - 2 * STICKY_PADDING)
    lines = wrap_text(e["text"], inner_w, e["fontSize"]) if inner_w > 0 else []
    fitting = max(0, int(room // (e["fontSize"] * LINE_HEIGHT)))
    _text_block(group, e, lines[:fitting], e["x"] + STICKY_PADDING, e["y"] + STICKY_PADDING,
                inner_w)


def _draw_image(group: ET.Element, e: dict, images: Mapping[str, tuple[str, bytes]]) -> None:
    found = images.get(e["fileId"]) if e["fileId"] else None
    box = {"x": _num(e["x"]), "y": _num(e["y"]), "width": _num(e["w"]), "height": _num(e["h"])}
    if found is None or found[0] not in IMAGE_MIME_TYPES:
        ET.SubElement(group, "rect", {**box, "data-role": "missing-image", "fill": "#808080",
                                      "fill-opacity": "0.15", "stroke": "#888888",
                                      "stroke-dasharray": "6 6"})
        return
    mime, data = found
    href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    ET.SubElement(group, "image", {**box, "href": href, "preserveAspectRatio": "none"})


_DRAW = {"rect": _draw_rect, "ellipse": _draw_ellipse, "stroke": _draw_stroke,
         "line": _draw_line, "arrow": _draw_arrow, "text": _draw_text, "sticky": _draw_sticky,
         "image": _draw_image, "diamond": _draw_diamond, "frame": _draw_frame}


def comment_pin(thread: dict, elements: Mapping[str, dict]) -> tuple[float, float]:
    """Where a thread's pin is (as the browser places it, frontend/src/doc/comments.js): on its
    element's anchor, turned with the element, or at its own point when it has none."""
    element = elements.get(thread["elementId"]) if thread["elementId"] else None
    if element is None:
        return thread["x"], thread["y"]
    f = element_frame(element)
    px, py = f.x + thread["anchorX"] * f.w, f.y + thread["anchorY"] * f.h
    cx, cy, angle = f.x + f.w / 2, f.y + f.h / 2, element["angle"]
    cos, sin = math.cos(angle), math.sin(angle)
    return cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos


def _draw_comment_pins(root: ET.Element, board: BoardContent) -> None:
    """A numbered pin (messages not deleted) per open thread, its text as a tooltip."""
    by_id = {element["id"]: element for element in board.elements}
    for thread in board.comments:
        if thread["resolved"]:
            continue
        x, y = comment_pin(thread, by_id)
        live = [m for m in thread["messages"] if not m["deleted"]]
        group = ET.SubElement(root, "g", {"data-role": "comment", "data-id": thread["id"]})
        if live:
            ET.SubElement(group, "title").text = _xml_safe(
                f"{live[0]['author']}: {live[0]['text']}"[:500])
        ET.SubElement(group, "path", {
            "d": f"M{_num(x)} {_num(y)} l0 -12 a12 12 0 1 1 12 12 z",
            "fill": "#4f6df5", "stroke": "#ffffff", "stroke-width": "2"})
        label = ET.SubElement(group, "text", {
            "x": _num(x + 12), "y": _num(y - 8), "font-family": FONT_FAMILY, "font-size": "12",
            "font-weight": "700", "fill": "#ffffff", "text-anchor": "middle"})
        label.text = str(len(live))


def _text_block(group: ET.Element, e: dict, lines: list[str], x: float, y: float,
                width: float, role: str = "text") -> None:
    if not lines or not any(lines):
        return
    anchor = {"left": "start", "center": "middle", "right": "end"}[e["align"]]
    ax = x + width / 2 if e["align"] == "center" else x + width if e["align"] == "right" else x
    text = ET.SubElement(group, "text", {"data-role": role,
        "x": _num(ax), "y": _num(y), "font-family": FONT_FAMILY,
        "font-size": _num(e["fontSize"]), "text-anchor": anchor,
        "dominant-baseline": "text-before-edge", _XML_SPACE: "preserve",
        **_fill_attrs(e["stroke"])})
    step = e["fontSize"] * LINE_HEIGHT
    for index, line in enumerate(lines):
        span = ET.SubElement(text, "tspan", {"x": _num(ax), "y": _num(y + index * step)})
        span.text = _xml_safe(line)


def _absolute(e: dict) -> list[tuple[float, float]]:
    p = e["points"]
    return [(e["x"] + p[i], e["y"] + p[i + 1]) for i in range(0, len(p) - 1, 2)]


def _smooth_path(pts: list[tuple[float, float]]) -> str:
    """Quadratic curves through the midpoints of consecutive points (as the browser draws)."""
    parts = [f"M{_num(pts[0][0])} {_num(pts[0][1])}"]
    for (cx, cy), (nx, ny) in pairwise(pts[1:]):
        parts.append(f"Q{_num(cx)} {_num(cy)} {_num((cx + nx) / 2)} {_num((cy + ny) / 2)}")
    parts.append(f"L{_num(pts[-1][0])} {_num(pts[-1][1])}")
    return "".join(parts)


def _polyline(pts: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in pts)


def _paint(color: str) -> tuple[str, float]:
    """``#rrggbb`` and an alpha from a schema colour; ``("none", 0)`` for anything else."""
    match = _HEX.fullmatch(color) if isinstance(color, str) else None
    if match is None:
        return "none", 0.0
    digits = match.group(1)
    if len(digits) <= 4:
        digits = "".join(d * 2 for d in digits)
    alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
    return "#" + digits[:6].lower(), alpha


def _alpha(attribute: str, alpha: float) -> dict[str, str]:
    return {attribute: _num(alpha)} if alpha < 1 else {}


def _num(value: float) -> str:
    """A compact decimal for SVG (3 decimals, no exponent)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot hold (ElementTree would write them unescaped)."""
    return _XML_INVALID.sub("", text)


def label_box(e: dict) -> Box:
    """The box a shape's label is wrapped in (shared/BOARD.md, "Labels"): the frame inset by
    LABEL_PADDING, shrunk to the inscribed box of an ellipse (1/sqrt 2) or a diamond (1/2)."""
    scale = {"ellipse": math.sqrt(0.5), "diamond": 0.5}.get(e["type"], 1.0)
    w = max(0.0, e["w"] * scale - 2 * LABEL_PADDING)
    h = max(0.0, e["h"] * scale - 2 * LABEL_PADDING)
    return Box(e["x"] + (e["w"] - w) / 2, e["y"] + (e["h"] - h) / 2, w, h)


def polyline_middle(pts: list[tuple[float, float]]) -> tuple[float, float]:
    """The point halfway along a polyline (where a line's or arrow's label sits)."""
    lengths = [math.dist(a, b) for a, b in pairwise(pts)]
    left = sum(lengths) / 2
    for (a, b), length in zip(pairwise(pts), lengths, strict=True):
        if left <= length and length > 0:
            k = left / length
            return (a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k)
        left -= length
    return pts[-1]


def _draw_label(group: ET.Element, e: dict, background: str) -> None:
    step = e["fontSize"] * LINE_HEIGHT
    if e["type"] in ("line", "arrow"):
        lines = wrap_text(e["label"], 0, e["fontSize"])
        cx, cy = polyline_middle(_absolute(e))
        width = max(text_width(line, e["fontSize"]) for line in lines)
        top = cy - len(lines) * step / 2
        paint, alpha = _paint(background)
        if paint != "none":
            ET.SubElement(group, "rect", {
                "data-role": "label-plate", "x": _num(cx - width / 2 - LABEL_PADDING / 2),
                "y": _num(top - LABEL_PADDING / 2), "width": _num(width + LABEL_PADDING),
                "height": _num(len(lines) * step + LABEL_PADDING), "fill": paint,
                **_alpha("fill-opacity", alpha)})
        _text_block(group, {**e, "align": "center"}, lines, cx - width / 2, top, width,
                    role="label")
        return
    box = label_box(e)
    lines = wrap_text(e["label"], box.w, e["fontSize"]) if box.w > 0 else []
    top = e["y"] + e["h"] / 2 - len(lines) * step / 2
    _text_block(group, e, lines, box.x, top, box.w, role="label")
