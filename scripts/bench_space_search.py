#!/usr/bin/env python3
"""Time a space's board list and search over HTTP (the "Spaces" section of BENCHMARKS.md).

    scripts/bench_space_search.py [--boards 1000] [--notes 20] [--queries 50]
                                  [--db postgresql+asyncpg://postgres@127.0.0.1/NAME]

Starts a real server in-process (SQLite in a temporary folder unless ``--db`` names an empty
database), makes one space of ``--boards`` boards, each indexed with a title and ``--notes``
notes of random words (stored through the space store the way the indexer stores them, so
the set-up takes seconds, not a board load each), then times ``GET /api/spaces/<id>/boards``
over loopback: the whole list, a search matching one board, a prefix matching about a tenth,
and a two-word search. Prints a Markdown table of the median, 95th percentile and maximum of
the HTTP round trip and of the database query alone (the answer's ``queryMs``), and the
median CPU time of the whole process per request (server, client and, for SQLite, the
database thread: unlike wall-clock times, it does not grow with the machine's load).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

from sqlalchemy import text  # noqa: E402
from tornado.httpclient import AsyncHTTPClient  # noqa: E402

from backend.access import new_board_id  # noqa: E402
from backend.app import SyncboardServer  # noqa: E402
from backend.cli_args import ArgumentParser  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.store.spaces import SpaceStore  # noqa: E402

SYLLABLES = ("ka", "lo", "mi", "ra", "ten", "vo", "zu", "pri", "sta", "gel", "dor", "nix")


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


async def run(boards: int, notes: int, queries: int, db: str | None) -> list[tuple[str, ...]]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(host="127.0.0.1", port=0, auth="token", data_dir=folder,
                            db=db or f"sqlite+aiosqlite:///{folder}/bench.db",
                            space_index_interval_s=3600)
        server = SyncboardServer(settings)
        await server.start()
        try:
            return await _measure(server, boards, notes, queries)
        finally:
            await server.stop()


async def _measure(server: SyncboardServer, boards: int, notes: int,
                   queries: int) -> list[tuple[str, ...]]:
    http = AsyncHTTPClient()
    base = f"http://127.0.0.1:{server.port}"
    space = await _json(http, f"{base}/api/spaces", "POST", b'{"name": "bench"}')
    spaces = SpaceStore(server.store.engine)
    rng = random.Random(1)
    started = time.perf_counter()
    for n in range(boards):
        board_id = new_board_id()
        await server.store.create_board(board_id)
        await spaces.add_board(space["id"], board_id, f"Board {n}")
        body = "\n".join([f"Board {n}", f"unique{n}marker"] +
                         [" ".join(word(rng) for _ in range(8)) for _ in range(notes)])
        info = await server.store.board_info(board_id)
        await spaces.save_index(board_id, f"Board {n}", body, info.updated_at)
    setup_s = time.perf_counter() - started
    if server.store.dialect == "postgresql":
        # Autovacuum analyses tables this size on its own within a minute; without fresh
        # statistics the planner picks nested loops (measured 12-35 ms instead of 1-2 ms).
        async with server.store.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    cases = {"whole list (no q)": "", "one board (q=unique517marker)": "unique517marker",
             "prefix (q=kalo)": "kalo", "two words (q=mira sta)": "mira sta"}
    rows = [("request", "boards answered", "HTTP median ms", "p95", "max",
             "database median ms", "p95", "max", "CPU median ms")]
    for label, query in cases.items():
        url = f"{base}/api/spaces/{space['id']}/boards?q={query.replace(' ', '+')}"
        answered = 0
        times, database, cpu = [], [], []
        for _ in range(queries):
            t0, c0 = time.perf_counter(), time.process_time()
            answer = await _json(http, url, token=space["viewToken"])
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            database.append(answer["queryMs"])
            answered = len(answer["boards"])
        rows.append((label, str(answered), *_stats(times), *_stats(database),
                     f"{statistics.median(cpu):.1f}"))
    print(f"set-up: {boards} boards indexed in {setup_s:.1f} s", file=sys.stderr)
    return rows


def _stats(times: list[float]) -> tuple[str, str, str]:
    times = sorted(times)
    return (f"{statistics.median(times):.1f}", f"{times[int(0.95 * (len(times) - 1))]:.1f}",
            f"{times[-1]:.1f}")


async def _json(http: AsyncHTTPClient, url: str, method: str = "GET", body: bytes | None = None,
                token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.fetch(url, method=method, body=body, headers=headers)
    return json.loads(response.body)


def main() -> None:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=1000)
    parser.add_argument("--notes", type=int, default=20)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--db", default=None, help="an empty database (default: SQLite)")
    args = parser.parse_args()
    rows = asyncio.run(run(args.boards, args.notes, args.queries, args.db))
    for row in rows[:1]:
        print("| " + " | ".join(row) + " |")
        print("|" + "---|" * len(row))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
