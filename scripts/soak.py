#!/usr/bin/env python3
"""Soak with churn: clients join, edit and leave many boards for N minutes.

Starts ``python -m backend`` as a subprocess on a free loopback port with a fresh SQLite file
(and a short ``--idle-unload-s`` so boards really load and unload), then runs ``--sessions``
concurrent sessions. A session picks a random board, connects a writer and a watcher, makes
strokes (adds elements, then erases some so a board's live content stays bounded) for a
random while, and leaves. Every ``--sample-s`` it samples the server's RSS and open file
descriptors (psutil), ``/healthz`` (boards loaded, connections, loads, unloads) and the update
latency (writer's send to the watcher's receipt) of the window; it prints one table row per
sample and writes everything to ``--json``. Example (the 30-minute run of issue 7):

    scripts/soak.py --minutes 30 --json soak.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from argparse import Namespace
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements-dev.txt")  # before any third-party import

import psutil  # noqa: E402
from pycrdt import Map  # noqa: E402
from tornado.httpclient import HTTPClientError  # noqa: E402
from tornado.iostream import StreamClosedError  # noqa: E402
from tornado.websocket import WebSocketClosedError  # noqa: E402

from backend.cli_args import ArgumentParser  # noqa: E402
from tests.yclient import YClient  # noqa: E402

LIVE_STROKES_PER_BOARD = 40
STROKE_POINTS = 20


@dataclass
class Sample:
    """One row of the soak table."""

    elapsed_s: float
    rss_mib: float
    open_fds: int
    boards_loaded: int
    connections: int
    board_loads_total: int
    board_unloads_total: int
    edits: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    session_errors: int


class Soak:
    """The workload and its measurements."""

    def __init__(self, ws_url: str, boards: int, session_s: tuple[float, float],
                 edit_interval_s: float, board_life_s: float) -> None:
        self.ws_url = ws_url
        self.boards = boards
        self.board_life_s = board_life_s
        self.started = time.monotonic()
        self.session_s = session_s
        self.edit_interval_s = edit_interval_s
        self.latencies_ms: list[float] = []
        self.edits = 0
        self.session_errors = 0
        self.error_kinds: dict[str, int] = {}

    async def run_sessions(self, stop: asyncio.Event) -> None:
        """One session after another until ``stop``."""
        while not stop.is_set():
            try:
                await self._session(stop, self.pick_board())
            except (OSError, TimeoutError, StreamClosedError, WebSocketClosedError,
                    HTTPClientError, AssertionError) as exc:
                self.session_errors += 1
                kind = type(exc).__name__
                self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
                await asyncio.sleep(0.5)

    async def _session(self, stop: asyncio.Event, board_id: str) -> None:
        url = f"{self.ws_url}/{board_id}"
        writer, watcher = YClient(url), YClient(url)
        sent_at: dict[str, float] = {}

        def on_change(event) -> None:
            now = time.perf_counter()
            for key in event.keys:
                started = sent_at.pop(key, None)
                if started is not None:
                    self.latencies_ms.append((now - started) * 1000)

        try:
            await writer.sync()
            await watcher.sync()
            watched = watcher.elements  # unobserve needs this very wrapper object
            subscription = watched.observe(on_change)
            ends = time.monotonic() + random.uniform(*self.session_s)
            while time.monotonic() < ends and not stop.is_set():
                key = f"stroke-{random.randrange(1 << 30)}"
                sent_at[key] = time.perf_counter()
                await writer.edit(lambda doc, key=key: _draw_stroke(doc, key))
                self.edits += 1
                await asyncio.sleep(random.expovariate(1 / self.edit_interval_s))
            watched.unobserve(subscription)
        finally:
            writer.close()
            watcher.close()

    def pick_board(self) -> str:
        """A random board of the current pool. With ``board_life_s``, the pool slides: every
        ``board_life_s / boards`` seconds its oldest board retires and a new one joins, so each
        board is used for about ``board_life_s`` (a meeting's board), then left alone."""
        if not self.board_life_s:
            return f"soak-{random.randrange(self.boards)}"
        first = int((time.monotonic() - self.started) / (self.board_life_s / self.boards))
        return f"soak-{first + random.randrange(self.boards)}"

    def take_latencies(self) -> list[float]:
        """Latencies measured since the last call."""
        taken, self.latencies_ms = self.latencies_ms, []
        return taken


def _draw_stroke(doc, key: str) -> None:
    """Add one stroke element; erase the oldest ones past ``LIVE_STROKES_PER_BOARD``."""
    elements = doc.get("elements", type=Map)
    elements[key] = {"type": "stroke", "t": time.time(),
                     "points": [[random.random() * 1000, random.random() * 1000]
                                for _ in range(STROKE_POINTS)]}
    if len(elements) > LIVE_STROKES_PER_BOARD:
        oldest = sorted(elements.items(), key=lambda kv: kv[1]["t"])
        for old_key, _ in oldest[:len(elements) - LIVE_STROKES_PER_BOARD]:
            del elements[old_key]


def main() -> int:
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="syncboard-soak-") as tmp:
        port = _free_port()
        server = _start_server(port, Path(tmp), args)
        try:
            samples, soak = asyncio.run(_drive(port, server.pid, args))
        finally:
            server.terminate()
            server.wait(30)
        log_text = (Path(tmp) / "server.log").read_text()
        database_bytes = sum(f.stat().st_size for f in Path(tmp).glob("soak.db*"))
    summary = _summarise(samples, soak, log_text, args)
    summary["database_bytes_at_end"] = database_bytes
    Path(args.json).write_text(json.dumps(
        {"args": vars(args), "summary": summary, "samples": [asdict(s) for s in samples]},
        indent=1))
    print(json.dumps(summary, indent=1))
    return 0


async def _drive(port: int, pid: int, args) -> tuple[list[Sample], Soak]:
    soak = Soak(f"ws://127.0.0.1:{port}/ws", args.boards, (args.session_min_s,
                args.session_max_s), args.edit_interval_s, args.board_life_s)
    stop = asyncio.Event()
    sessions = [asyncio.create_task(soak.run_sessions(stop)) for _ in range(args.sessions)]
    process = psutil.Process(pid)
    started = time.monotonic()
    samples: list[Sample] = []
    print(_HEADER)
    while time.monotonic() - started < args.minutes * 60:
        await asyncio.sleep(min(args.sample_s, max(args.minutes * 60 - (time.monotonic()
                                                                       - started), 0.1)))
        samples.append(_sample(process, port, soak, time.monotonic() - started))
        print(_row(samples[-1]), flush=True)
        for task in sessions:
            if task.done():  # a session task only ends early on a bug: show it
                task.result()
    stop.set()
    await asyncio.wait_for(asyncio.gather(*sessions), args.session_max_s + 30)
    return samples, soak


def _sample(process: psutil.Process, port: int, soak: Soak, elapsed_s: float) -> Sample:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        health = json.loads(response.read())
    latencies = sorted(soak.take_latencies())
    return Sample(
        elapsed_s=round(elapsed_s, 1), rss_mib=round(process.memory_info().rss / 2**20, 1),
        open_fds=process.num_fds(), boards_loaded=health["boards_loaded"],
        connections=health["connections"], board_loads_total=health["board_loads_total"],
        board_unloads_total=health["board_unloads_total"], edits=soak.edits,
        latency_p50_ms=_percentile(latencies, 0.50), latency_p99_ms=_percentile(latencies, 0.99),
        latency_max_ms=round(latencies[-1], 1) if latencies else None,
        session_errors=soak.session_errors)


def _summarise(samples: list[Sample], soak: Soak, log_text: str, args) -> dict:
    """Figures for BENCHMARKS.md; the plateau compares the last third of the run with the
    middle third (the first third is warm-up: boards and caches filling)."""
    third = max(len(samples) // 3, 1)
    middle = [s.rss_mib for s in samples[third:2 * third]] or [samples[0].rss_mib]
    last = [s.rss_mib for s in samples[-third:]]
    fds = [s.open_fds for s in samples]
    p99s = [s.latency_p99_ms for s in samples if s.latency_p99_ms is not None]
    return {
        "minutes": args.minutes, "samples": len(samples), "edits": soak.edits,
        "rss_mib_first": samples[0].rss_mib, "rss_mib_max": max(s.rss_mib for s in samples),
        "rss_mib_middle_third_mean": round(statistics.mean(middle), 1),
        "rss_mib_last_third_mean": round(statistics.mean(last), 1),
        "rss_growth_last_vs_middle_pct": round(
            (statistics.mean(last) / statistics.mean(middle) - 1) * 100, 1),
        "open_fds_min": min(fds), "open_fds_max": max(fds),
        "boards_loaded_max": max(s.boards_loaded for s in samples),
        "board_loads_total": samples[-1].board_loads_total,
        "board_unloads_total": samples[-1].board_unloads_total,
        "latency_p50_ms_median_of_samples": _median(
            [s.latency_p50_ms for s in samples if s.latency_p50_ms is not None]),
        "latency_p99_ms_worst_sample": max(p99s) if p99s else None,
        "latency_max_ms": max((s.latency_max_ms or 0) for s in samples),
        "session_errors": soak.session_errors, "session_error_kinds": soak.error_kinds,
        "server_error_lines": sum(" ERROR " in line for line in log_text.splitlines()),
    }


_HEADER = (f"{'t_s':>7} {'rss_MiB':>8} {'fds':>5} {'loaded':>6} {'conns':>5} {'loads':>6} "
           f"{'unloads':>7} {'edits':>7} {'p50_ms':>7} {'p99_ms':>7} {'max_ms':>7} {'errs':>4}")


def _row(s: Sample) -> str:
    def ms(value: float | None) -> str:
        return f"{value:7.1f}" if value is not None else f"{'-':>7}"
    return (f"{s.elapsed_s:7.0f} {s.rss_mib:8.1f} {s.open_fds:5d} {s.boards_loaded:6d} "
            f"{s.connections:5d} {s.board_loads_total:6d} {s.board_unloads_total:7d} "
            f"{s.edits:7d} {ms(s.latency_p50_ms)} {ms(s.latency_p99_ms)} "
            f"{ms(s.latency_max_ms)} {s.session_errors:4d}")


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(int(len(ordered) * fraction), len(ordered) - 1)], 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int, tmp: Path, args) -> subprocess.Popen:
    """``python -m backend`` on ``port`` with a fresh database; waits for ``/healthz``."""
    command = [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port),
               "--db", f"sqlite+aiosqlite:///{tmp}/soak.db", "--auth", "none",
               "--data-dir", str(tmp / "data"), "--idle-unload-s", str(args.idle_unload_s),
               "--max-connections-per-ip", str(4 * args.sessions + 10),
               "--max-sockets-per-ip", str(4 * args.sessions + 110)]
    with open(tmp / "server.log", "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited: {(tmp / 'server.log').read_text()}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not answer /healthz within 30 s")


def _parse_args() -> Namespace:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="run length (default 30)")
    parser.add_argument("--boards", type=int, default=200, help="boards to churn over")
    parser.add_argument("--sessions", type=int, default=40,
                        help="concurrent sessions (two connections each)")
    parser.add_argument("--session-min-s", type=float, default=2)
    parser.add_argument("--session-max-s", type=float, default=20)
    parser.add_argument("--edit-interval-s", type=float, default=0.2,
                        help="mean pause between a writer's strokes")
    parser.add_argument("--idle-unload-s", type=float, default=5,
                        help="server's --idle-unload-s (short, so boards unload and reload)")
    parser.add_argument("--board-life-s", type=float, default=0,
                        help="slide the board pool so each board is used for about this long, "
                             "then never again (0: the same boards all run long)")
    parser.add_argument("--sample-s", type=float, default=10, help="sampling period")
    parser.add_argument("--json", default="soak.json", help="where to write the results")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
