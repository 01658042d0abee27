"""memory: ``release_free_heap`` gives freed heap pages back (glibc), measured by RSS; a
started server keeps its start-up heap out of the cycle collector (``freeze_start_up_heap``)."""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from backend.memory import release_free_heap
from tests.server_process import free_port

ROOT = Path(__file__).resolve().parent.parent

# Runs the server's own entry point (``serve``) in a fresh interpreter: once the port takes
# connections (start-up done), report what the collector holds, then stop it with SIGTERM.
SERVE_AND_REPORT = """
import asyncio, gc, json, signal, sys
from backend.__main__ import serve

async def main():
    task = asyncio.create_task(serve(sys.argv[2:]))
    while not task.done():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
        except OSError:
            await asyncio.sleep(0.05)  # not listening yet
            continue
        writer.close()
        break
    report = {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
    signal.raise_signal(signal.SIGTERM)
    report["exit"] = await task
    print(json.dumps(report))

asyncio.run(main())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trimming_returns_the_holes_left_by_freed_blocks():
    process = psutil.Process()
    blocks = [bytes(2048) for _ in range(40_000)]  # ~80 MiB from malloc (over 512 bytes each)
    kept = blocks[::20]  # every 20th survives, so free() alone cannot shrink the heap
    del blocks
    gc.collect()
    before = process.memory_info().rss
    assert release_free_heap()
    after = process.memory_info().rss
    assert before - after > 40 * 2**20, f"RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB"
    assert len(kept) == 2_000


def test_a_started_server_keeps_its_start_up_heap_out_of_the_collector(tmp_path):
    """The modules, schema and pools alive once the server listens are frozen: a full
    collection during the first burst of clients does not walk them (BENCHMARKS.md, C2)."""
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-c", SERVE_AND_REPORT, str(port), "--host", "127.0.0.1", "--port",
         str(port), "--db", f"sqlite+aiosqlite:///{tmp_path}/board.db", "--auth", "none",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["exit"] == 0
    assert report["frozen"] > 10 * report["tracked"], report  # nearly all of it, frozen
