"""A server's worker processes do not outlive it (``worker_pool.exit_with_parent``), against a
real server process: once the pre-check, history, import and PNG workers run, a SIGKILL of
the server (the OOM killer, an operator, a crash) ends every one of them within seconds, and
so does a normal SIGTERM stop."""

from __future__ import annotations

import asyncio
import json
import time

import psutil
import pytest

from tests.faults.test_png_export import export_png, make_board, request
from tests.yclient import YClient

GONE_WAIT_S = 15.0
"""Longest the workers may take to end once the server is gone (they take about 1 s)."""


async def _start_every_worker(server) -> list[psutil.Process]:
    """The server's child processes, once its pre-check, history, import and PNG workers
    all run."""
    make_board(server, "board")  # the import worker
    status, _, body = export_png(server, "board", side=100)  # the PNG worker
    assert status == 200, body
    status, _, body = request(f"{server.base_url}/api/boards/board/versions",
                              json.dumps({"label": "v"}).encode(),
                              {"Content-Type": "application/json"})
    assert status == 201, body
    status, _, body = request(f"{server.base_url}/api/boards/board/versions")
    assert status == 200, body  # listing versions starts the history worker
    client = await YClient(f"{server.ws_url}/big").sync()
    await client.put("big", "x" * 8192)  # past --precheck-worker-bytes: the pre-check worker
    deadline = time.monotonic() + 60
    while True:
        children = psutil.Process(server.proc.pid).children(recursive=True)
        kinds = [_kind(child) for child in children]
        if kinds.count("spawn") >= 3 and "png" in kinds:
            client.close()
            return children
        assert time.monotonic() < deadline, f"workers did not all start: {kinds}"
        await asyncio.sleep(0.05)


def _kind(process: psutil.Process) -> str:
    """"spawn" (a pool worker), "png" (a raster worker) or the command line."""
    try:
        cmdline = " ".join(process.cmdline())
    except psutil.Error:
        return "gone"
    if "spawn_main" in cmdline:
        return "spawn"
    return "png" if "raster_worker" in cmdline else cmdline


def _survivors(processes: list[psutil.Process]) -> list[str]:
    """Those of ``processes`` still running (a zombie has ended), with their command lines."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid}: {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return alive


async def _wait_gone(processes: list[psutil.Process]) -> float:
    """Seconds until every one of ``processes`` has ended; fails listing the survivors."""
    start = time.monotonic()
    while survivors := _survivors(processes):
        assert time.monotonic() - start < GONE_WAIT_S, \
            f"workers outlived their server by {GONE_WAIT_S} s: {survivors}"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.gen_test(timeout=300)
async def test_workers_end_soon_after_their_server_is_killed(server_process):
    server = server_process(precheck_worker_bytes=4096)
    workers = await _start_every_worker(server)
    server.kill()
    waited = await _wait_gone(workers)
    print(f"{len(workers)} workers gone {waited:.2f} s after SIGKILL")


@pytest.mark.gen_test(timeout=300)
async def test_workers_end_with_a_server_stopped_normally(server_process):
    server = server_process(precheck_worker_bytes=4096)
    workers = await _start_every_worker(server)
    assert server.stop() == 0
    await _wait_gone(workers)
