"""PDF export: vector pages drawn with fpdf2 from a ``BoardContent``.

Shapes and strokes are PDF paths, text is PDF text in an embedded DejaVu Sans subset (so it
can be selected, searched and copied), images are embedded as they are stored. One board unit
is one PDF point; a page larger than ``MAX_PAGE_PT`` on a side is scaled down to fit.

Pages: ``content`` (default) gives one page fitted to the content (or to ``region``);
``frames`` gives one page per frame element, in paint order, each showing what lies inside
the frame (a board without frames then gets the single fitted page). Geometry follows
backend/export/svg.py and shared/BOARD.md.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ..board_model import BoardContent
from ..resources import bundled_font
from .routing import routed_elements
from .svg import (
    LINE_HEIGHT,
    STICKY_PADDING,
    Box,
    element_bounds,
    element_frame,
    fit_view,
    label_box,
    polyline_middle,
)
from .text import text_width, wrap_text

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_MODES = ("content", "frames")
MAX_PAGE_PT = 14_400.0
"""The largest page side PDF readers take (200 inches)."""
FONT_PATHS = (bundled_font(), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
"""Where to find DejaVu Sans (the font text is broken into lines by, shipped in shared/fonts);
without it, the PDF core font Helvetica is used and characters outside Latin-1 become ``?``."""
_DASHES = {"dashed": (8.0, 6.0), "dotted": (1.0, 5.0)}
_PAINTERS = {"rect": "_rect", "ellipse": "_ellipse", "diamond": "_diamond", "frame": "_frame",
             "stroke": "_stroke_type", "line": "_line", "arrow": "_arrow", "text": "_text",
             "sticky": "_sticky", "image": "_image"}


def render_pdf(content: BoardContent, images: Mapping[str, tuple[str, bytes]] | None = None,
               region: tuple[float, float, float, float] | None = None,
               pages: str = "content", background: str | None = None,
               margin: float = 32.0) -> bytes:
    """The board as a PDF document. ``background``: a schema colour, ``transparent`` or None
    (the board's own)."""
    from fpdf import FPDF  # here, not at the top: fpdf2 and fontTools add a third to the
    # server's start-up imports, and only a PDF export needs them
    images = images or {}
    frames = [e for e in content.elements if e["type"] == "frame"] if pages == "frames" else []
    drawn = routed_elements(content.elements)  # bound connectors along their route, as in SVG
    views = [Box(f["x"], f["y"], max(f["w"], 1), max(f["h"], 1)) for f in frames] or \
        [Box(*region) if region else fit_view(content, margin, drawn)]
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("syncboard")
    pdf.set_title(str(content.meta.get("title") or "board"))
    font = _font(pdf)
    fill = background or content.meta.get("background", "#ffffff")
    for view in views:
        scale = min(1.0, MAX_PAGE_PT / max(view.w, view.h))
        pdf.add_page(format=(view.w * scale, view.h * scale))
        painter = _Painter(pdf, view, scale, font, images)
        if _rgb(fill) is not None:
            painter.background(fill)
        for element in drawn:
            if _overlaps(element_bounds(element), view):
                painter.element(element)
    return bytes(pdf.output())


def _font(pdf: FPDF) -> str:
    for path in FONT_PATHS:
        if path.is_file():
            pdf.add_font("DejaVu", "", str(path))
            return "DejaVu"
    return "Helvetica"


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _rgb(colour: str) -> tuple[int, int, int, float] | None:
    """``(r, g, b, alpha)`` of a schema colour, None for ``transparent`` or anything else."""
    if not isinstance(colour, str) or not colour.startswith("#"):
        return None
    digits = colour[1:]
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits)
    if len(digits) not in (6, 8):
        return None
    try:
        values = [int(digits[i:i + 2], 16) for i in range(0, len(digits), 2)]
    except ValueError:
        return None
    return values[0], values[1], values[2], values[3] / 255 if len(values) == 4 else 1.0


class _Painter:
    """Draws elements on the current page (board units -> page points)."""

    def __init__(self, pdf: FPDF, view: Box, scale: float, font: str,
                 images: Mapping[str, tuple[str, bytes]]) -> None:
        self.pdf, self.view, self.s, self.font, self.images = pdf, view, scale, font, images

    def x(self, value: float) -> float:
        return (value - self.view.x) * self.s

    def y(self, value: float) -> float:
        return (value - self.view.y) * self.s

    def background(self, colour: str) -> None:
        r, g, b, _ = _rgb(colour) or (255, 255, 255, 1.0)
        self.pdf.set_fill_color(r, g, b)
        self.pdf.rect(0, 0, self.view.w * self.s, self.view.h * self.s, style="F")

    def element(self, e: dict) -> None:
        frame = element_frame(e)
        cx, cy = self.x(frame.x + frame.w / 2), self.y(frame.y + frame.h / 2)
        with ExitStack() as scope:  # a graphics state only where one is needed (cheaper)
            if e["opacity"] < 1:
                scope.enter_context(self.pdf.local_context(fill_opacity=e["opacity"],
                                                           stroke_opacity=e["opacity"]))
            if e["angle"]:
                scope.enter_context(self.pdf.rotation(-math.degrees(e["angle"]), cx, cy))
            stroke = self._stroke(e)
            fill = self._fill(e["fill"]) if e["type"] in ("rect", "ellipse", "diamond",
                                                          "sticky") else False
            style = ("D" if stroke else "") + ("F" if fill else "")
            painter = _PAINTERS.get(e["type"])
            if painter is not None:  # a type without a PDF painter is left out, as in SVG
                getattr(self, painter)(e, style)

    def _stroke(self, e: dict) -> bool:
        colour = _rgb(e["stroke"])
        if colour is None or e["strokeWidth"] <= 0:
            return False
        self.pdf.set_draw_color(*colour[:3])
        self.pdf.set_line_width(e["strokeWidth"] * self.s)
        style = e.get("strokeStyle")
        dash, gap = _DASHES.get(style if isinstance(style, str) else "", (0.0, 0.0))
        self.pdf.set_dash_pattern(dash * self.s * e["strokeWidth"] / 2,
                                  gap * self.s * e["strokeWidth"] / 2)
        return True

    def _fill(self, colour: str) -> bool:
        rgb = _rgb(colour)
        if rgb is None:
            return False
        self.pdf.set_fill_color(*rgb[:3])
        return True

    def _box(self, e: dict) -> tuple[float, float, float, float]:
        return self.x(e["x"]), self.y(e["y"]), e["w"] * self.s, e["h"] * self.s

    def _rect(self, e: dict, style: str) -> None:
        if style:
            radius = min(8.0, e["w"] / 6, e["h"] / 6) * self.s
            self.pdf.rect(*self._box(e), style=style, round_corners=radius > 0,
                          corner_radius=radius)
        self._label(e)

    def _ellipse(self, e: dict, style: str) -> None:
        if style:
            self.pdf.ellipse(*self._box(e), style=style)
        self._label(e)

    def _diamond(self, e: dict, style: str) -> None:
        x, y, w, h = self._box(e)
        if style:
            self.pdf.polygon([(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h),
                              (x, y + h / 2)], style=style)
        self._label(e)

    def _frame(self, e: dict, style: str) -> None:
        x, y, w, h = self._box(e)
        self.pdf.set_draw_color(160, 160, 160)
        self.pdf.set_line_width(1 * self.s)
        self.pdf.rect(x, y, w, h, style="D")
        self._lines([e.get("name", "")], e["x"], e["y"] - 18, e["w"], 12, "left", "#666666")

    def _points(self, e: dict) -> list[tuple[float, float]]:
        p = e["points"]
        return [(self.x(e["x"] + p[i]), self.y(e["y"] + p[i + 1]))
                for i in range(0, len(p) - 1, 2)]

    def _stroke_type(self, e: dict, style: str) -> None:
        pts = self._points(e)
        if not style:
            return
        if len(pts) == 1:
            r = e["strokeWidth"] * self.s / 2
            self._fill(e["stroke"])
            self.pdf.ellipse(pts[0][0] - r, pts[0][1] - r, 2 * r, 2 * r, style="F")
            return
        self.pdf.polyline(pts, style="D")

    def _line(self, e: dict, style: str) -> None:
        pts = self._points(e)
        if style and len(pts) >= 2:
            self.pdf.polyline(pts, style="D")
        self._label(e)

    def _arrow(self, e: dict, style: str) -> None:
        pts = self._points(e)
        if style and len(pts) >= 2:
            self.pdf.polyline(pts, style="D")
            self.pdf.set_dash_pattern(0, 0)
            size = max(10.0, e["strokeWidth"] * 4) * self.s
            ends = ([(pts[-2], pts[-1])] if e.get("arrowEnd") else []) + \
                ([(pts[1], pts[0])] if e.get("arrowStart") else [])
            for (fx, fy), (tx, ty) in ends:
                angle, spread = math.atan2(ty - fy, tx - fx), math.pi / 7
                self.pdf.polyline([(tx - size * math.cos(angle - spread),
                                    ty - size * math.sin(angle - spread)), (tx, ty),
                                   (tx - size * math.cos(angle + spread),
                                    ty - size * math.sin(angle + spread))], style="D")
        self._label(e)

    def _text(self, e: dict, _style: str) -> None:
        self._lines(wrap_text(e["text"], 0, e["fontSize"]), e["x"], e["y"], e["w"],
                    e["fontSize"], e["align"], e["stroke"])

    def _sticky(self, e: dict, style: str) -> None:
        if "F" in style:
            self.pdf.rect(*self._box(e), style="F")
        inner = max(0.0, e["w"] - 2 * STICKY_PADDING)
        lines = wrap_text(e["text"], inner, e["fontSize"]) if inner > 0 else []
        room = max(0.0, e["h"] - 2 * STICKY_PADDING)
        fitting = max(0, int(room // (e["fontSize"] * LINE_HEIGHT)))
        self._lines(lines[:fitting], e["x"] + STICKY_PADDING, e["y"] + STICKY_PADDING, inner,
                    e["fontSize"], e["align"], e["stroke"])

    def _image(self, e: dict, _style: str) -> None:
        found = self.images.get(e.get("fileId", ""))
        x, y, w, h = self._box(e)
        if found is not None and w > 0 and h > 0:
            self.pdf.image(io.BytesIO(found[1]), x, y, w, h)
            return
        self.pdf.set_draw_color(136, 136, 136)
        self.pdf.set_dash_pattern(6 * self.s, 6 * self.s)
        self.pdf.rect(x, y, w, h, style="D")
        self.pdf.set_dash_pattern(0, 0)

    def _label(self, e: dict) -> None:
        label = e.get("label")
        if not isinstance(label, str) or not label:
            return
        size = e["fontSize"]
        if e["type"] in ("line", "arrow"):  # one line per paragraph, centred on the middle
            lines = wrap_text(label, 0, size)
            p = e["points"]
            cx, cy = polyline_middle([(e["x"] + p[i], e["y"] + p[i + 1])
                                      for i in range(0, len(p) - 1, 2)])
            width = max(text_width(line, size) for line in lines)
            top = cy - len(lines) * size * LINE_HEIGHT / 2
            self._lines(lines, cx - width / 2, top, width, size, "center", e["stroke"])
            return
        box = label_box(e)  # wrapped in the shape as the SVG and the browser do
        lines = wrap_text(label, box.w, size) if box.w > 0 else []
        top = e["y"] + e["h"] / 2 - len(lines) * size * LINE_HEIGHT / 2
        self._lines(lines, box.x, top, box.w, size, e["align"], e["stroke"])

    def _lines(self, lines: list[str], x: float, y: float, width: float, size: float,
               align: str, colour: str) -> None:
        rgb = _rgb(colour)
        if not any(lines) or rgb is None:
            return
        self.pdf.set_text_color(*rgb[:3])
        self.pdf.set_font(self.font, size=size * self.s)
        for index, line in enumerate(lines):
            if self.font == "Helvetica":
                line = line.encode("latin-1", "replace").decode("latin-1")
            advance = self.pdf.get_string_width(line)
            left = self.x(x)
            if align == "center":
                left += (width * self.s - advance) / 2
            elif align == "right":
                left += width * self.s - advance
            baseline = self.y(y + index * size * LINE_HEIGHT) + size * self.s * 0.95
            self.pdf.text(left, baseline, line)
