"""Where the server's memory per idle connection goes: tracemalloc inside the server.

Runs ``backend.__main__.serve`` in this process (on uvloop, as ``python -m backend`` does) with
tracemalloc on, connects a first wave of stock y-websocket clients (``loadgen.mjs --mode idle``)
so that one-time allocations are made, takes a snapshot, connects a second wave of N clients on
other boards (C1's shape: 10 clients per board), takes another, and prints the traced bytes per
connection of the second wave grouped by the line that allocated them, with the RSS per
connection beside it. Usage:

    .venv/bin/python scripts/bench/idle_heap.py [--clients 1000] [--top 25] [--frames 1]

``IDLE_HEAP_PER_BOARD`` (default 10) sets the clients per board. With ``--rss``, tracemalloc
stays off and the RSS per connection is printed, before and after
``malloc_trim`` (what the allocator keeps free beside the live objects).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.__main__ import run_loop, serve  # noqa: E402
from backend.memory import release_free_heap  # noqa: E402
from tests.server_process import free_port  # noqa: E402

LOADGEN = Path(__file__).resolve().parent / "loadgen.mjs"
CLIENTS_PER_BOARD = int(os.environ.get("IDLE_HEAP_PER_BOARD", "10"))


async def _wave(port: int, prefix: str, clients: int) -> asyncio.subprocess.Process:
    """Start a load generator holding ``clients`` idle clients; return once all synced."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(LOADGEN),
        "--url",
        f"ws://127.0.0.1:{port}/ws",
        "--mode",
        "idle",
        "--board-prefix",
        prefix,
        "--boards",
        str(clients // CLIENTS_PER_BOARD),
        "--clients",
        str(CLIENTS_PER_BOARD),
        "--hold-s",
        "3600",
        "--connect-batch",
        "100",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _waves.append(proc)
    while line := await proc.stderr.readline():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "connected":
            if event["unsynced"]:
                raise RuntimeError(f"{event['unsynced']} clients did not sync")
            return proc
    raise RuntimeError("the load generator ended before its clients connected")


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    folder = Path(tempfile.mkdtemp())
    server = asyncio.create_task(
        serve(
            [
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--db",
                f"sqlite+aiosqlite:///{folder}/heap.db",
                "--data-dir",
                str(folder),
                "--auth",
                "none",
                "--log-level",
                "WARNING",
                "--max-connections",
                "20000",
                "--max-connections-per-ip",
                "20000",
                "--max-sockets-per-ip",
                "20000",
            ]
        )
    )
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        break
    try:
        await _measure(port, args)
    finally:
        for proc in _waves:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        os.kill(os.getpid(), 15)
        await server


_waves: list[asyncio.subprocess.Process] = []


async def _measure(port: int, args: argparse.Namespace) -> None:
    if args.rss:
        await _measure_rss(port, args.clients, args.warm or args.clients)
        return
    process = psutil.Process()
    tracemalloc.start(args.frames)
    await _wave(port, "warm", args.warm or args.clients)
    await asyncio.sleep(3)
    gc.collect()
    before, rss_before = tracemalloc.take_snapshot(), process.memory_info().rss
    await _wave(port, "idle", args.clients)
    await asyncio.sleep(3)
    gc.collect()
    after, rss_after = tracemalloc.take_snapshot(), process.memory_info().rss
    stats = after.compare_to(before, "traceback" if args.frames > 1 else "lineno")
    total = sum(stat.size_diff for stat in stats)
    n = args.clients
    print(
        f"{n} idle connections: traced {total / n / 1024:.2f} KiB each, "
        f"RSS {(rss_after - rss_before) / n / 1024:.2f} KiB each (tracemalloc's own "
        f"bookkeeping included in RSS)"
    )
    for stat in stats[: args.top]:
        if stat.size_diff <= 0:
            continue
        print(
            f"{stat.size_diff / n:8.0f} B  {stat.count_diff / n:6.2f} blocks  "
            + " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(stat.traceback))
        )


async def _measure_rss(port: int, clients: int, warm: int) -> None:
    """RSS per connection without tracemalloc, then again after ``malloc_trim``: what the
    allocator holds free beside the live objects."""
    process = psutil.Process()
    rss_start = process.memory_info().rss
    await _wave(port, "warm", warm)
    await asyncio.sleep(3)
    gc.collect()
    rss_warm = process.memory_info().rss
    release_free_heap()
    rss_before = process.memory_info().rss
    print(
        f"first {warm} idle connections: RSS {(rss_warm - rss_start) / warm / 1024:.2f} "
        f"KiB each, {(rss_before - rss_start) / warm / 1024:.2f} KiB after malloc_trim"
    )
    await _wave(port, "idle", clients)
    await asyncio.sleep(3)
    gc.collect()
    rss_after = process.memory_info().rss
    release_free_heap()
    rss_trimmed = process.memory_info().rss
    print(
        f"{clients} idle connections: RSS {(rss_after - rss_before) / clients / 1024:.2f} KiB "
        f"each, {(rss_trimmed - rss_before) / clients / 1024:.2f} KiB after malloc_trim"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--rss", action="store_true", help="RSS only, without tracemalloc")
    parser.add_argument("--warm", type=int, default=0, help="clients of the first wave")
    run_loop(main(parser.parse_args()))
