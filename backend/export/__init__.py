"""Board export: one exporter (JSON, SVG, PNG) shared by the HTTP handlers and the scripts.

``export_board(content, fmt, options, images)`` turns a ``BoardContent`` (see
``backend.board_model``) into bytes; ``read_stored_board`` reads a board straight from a
``Store`` (the server may be stopped); ``load_images`` fetches the image bytes an SVG/PNG
export embeds. ``python -m backend.export`` is the command-line exporter
(``scripts/export_board.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..board_model import BoardContent, load_model, read_board
from ..document import BoardDocument
from ..store import Store
from .json_export import render_json
from .png import render_png
from .svg import Box, SvgOptions, fit_view, render_svg

FORMATS = ("json", "svg", "png")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "svg": "image/svg+xml",
               "png": "image/png"}
MAX_SCALE = 16.0
MAX_COORDINATE = 1e9
"""Board coordinates are clamped to +-1e9 (shared/board.schema.json ``coordinate``)."""
MIN_REGION_SIDE = 1.0
MAX_REGION_SIDE = 2 * MAX_COORDINATE
_FILE_ID = re.compile(r"[0-9a-f]{64}")


class ExportError(ValueError):
    """An export option has a value it cannot take (the message names it)."""


@dataclass(frozen=True)
class ExportOptions:
    """Options of one export. ``scale`` applies to PNG only (pixels per board unit)."""

    background: str | None = None
    region: tuple[float, float, float, float] | None = None
    scale: float = 1.0
    margin: float = 32.0


def export_board(content: BoardContent, fmt: str, options: ExportOptions = ExportOptions(),
                 images: Mapping[str, tuple[str, bytes]] | None = None) -> bytes:
    """The board in ``fmt`` (``json``, ``svg`` or ``png``). Raises ``ExportError`` for an
    unknown format."""
    if fmt == "json":
        return render_json(content)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    svg_options = SvgOptions(options.background, options.region, options.margin)
    svg = render_svg(content, svg_options, images)
    if fmt == "svg":
        return svg.encode("utf-8")
    view = Box(*options.region) if options.region else fit_view(content, options.margin)
    return render_png(svg, view.w, view.h, options.scale)


def parse_background(value: str | None) -> str | None:
    """A background option: a schema colour, ``transparent``, or None (the board's own)."""
    if value is None or value == "":
        return None
    if not load_model().color_pattern.fullmatch(value):
        raise ExportError(f"background {value!r} is not a colour (#rgb, #rrggbb, #rrggbbaa or "
                          "transparent)")
    return value


def parse_scale(value: str | float | None) -> float:
    """A PNG scale: a finite number in (0, ``MAX_SCALE``]; None means 1."""
    if value is None or value == "":
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        raise ExportError(f"scale {value!r} is not a number") from None
    if not math.isfinite(scale) or not 0 < scale <= MAX_SCALE:
        raise ExportError(f"scale {value!r} must be above 0 and at most {MAX_SCALE:g}")
    return scale


def parse_region(value: str | None) -> tuple[float, float, float, float] | None:
    """A region ``x,y,w,h`` in board units (w, h > 0), or None."""
    if value is None or value == "":
        return None
    try:
        x, y, w, h = (float(part) for part in value.split(","))
    except ValueError:
        raise ExportError(f"region {value!r} must be four numbers x,y,w,h") from None
    if not all(map(math.isfinite, (x, y, w, h))) or w <= 0 or h <= 0:
        raise ExportError(f"region {value!r} needs finite numbers and a positive width "
                          "and height")
    if not (MIN_REGION_SIDE <= w <= MAX_REGION_SIDE and MIN_REGION_SIDE <= h <= MAX_REGION_SIDE
            and abs(x) <= MAX_COORDINATE and abs(y) <= MAX_COORDINATE):
        raise ExportError(f"region {value!r}: width and height must be {MIN_REGION_SIDE:g} to "
                          f"{MAX_REGION_SIDE:g} board units and x, y within "
                          f"+-{MAX_COORDINATE:g} (the board's coordinate range)")
    return (x, y, w, h)


async def read_stored_board(store: Store, board_id: str) -> BoardContent | None:
    """A board read from the database (None if there is no such board).

    Rows go through the same pre-check as at board load (``BoardDocument.from_updates``):
    a poisoned or undecodable row is skipped and logged, so reading never recurses without
    a bound.
    """
    if await store.board_info(board_id) is None:
        return None
    return read_board(BoardDocument.from_updates(await store.load_updates(board_id), board_id)
                      .doc)


async def load_images(store: Store, content: BoardContent) -> dict[str, tuple[str, bytes]]:
    """``fileId -> (mime, bytes)`` for every image element whose file is stored."""
    found: dict[str, tuple[str, bytes]] = {}
    for element in content.elements:
        file_id = element.get("fileId") if element["type"] == "image" else None
        if file_id and _FILE_ID.fullmatch(file_id) and file_id not in found:
            stored = await store.load_file(file_id)
            if stored is not None:
                found[file_id] = stored
    return found
