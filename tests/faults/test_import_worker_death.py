"""How the import worker died decides the answer, against a real server process with a memory
cap set (``backend/import_worker.py``, ``backend/worker_pool.py``): killed mid-import from
outside (SIGKILL: the OOM killer, an operator) is 503, a crash (SIGSEGV) 500, each with its
reason and an ERROR line, and only an abort (SIGABRT, Rust's failed allocation) is the 413 of
a file past the cap. Each time nothing is written, only the worker is replaced, the next
import works, ``/healthz`` answers within 200 ms and a board elsewhere keeps syncing; a worker
killed between imports is replaced for the next one without failing it.

The worker is signalled once it has spent CPU time on the import (an idle worker spends
none), so the job is in it, not waiting on its way there."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest

from tests.faults.liveness import Bystanders, HealthProbe
from tests.faults.test_import_cap import post_import, strokes_board
from tests.faults.test_png_export import request
from tests.worker_processes import only_worker

MIB = 1024 * 1024
CAP = 1024 * MIB
BIG = json.dumps(strokes_board(3_000)).encode()
"""About 3 MiB of update: a second or more of work in the worker, under every cap (made once:
building it in the test's process took CPU from the server on a loaded machine)."""
DETAILS = {
    signal.SIGKILL: (503, "the import worker process was killed by SIGKILL while reading this "
                          "file (the kernel's OOM killer or an operator); nothing was written; "
                          "try again"),
    signal.SIGSEGV: (500, "the import worker process was killed by SIGSEGV while reading this "
                          "file; nothing was written (see the server log)"),
    signal.SIGABRT: (413, "the import worker process ended while reading this file, most "
                          f"likely past the import worker's cap of {CAP} bytes "
                          "(--import-worker-memory-bytes); nothing was written"),
}


def _cpu_ticks(pid: int) -> int:
    """User plus system CPU time of ``pid``, in clock ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def _working(pid: int, since: int) -> None:
    """Wait until ``pid`` has spent a tenth of a second of CPU since ``since`` ticks."""
    ticks = os.sysconf("SC_CLK_TCK") // 10
    deadline = asyncio.get_running_loop().time() + 60
    while _cpu_ticks(pid) - since < ticks:
        assert asyncio.get_running_loop().time() < deadline, "the worker never started it"
        await asyncio.sleep(0.01)


def _state(pid: int) -> str:
    """The process state letter of ``pid`` ("" once it is reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return ""


async def _gone(pid: int) -> None:
    """Wait until ``pid`` has ended: a zombie, or reaped (a process still tearing down has
    lost its command line already, but its parent cannot see its exit yet)."""
    deadline = asyncio.get_running_loop().time() + 30
    while _state(pid) not in ("", "Z", "X"):
        assert asyncio.get_running_loop().time() < deadline, f"worker {pid} still runs"
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=300)
async def test_a_worker_killed_or_crashed_mid_import_is_not_called_past_the_cap(
        server_process):
    server = server_process(import_worker_memory_bytes=CAP)
    status, body = post_import(server.base_url, "first", strokes_board(5))
    assert status == 200, body  # the worker is up
    bystanders = await Bystanders(server.ws_url).start()
    with HealthProbe(server.base_url) as probe:
        for signum, (code, detail) in DETAILS.items():
            board = f"died-{signum.name.lower()}"
            worker = only_worker(server.proc.pid)
            idle = _cpu_ticks(worker)
            posting = asyncio.ensure_future(asyncio.to_thread(post_import, server.base_url,
                                                              board, BIG))
            await _working(worker, idle)
            os.kill(worker, signum)
            status, body = await posting
            assert (status, body["detail"]) == (code, detail), body
            assert request(f"{server.base_url}/api/boards/{board}")[0] == 404  # nothing written
            status, body = post_import(server.base_url, board, strokes_board(20))
            assert status == 200 and body["elements"] == 20, body
            assert only_worker(server.proc.pid) != worker  # replaced
            await bystanders.check()
        worker = only_worker(server.proc.pid)
        os.kill(worker, signal.SIGKILL)  # between imports: the next one gets a new worker
        await _gone(worker)
        status, body = post_import(server.base_url, "after-idle-kill", strokes_board(5))
        assert status == 200, body
        await bystanders.check()
    probe.assert_fast()
    log = server.log()
    assert "ERROR backend.import_worker: the import worker process was killed by SIGKILL " \
        "during a job" in log
    assert "ERROR backend.import_worker: the import worker process was killed by SIGSEGV " \
        "during a job" in log
    assert f"WARNING backend.export_handlers: board died-sigabrt: import refused: " \
        f"{DETAILS[signal.SIGABRT][1]}" in log
    assert server.proc.poll() is None and server.starts == 1
    bystanders.close()
