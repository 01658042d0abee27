#!/usr/bin/env python3
"""Figures of the version history (the "Version history" section of BENCHMARKS.md).

    scripts/bench_history.py [--elements 10000] [--versions 500] [--minutes 60] [--seed 1]
                             [--db FILE] [--only TEXT ...] [--runs N] [--server-root DIR]

1. Storage: one board edited for ``--minutes`` simulated minutes with the soak's pattern made
   heavier (a 40-point stroke every 2 s, the oldest strokes erased past 40 live ones), each
   stroke one group commit, compacted as the writer does (500 updates), written twice: into a
   SQLite file without history and into one that also records an automatic version every 300
   simulated seconds (thinned by the default policy). Prints both file sizes (after a WAL
   checkpoint and VACUUM) and their ratio.
2. Big board: ``--elements`` elements (scripts/bench_export.py's board), then ``--versions``
   versions, each after a small edit (5 elements moved, 2 recoloured, 1 added, 1 deleted).
   Prints the bytes one version costs against the board, then starts ``python -m backend`` on
   that file and times over HTTP: listing versions, previewing (``export.json`` of) the newest,
   the one furthest from a checkpoint and the oldest version, and restoring one.

To time a change against its base on one database, interleaved: ``--db FILE`` builds the big
board's file there once and times a copy of it on later runs (storage, step 1, is skipped);
``--only preview --only export`` times only the rows whose name holds one of the texts (no
restore: a restore changes the board); ``--runs`` sets the runs per GET row (default 3);
``--server-root DIR`` times the server of another checkout (``git archive`` of the base) on
that file. ``--only`` adds a row, ``export.json of the live board``. The first run of each
row is printed apart: the first version export of a chain checks its checkpoint and reads
it whole, the next ones recall both (``backend/checked_states.py``,
``backend/checkpoint_reads.py``) and read only what their deltas change.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "scripts" / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements-dev.txt")  # before any third-party import

from bench_export import build_board  # noqa: E402
from pycrdt import Array, Map  # noqa: E402

from backend.cli_args import ArgumentParser  # noqa: E402
from backend.document import BoardDocument  # noqa: E402
from backend.store import open_store  # noqa: E402
from backend.store.history import Retention  # noqa: E402
from tests.server_process import free_port, wait_answering  # noqa: E402

STROKE_EVERY_S = 2.0
LIVE_STROKES = 40
STROKE_POINTS = 40
VERSION_EVERY_S = 300.0


def main() -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="the big board's file, built if missing")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="time only the HTTP rows whose name holds TEXT (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs per GET row")
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="the checkout whose server is timed (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db is None:
            asyncio.run(_storage(Path(tmp), args))
        db = args.db or Path(tmp) / "big.db"
        if not db.exists():
            asyncio.run(_big_board(db, args))
        if args.db is not None:  # timed on a copy: the run saves a version
            db = Path(shutil.copy(args.db, Path(tmp) / "big.db"))
        _over_http(db, args, Path(tmp))
    return 0


async def _storage(tmp: Path, args) -> None:
    rng = random.Random(args.seed)
    plain = await open_store(f"sqlite+aiosqlite:///{tmp}/plain.db")
    kept = await open_store(f"sqlite+aiosqlite:///{tmp}/history.db")
    for store in (plain, kept):
        await store.create_board("soak")
    document = BoardDocument()
    elements = document.doc.get("elements", type=Map)
    live: list[str] = []
    start = time.time() - args.minutes * 60
    versions = 0
    last_version = start
    steps = int(args.minutes * 60 / STROKE_EVERY_S)
    for step in range(steps):
        now = start + step * STROKE_EVERY_S
        before = document.doc.get_state()
        with document.doc.transaction():
            key = f"s{step}"
            elements[key] = Map({"type": "stroke", "x": rng.uniform(0, 1000),
                                 "y": rng.uniform(0, 1000), "z": f"a{step:06d}",
                                 "points": Array([rng.uniform(-50, 50)
                                                  for _ in range(2 * STROKE_POINTS)])})
            live.append(key)
            while len(live) > LIVE_STROKES:
                del elements[live.pop(0)]
        update = document.doc.get_update(before)
        document.apply_update(update)
        for store in (plain, kept):
            sizes = await store.append_updates({"soak": [update]})
            if sizes["soak"].updates >= 500:
                await store.compact("soak")
        if now - last_version >= VERSION_EVERY_S:
            await kept.record_version("soak", document, "auto", now=now)
            await kept.thin_history("soak", now, Retention())
            versions += 1
            last_version = now
    history_bytes = await kept.history_bytes("soak")
    for store in (plain, kept):
        await store.close()
    sizes = {name: _vacuumed_size(tmp / f"{name}.db") for name in ("plain", "history")}
    print(f"## Storage: {args.minutes:.0f} simulated minutes, {steps} strokes of "
          f"{STROKE_POINTS} points, {LIVE_STROKES} live\n")
    print("| database | bytes |")
    print("| --- | ---: |")
    print(f"| without history | {sizes['plain']:,} |")
    print(f"| with {versions} automatic versions | {sizes['history']:,} |")
    print(f"| ratio | {sizes['history'] / sizes['plain']:.2f} |")
    print(f"| of which version rows (data + state vectors) | {history_bytes:,} |\n")


async def _big_board(db: Path, args) -> None:
    rng = random.Random(args.seed)
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    await store.create_board("big")
    document = BoardDocument.from_updates([build_board(args.elements, args.seed)])
    await store.append_updates({"big": [document.full_update()]})
    elements = document.doc.get("elements", type=Map)
    ids = sorted(elements.keys())
    started = time.perf_counter()
    for index in range(args.versions):
        before = document.doc.get_state()
        with document.doc.transaction():
            for element_id in rng.sample(ids, 5):
                elements[element_id]["x"] = rng.uniform(0, 20_000)
            for element_id in rng.sample(ids, 2):
                elements[element_id]["fill"] = rng.choice(["#ff0000", "#00ff00", "#0000ff"])
            new_id = f"new{index:04d}"
            elements[new_id] = Map({"type": "rect", "x": 1.0, "y": 2.0, "w": 30.0, "h": 30.0,
                                    "z": f"b{index:04d}"})
            gone = rng.choice(ids)
            del elements[gone]
            ids.remove(gone)
            ids.append(new_id)
        update = document.doc.get_update(before)
        document.apply_update(update)
        await store.append_updates({"big": [update]})
        await store.record_version("big", document, "auto", now=time.time() - 600 + index)
    await store.compact("big")
    await store.close()
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT length(data) + length(state_vector), checkpoint "
                                  "FROM board_versions ORDER BY id").fetchall()
    board = len(document.full_update())
    costs = [size for size, _checkpoint in rows]
    deltas = [size for size, checkpoint in rows if not checkpoint]
    checkpoints = [size for size, checkpoint in rows if checkpoint]
    print(f"## {args.elements:,}-element board, {args.versions} versions "
          f"(built in {time.perf_counter() - started:.0f} s)\n")
    print("| what | bytes | of the board |")
    print("| --- | ---: | ---: |")
    print(f"| the board (one update) | {board:,} | 1 |")
    print(f"| one version, median (a delta) | {int(statistics.median(deltas)):,} | "
          f"1/{board / statistics.median(deltas):,.0f} |")
    print(f"| one checkpoint ({len(checkpoints)} of the {len(rows)} versions) | "
          f"{checkpoints[0]:,} | {checkpoints[0] / board:.2f} |")
    print(f"| all {args.versions} versions | {sum(costs):,} | {sum(costs) / board:.1f} |\n")


def _over_http(db: Path, args, tmp: Path) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "backend", "--host", "127.0.0.1",
                                "--port", str(port), "--db", f"sqlite+aiosqlite:///{db}",
                                "--auth", "none", "--data-dir", str(tmp / "data"),
                                "--log-level", "WARNING", "--idle-unload-s", "3600"],
                               cwd=args.server_root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/boards/big"
    try:
        wait_answering(f"http://127.0.0.1:{port}/healthz")
        # People are on the board when they restore it: have it loaded (the load itself,
        # seconds for this board, is not part of a restore).
        _get(f"{base}/versions", "POST")
        listed = json.loads(_get(f"{base}/versions")[1])["versions"][1:]
        newest = listed[0]["id"]
        oldest = newest - args.versions + 1
        with sqlite3.connect(db) as connection:
            far, chain = connection.execute("SELECT id, chain FROM board_versions "
                                            "ORDER BY chain DESC, id LIMIT 1").fetchone()
        rows = [("list versions (newest 50)", f"{base}/versions", "GET"),
                ("list versions, a page from the middle",
                 f"{base}/versions?before={oldest + args.versions // 2}", "GET"),
                (f"preview the newest (export.json of {newest})",
                 f"{base}/versions/{newest}/export.json", "GET"),
                (f"preview {far} ({chain} deltas after its checkpoint)",
                 f"{base}/versions/{far}/export.json", "GET"),
                (f"preview the oldest ({oldest}, a checkpoint)",
                 f"{base}/versions/{oldest}/export.json", "GET"),
                (f"the preview's update ({far}) as the browser loads it",
                 f"{base}/versions/{far}/update", "GET"),
                (f"restore {far} (whole board, before-restore version included)",
                 f"{base}/versions/{far}/restore", "POST"),
                (f"restore {oldest} (whole board)", f"{base}/versions/{oldest}/restore", "POST")]
        if args.only:
            live = ("export.json of the live board", f"{base}/export.json", "GET")
            rows = [row for row in [*rows, live]
                    if row[2] == "GET" and any(text in row[0] for text in args.only)]
        print(f"## Over HTTP (python -m backend on that file, {args.server_root}), "
              f"{args.runs} runs each (restore: 1)\n")
        print("| request | first ms | best ms | median ms | bytes |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, url, method in rows:
            runs, size = [], 0
            for _ in range(1 if method == "POST" else args.runs):
                elapsed, body = _get(url, method)
                runs.append(elapsed)
                size = len(body)
            print(f"| {name} | {runs[0]:,.0f} | {min(runs):,.0f} | {statistics.median(runs):,.0f} "
                  f"| {size:,} |")
    finally:
        process.terminate()
        process.wait(30)


def _get(url: str, method: str = "GET") -> tuple[float, bytes]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, body



def _vacuumed_size(path: Path) -> int:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("VACUUM")
    connection.close()
    return path.stat().st_size


if __name__ == "__main__":
    sys.exit(main())
