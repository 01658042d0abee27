#!/usr/bin/env python3
"""Time exporting one large board per format (the "Export" section of BENCHMARKS.md).

    scripts/bench_export.py [--elements 10000] [--repeat 3] [--seed 1]

Builds a board of ``--elements`` elements of every type in one pycrdt transaction (a third
freehand strokes of 40 points, the rest rectangles, ellipses, lines, arrows, text, stickies and
images; positions spread over a 20,000 x 20,000 area), encodes it as one update like a stored
snapshot, then times each step ``--repeat`` times and prints a Markdown table of the best and
median wall-clock times. Runs in-process (PNG in one worker process, as the server does), no
server or database.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

from pycrdt import Array, Doc, Map, Text  # noqa: E402

from backend.board_model import build_import_update, read_update, validate_board_json  # noqa: E402
from backend.cli_args import ArgumentParser  # noqa: E402
from backend.export import ExportOptions, export_board, export_file  # noqa: E402
from backend.export.incoming import read_import  # noqa: E402
from backend.export.mapping import FileLimits  # noqa: E402
from backend.export.raster_pool import RasterPool  # noqa: E402

STROKE_POINTS = 40
KINDS = ("stroke", "stroke", "stroke", "rect", "ellipse", "line", "arrow", "text", "sticky",
         "image")


def build_board(count: int, seed: int) -> bytes:
    """A board of ``count`` elements as one encoded update."""
    rng = random.Random(seed)
    doc = Doc()
    elements = doc.get("elements", type=Map)
    with doc.transaction():
        for index in range(count):
            kind = KINDS[index % len(KINDS)]
            fields = {"type": kind, "x": rng.uniform(0, 20_000), "y": rng.uniform(0, 20_000),
                      "w": rng.uniform(20, 300), "h": rng.uniform(20, 300), "z": f"a{index:06d}",
                      "stroke": "#1e1e1e", "fill": "#a0c4ff", "strokeWidth": 2, "opacity": 1,
                      "createdBy": "bench"}
            if kind == "stroke":
                fields["points"] = Array([rng.uniform(-100, 100)
                                          for _ in range(2 * STROKE_POINTS)])
            elif kind in ("line", "arrow"):
                fields["points"] = Array([0.0, 0.0, rng.uniform(-200, 200),
                                          rng.uniform(-200, 200)])
            elif kind in ("text", "sticky"):
                fields["text"] = Text(f"note {index}: some words to wrap in the box")
            elif kind == "image":
                fields["fileId"] = f"{index:064x}"
            elements[f"el{index:06d}"] = Map(fields)
    return doc.get_update()


def timed(step: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best and median wall-clock milliseconds of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs), statistics.median(runs)


def main() -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    update = build_board(args.elements, args.seed)
    content = read_update(update)
    json_bytes = export_board(content, "json")
    svg_bytes = export_board(content, "svg")
    png_options = ExportOptions(scale=0.05)
    raster = RasterPool(workers=1, queue_jobs=0, timeout_s=600, memory_bytes=0)
    loop = asyncio.new_event_loop()

    def png() -> bytes:  # in the worker process the server uses (SVG, pipe, rasterise)
        return loop.run_until_complete(export_file(content, "png", raster, png_options))

    png_bytes = png()
    pdf_bytes = export_board(content, "pdf")
    excalidraw_bytes = export_board(content, "excalidraw")
    limits = FileLimits(10 << 20, 100_000_000)
    steps = [
        ("read snapshot -> elements", lambda: read_update(update), f"{len(update):,} B update"),
        ("JSON export", lambda: export_board(content, "json"), f"{len(json_bytes):,} B"),
        ("SVG export", lambda: export_board(content, "svg"), f"{len(svg_bytes):,} B"),
        ("PNG export (scale 0.05, about 1000 px wide)",
         png, f"{len(png_bytes):,} B"),
        ("PDF export (one page fitted to the content)", lambda: export_board(content, "pdf"),
         f"{len(pdf_bytes):,} B"),
        ("Excalidraw export", lambda: export_board(content, "excalidraw"),
         f"{len(excalidraw_bytes):,} B"),
        ("import: read the Excalidraw export back (checks, mapping, validation)",
         lambda: read_import(excalidraw_bytes, limits), ""),
        ("import: validate the JSON form", lambda: validate_board_json(content.to_json()), ""),
        ("import: JSON form -> update", lambda: build_import_update(content.to_json()), ""),
    ]
    print(f"{args.elements:,} elements, best / median of {args.repeat} runs\n")
    print("| step | best ms | median ms | output |")
    print("| --- | ---: | ---: | --- |")
    for name, step, size in steps:
        best, median = timed(step, args.repeat)
        print(f"| {name} | {best:,.0f} | {median:,.0f} | {size} |")
    loop.run_until_complete(raster.close())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
