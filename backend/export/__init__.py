"""Board export: one exporter (JSON, SVG, PNG, PDF, the self-contained bundle and Excalidraw
scenes) shared by the HTTP handlers and the scripts.

``export_file(content, fmt, pool, options, images)`` turns a ``BoardContent`` (see
``backend.board_model``) into bytes, rasterising PNG in a ``RasterPool`` worker process
(``export_board`` does JSON and SVG synchronously);
``read_stored_board`` reads a board straight from a ``Store`` (the server may be stopped);
``load_images`` fetches the image bytes an SVG/PNG/PDF export embeds, leaving out any image whose
header declares more than ``max_image_pixels`` (it is never decoded); ``load_files`` fetches
every stored image a bundle or Excalidraw export carries. ``python -m
backend.export`` is the command-line exporter (``scripts/export_board.py``).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..board_model import BoardContent, load_model, read_board
from ..document import BoardDocument
from ..image_header import ImageHeaderError, ImageTooLarge, check_image
from ..store import Store
from .bundle import render_bundle
from .excalidraw import render_excalidraw
from .frames import NotOnBoard as NotOnBoard
from .frames import frame_content, selected_content
from .json_export import render_json
from .pdf import PAGE_MODES, render_pdf
from .png import MAX_PIXELS, render_png
from .raster_pool import RasterPool
from .svg import Box, SvgOptions, fit_view, render_svg

FORMATS = ("json", "svg", "png", "pdf", "bundle", "excalidraw")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "svg": "image/svg+xml",
               "png": "image/png", "pdf": "application/pdf",
               "bundle": "application/json; charset=utf-8",
               "excalidraw": "application/json; charset=utf-8"}
EXTENSIONS = {"json": "json", "svg": "svg", "png": "png", "pdf": "pdf",
              "bundle": "syncboard.json", "excalidraw": "excalidraw"}
"""File name extension of each format."""
CARRY_ALL_FILES = frozenset({"bundle", "excalidraw"})
"""Formats that carry every stored image of the board (``load_files``, not ``load_images``)."""
MAX_SCALE = 16.0
MAX_COORDINATE = 1e9
"""Board coordinates are clamped to +-1e9 (shared/board.schema.json ``coordinate``)."""
MIN_REGION_SIDE = 1.0
MAX_REGION_SIDE = 2 * MAX_COORDINATE
MAX_IDS = 2000
"""Most element ids one selection export names (``ids=``: 2,000 ids of 21 characters fit in
Tornado's 64 KiB request head)."""
_FILE_ID = re.compile(r"[0-9a-f]{64}")


class ExportError(ValueError):
    """An export option has a value it cannot take (the message names it)."""


@dataclass(frozen=True)
class ExportOptions:
    """Options of one export. ``scale`` applies to PNG only (pixels per board unit),
    ``pages`` to PDF only (``content`` or ``frames``); ``comments`` draws open comment
    threads as pins (SVG and PNG)."""

    background: str | None = None
    region: tuple[float, float, float, float] | None = None
    scale: float = 1.0
    margin: float = 32.0
    pages: str = "content"
    comments: bool = False
    frame: str | None = None
    """Export only this frame and what it holds, framed by its box (unless ``region``)."""
    ids: frozenset[str] | None = None
    """Export only these elements (a selection), fitted to them (unless ``region``)."""

    def __post_init__(self) -> None:
        if self.frame is not None and self.ids is not None:
            raise ExportError("frame and ids exclude each other: export one frame or a "
                              "selection")


@dataclass
class Images:
    """What ``load_images`` found: ``fileId -> (mime, bytes)`` to embed, and a reason for each
    image left out."""

    found: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def export_board(content: BoardContent, fmt: str, options: ExportOptions = ExportOptions(),
                 images: Mapping[str, tuple[str, bytes]] | None = None) -> bytes:
    """The board in any format but PNG (pure Python, no worker needed; PNG needs a worker:
    ``export_file``). Raises ``ExportError`` for another format, ``NotOnBoard`` for an
    ``options.frame`` the board does not have or ``options.ids`` naming none of its
    elements."""
    content, options = _select_part(content, options)
    if fmt == "json":
        return render_json(content)
    if fmt == "bundle":
        return render_bundle(content, images or {})
    if fmt == "excalidraw":
        return render_excalidraw(content, images)
    if fmt == "pdf":
        return render_pdf(content, images, options.region, options.pages, options.background,
                          options.margin)
    if fmt != "svg":
        raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)} "
                          "(PNG: use export_file)")
    return _svg(content, options, images).encode("utf-8")


async def export_file(content: BoardContent, fmt: str, pool: RasterPool,
                      options: ExportOptions = ExportOptions(),
                      images: Mapping[str, tuple[str, bytes]] | None = None,
                      max_pixels: int = MAX_PIXELS) -> bytes:
    """The board in ``fmt`` (``json``, ``svg`` or ``png``); PNG is rasterised in ``pool``
    within ``max_pixels``, the rest in a thread. Raises ``ExportError`` for an unknown format,
    ``NotOnBoard`` for an ``options.frame`` or ``options.ids`` the board lacks, ``RasterError``
    when the PNG cannot be rendered (``RasterBusy``: the queue is full)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt != "png":
        return await asyncio.to_thread(export_board, content, fmt, options, images)
    svg, view = await asyncio.to_thread(_raster_source, content, options, images)
    return await render_png(svg, view.w, view.h, options.scale, pool, max_pixels)


def _raster_source(content: BoardContent, options: ExportOptions,
                   images: Mapping[str, tuple[str, bytes]] | None) -> tuple[str, Box]:
    """The SVG a PNG is rasterised from and the view it shows, made in a thread: choosing a
    frame's or a selection's part routes every connector of the board first (1.5 s for
    10,000 elements, half of them bound elbows), which must not run on the event loop."""
    content, options = _select_part(content, options)
    view = Box(*options.region) if options.region else fit_view(content, options.margin)
    return _svg(content, options, images, False), view


def _svg(content: BoardContent, options: ExportOptions,
         images: Mapping[str, tuple[str, bytes]] | None, embed_font: bool = True) -> str:
    """The SVG; ``embed_font`` off for the rasteriser, which loads the font file itself."""
    return render_svg(content, SvgOptions(options.background, options.region, options.margin,
                                          options.comments, embed_font), images)


def parse_frame(value: str | None) -> str | None:
    """A frame option: an element id, or None (the whole board)."""
    if value is None or value == "":
        return None
    if not load_model().id_pattern.fullmatch(value):
        raise ExportError(f"frame {value[:80]!r} is not an element id")
    return value


def parse_ids(value: str | None, most: int = MAX_IDS) -> frozenset[str] | None:
    """A selection option: comma-separated element ids, or None (the whole board). At most
    ``most``: ``MAX_IDS`` in a URL, ``selection.MAX_POSTED_IDS`` where they travel in a body
    (the exporter's ``--ids``)."""
    if value is None or value == "":
        return None
    parts = value.split(",", most)
    if len(parts) > most:
        hint = ': POST a larger selection as {"ids": [...]} (over HTTP), or export a frame ' \
               "or the board" if most <= MAX_IDS else " (a board holds no more)"
        raise ExportError(f"ids names more than {most} elements{hint}")
    pattern = load_model().id_pattern
    for part in parts:
        if not pattern.fullmatch(part):
            raise ExportError(f"ids: {part[:80]!r} is not an element id")
    return frozenset(parts)


def _select_part(content: BoardContent, options: ExportOptions
                 ) -> tuple[BoardContent, ExportOptions]:
    """The frame's or the selection's content alone, and the options to draw it with."""
    if options.ids is not None:
        return selected_content(content, options.ids), replace(options, ids=None)
    if options.frame is None:
        return content, options
    held, box = frame_content(content, options.frame)
    return held, replace(options, frame=None, region=options.region or box)


def parse_background(value: str | None) -> str | None:
    """A background option: a schema colour, ``transparent``, or None (the board's own)."""
    if value is None or value == "":
        return None
    if not load_model().color_pattern.fullmatch(value):
        raise ExportError(f"background {value!r} is not a colour (#rgb, #rrggbb, #rrggbbaa or "
                          "transparent)")
    return value


def parse_pages(value: str | None) -> str:
    """A PDF page mode: ``content`` (one page fitted to the content, the default) or
    ``frames`` (one page per frame)."""
    if value is None or value == "":
        return "content"
    if value not in PAGE_MODES:
        raise ExportError(f"pages {value!r} must be one of {', '.join(PAGE_MODES)}")
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


async def load_images(store: Store, content: BoardContent, max_image_pixels: int) -> Images:
    """The stored files of the board's image elements. A file whose header declares more
    than ``max_image_pixels`` pixels, or cannot be read, is left out with its reason (the
    export draws the missing-image placeholder there); none is decoded here."""
    images = Images()
    for element in content.elements:
        file_id = element.get("fileId") if element["type"] == "image" else None
        if not file_id or not _FILE_ID.fullmatch(file_id) or file_id in images.found or \
                file_id in images.skipped:
            continue
        stored = await store.load_file(file_id)
        if stored is None:
            continue
        try:
            check_image(stored[1], max_image_pixels)
        except (ImageHeaderError, ImageTooLarge) as exc:
            images.skipped[file_id] = str(exc)
            continue
        images.found[file_id] = stored
    return images


async def load_files(store: Store, content: BoardContent) -> dict[str, tuple[str, bytes]]:
    """``fileId -> (mime, bytes)`` of every stored image the board's image elements name
    (checked when they were uploaded; none is decoded)."""
    found: dict[str, tuple[str, bytes]] = {}
    for element in content.elements:
        file_id = element.get("fileId") if element["type"] == "image" else None
        if file_id and _FILE_ID.fullmatch(file_id) and file_id not in found:
            stored = await store.load_file(file_id)
            if stored is not None:
                found[file_id] = stored
    return found
