#!/usr/bin/env python3
"""Time exporting one large board per format (the "Export" section of BENCHMARKS.md).

    scripts/bench_export.py [--elements 10000] [--repeat 3] [--seed 1] [--bind] [--only WORDS]

Builds a board of ``--elements`` elements of every type in one pycrdt transaction (a third
freehand strokes of 40 points, the rest rectangles, ellipses, lines, arrows, text, stickies and
images; positions spread over a 20,000 x 20,000 area), encodes it as one update like a stored
snapshot, then times each step ``--repeat`` times and prints a Markdown table of the best and
median wall-clock times. Runs in-process (PNG in one worker process, as the server does), no
server or database.
"""

from __future__ import annotations

import asyncio
import functools
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
from backend.export.routing import routed_elements, with_routed_geometry  # noqa: E402

STROKE_POINTS = 40
KINDS = ("stroke", "stroke", "stroke", "rect", "ellipse", "line", "arrow", "text", "sticky",
         "image")


def build_board(count: int, seed: int, bind: bool = False) -> bytes:
    """A board of ``count`` elements as one encoded update; with ``bind``, every line and arrow
    is bound from the rectangle before it to the ellipse after the rectangle (a fifth of the
    elements; every other one elbow), its stored points left where they were drawn."""
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
                rect = index - KINDS.index(kind) + KINDS.index("rect")
                if bind and rect >= 0:
                    fields.update(startBindId=f"el{rect:06d}", endBindId=f"el{rect + 1:06d}",
                                  routing="elbow" if index // 10 % 2 else "straight")
            elif kind in ("text", "sticky"):
                fields["text"] = Text(f"note {index}: some words to wrap in the box")
            elif kind == "image":
                fields["fileId"] = f"{index:064x}"
            elements[f"el{index:06d}"] = Map(fields)
    return doc.get_update()


def timed(step: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Best and median wall-clock milliseconds of ``repeat`` runs, and the last run's result."""
    runs = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = step()
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs), statistics.median(runs), result


def main() -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bind", action="store_true",
                        help="bind every line and arrow to the shapes beside it (routed)")
    parser.add_argument("--only", default="",
                        help="comma-separated words: time only the steps whose name holds one "
                             "(e.g. 'JSON,Excalidraw'); default: every step")
    args = parser.parse_args()
    update = build_board(args.elements, args.seed, args.bind)
    content = read_update(update)
    png_options = ExportOptions(scale=0.05)
    raster = RasterPool(workers=1, queue_jobs=0, timeout_s=600, memory_bytes=0)
    loop = asyncio.new_event_loop()

    def png() -> bytes:  # in the worker process the server uses (SVG, pipe, rasterise)
        return loop.run_until_complete(export_file(content, "png", raster, png_options))

    excalidraw = functools.cache(lambda: export_board(content, "excalidraw"))
    limits = FileLimits(10 << 20, 100_000_000)

    def read_back() -> object:
        return read_import(excalidraw(), limits)

    steps = [
        ("read snapshot -> elements", lambda: read_update(update)),
        ("route the connectors to draw them (SVG, PNG, PDF)",
         lambda: routed_elements(content.elements)),
        ("route the connectors for readers (JSON, bundle, Excalidraw)",
         lambda: with_routed_geometry(content.elements)),
        ("JSON export", lambda: export_board(content, "json")),
        ("SVG export", lambda: export_board(content, "svg")),
        ("PNG export (scale 0.05, about 1000 px wide)", png),
        ("PDF export (one page fitted to the content)", lambda: export_board(content, "pdf")),
        ("Excalidraw export", lambda: export_board(content, "excalidraw")),
        ("import: read the Excalidraw export back (checks, mapping, validation)", read_back),
        ("import: validate the JSON form", lambda: validate_board_json(content.to_json())),
        ("import: JSON form -> update", lambda: build_import_update(content.to_json())),
    ]
    words = [word.lower() for word in args.only.split(",") if word]
    print(f"{args.elements:,} elements{', lines and arrows bound' if args.bind else ''}, "
          f"best / median of {args.repeat} runs\n")
    print("| step | best ms | median ms | output |")
    print("| --- | ---: | ---: | --- |")
    for name, step in steps:
        if words and not any(word in name.lower() for word in words):
            continue
        if step in (png, read_back):
            step()  # an untimed first run: starts the raster worker, writes the file read back
        best, median, result = timed(step, args.repeat)
        size = f"{len(update):,} B update" if name.startswith("read snapshot") else \
            f"{len(result):,} B" if isinstance(result, bytes) else ""
        print(f"| {name} | {best:,.0f} | {median:,.0f} | {size} |")
    loop.run_until_complete(raster.close())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
