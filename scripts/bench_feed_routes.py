#!/usr/bin/env python3
"""What reporting bound arrows costs the change feed (the "Change feed" section of
BENCHMARKS.md).

    scripts/bench_feed_routes.py [--arrows 50] [--moves 200]

Builds a board with a hub box, ``--arrows`` boxes around it each bound to the hub by an arrow
(every other one elbow), and a lone box, in a pycrdt document and its shadow copy as
``BoardFeed`` keeps one. Then moves the hub ``--moves`` times, one update a batch, applies each
to the shadow copy and times ``changes.describe`` (what the feed does per batch after the
apply), and does the same for the lone box; prints the median and 95th percentile in
milliseconds. In-process, no server.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

from pycrdt import Array, Doc, Map  # noqa: E402

from backend.board_model import load_model  # noqa: E402
from backend.cli_args import ArgumentParser  # noqa: E402
from backend.events.bindings import Bindings  # noqa: E402
from backend.events.changes import ChangeSet, describe, kinds_in  # noqa: E402


def main() -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrows", type=int, default=50)
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    model = load_model()
    source, shadow = Doc(), Doc()
    elements = source.get("elements", type=Map)
    shadow_elements = shadow.get("elements", type=Map)
    changes = ChangeSet()
    subscription = shadow_elements.observe_deep(changes.collect)  # kept: pycrdt drops it else
    with source.transaction():
        elements["hub"] = Map({"type": "rect", "x": 0, "y": 0, "w": 120, "h": 80, "z": "a0"})
        elements["lone"] = Map({"type": "rect", "x": 0, "y": 900, "w": 120, "h": 80, "z": "a1"})
        for i in range(args.arrows):
            turn = 2 * math.pi * i / args.arrows
            elements[f"box{i}"] = Map({"type": "rect", "x": 500 * math.cos(turn),
                                       "y": 500 * math.sin(turn), "w": 80, "h": 60,
                                       "z": f"b{i:04d}"})
            elements[f"arrow{i}"] = Map({
                "type": "arrow", "x": 60, "y": 40, "z": f"c{i:04d}",
                "points": Array([0.0, 0.0, 500 * math.cos(turn), 500 * math.sin(turn)]),
                "startBindId": "hub", "endBindId": f"box{i}",
                "routing": "elbow" if i % 2 else "straight"})
    shadow.apply_update(source.get_update())
    bindings = Bindings()
    kinds = kinds_in(shadow_elements, bindings)
    print(f"{args.arrows} arrows bound to the hub, {len(elements)} elements, "
          f"{args.moves} moves each\n")
    print("| box moved | median ms | p95 ms | entries per event |")
    print("| --- | ---: | ---: | ---: |")
    for box in ("hub", "lone"):
        times, entries = [], 0
        for move in range(args.moves):
            state = source.get_state()
            elements[box]["x"] = float(move)
            changes.added.clear()
            changes.deleted.clear()
            changes.fields.clear()
            shadow.apply_update(source.get_update(state))
            started = time.perf_counter()
            described = describe(changes, shadow_elements, model, kinds, bindings)
            times.append((time.perf_counter() - started) * 1000)
            entries = len(described.updated)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"| {box} | {statistics.median(times):.3f} | {p95:.3f} | {entries} |")
    del subscription
    return 0


if __name__ == "__main__":
    sys.exit(main())
