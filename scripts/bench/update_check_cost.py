#!/usr/bin/env python3
"""CPU cost of the update pre-check (``backend/update_check.py``) against pycrdt's apply.

Builds a board of 3,000 elements (1,000 with 80-point strokes and a text), then an S2 insert
(a ``Y.Map`` of 9 fields) and an S2 move (x and y), and times ``check_update`` on each (best
of 7 repetitions, process CPU time). ``--against REV`` times the module as it was at that git
revision too, in the same process and on the same bytes. Example:

    .venv/bin/python scripts/bench/update_check_cost.py --against 2ea5d3b
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from pycrdt import Doc, Map, Text

REPO = Path(__file__).resolve().parents[2]
MODULE = "backend/update_check.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="git revision to compare with")
    args = parser.parse_args()
    big, insert, move = _updates()
    modules = {"this tree": _load(REPO / MODULE, "check_now")}
    if args.against:
        source = subprocess.run(["git", "show", f"{args.against}:{MODULE}"], cwd=REPO,
                                check=True, capture_output=True, text=True).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
            file.write(source)
        modules[args.against] = _load(Path(file.name), "check_then")
    print(f"bytes: board {len(big):,}, insert {len(insert)}, move {len(move)}")
    for name, module in modules.items():
        print(f"{name}: {_timings(module, big, insert, move)}")
    applied = Doc()
    applied.apply_update(big)
    print(f"pycrdt apply: board {_best(lambda: Doc().apply_update(big), 2) / 1000:.0f} ms, "
          f"move {_best(lambda: applied.apply_update(move), 2000):.1f} us")


def _timings(module: ModuleType, big: bytes, insert: bytes, move: bytes) -> str:
    shape = module.TypeDepths()  # the board's shape, as the server keeps it
    shape.record(module.check_update(big))
    return (f"board {_best(lambda: module.check_update(big), 2) / 1000:.0f} ms, "
            f"insert {_best(lambda: module.check_update(insert, shape), 2000):.1f} us, "
            f"move {_best(lambda: module.check_update(move, shape), 2000):.1f} us")


def _updates() -> tuple[bytes, bytes, bytes]:
    doc = Doc()
    elements = doc.get("elements", type=Map)
    rng = random.Random(1)
    with doc.transaction():
        for i in range(3000):
            element = Map()
            elements[f"e{i}"] = element
            element.update({"type": "rect", "x": rng.random() * 1000, "y": rng.random() * 1000,
                            "w": 10.0, "h": 20.0, "z": i, "stroke": "#000", "createdBy": "c1",
                            "t": 1.5})
            if i % 3 == 0:
                element["points"] = [rng.random() for _ in range(80)]
                element["label"] = Text("hello world " * 3)
    big = doc.get_update()
    state = doc.get_state()
    with doc.transaction():
        element = Map()
        elements["new"] = element
        element.update({"type": "rect", "x": 1.0, "y": 2.0, "w": 10.0, "h": 20.0, "z": 5,
                        "stroke": "#000", "createdBy": "c1", "t": 1.5})
    insert = doc.get_update(state)
    state = doc.get_state()
    with doc.transaction():
        element["x"], element["y"] = 3.0, 4.0
    return big, insert, doc.get_update(state)


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _best(call: Callable[[], object], count: int, repeats: int = 7) -> float:
    """Best per-call CPU time in microseconds over ``repeats`` rounds of ``count`` calls."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(count):
            call()
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


if __name__ == "__main__":
    main()
