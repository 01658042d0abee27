"""The import worker's queue bound over HTTP, against a real server process: with one import
running and two waiting (``backend/import_worker.py``, ``QUEUE_JOBS``), a fourth is answered
503 with ``Retry-After`` and a reason at once, writes nothing, and the waiting ones still
succeed; meanwhile ``/healthz`` answers within 200 ms and a board elsewhere keeps syncing.

The worker process is held still with SIGSTOP so that imports pile up behind it. Each admitted
import holds one temporary file (its body, spilled for the worker) in the server's ``TMPDIR``,
which is how the test knows all three are in."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from tests.faults.liveness import Bystanders, HealthProbe
from tests.faults.test_import_cap import post_import, strokes_board
from tests.faults.test_png_export import request
from tests.worker_processes import only_worker

REFUSED_WITHIN_S = 20
"""A refusal needs no worker: it comes at once (an admitted import, with the worker stopped,
would wait until the test lets it go)."""


async def _admitted(spill: Path, count: int) -> None:
    """Wait until ``count`` imports hold a body spilled for the worker."""
    deadline = asyncio.get_running_loop().time() + 60
    while len(list(spill.glob("syncboard-import-*"))) != count:
        assert asyncio.get_running_loop().time() < deadline, list(spill.iterdir())
        await asyncio.sleep(0.02)


@pytest.mark.gen_test(timeout=300)
async def test_a_fourth_import_while_three_are_in_gets_503_with_retry_after(
        server_process, tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    server = server_process(env={"TMPDIR": str(spill)})
    status, body = post_import(server.base_url, "queue0", strokes_board(5))
    assert status == 200, body  # the worker is up
    worker = only_worker(server.proc.pid)
    bystanders = await Bystanders(server.ws_url).start()
    os.kill(worker, signal.SIGSTOP)  # the running import cannot end: the others wait
    try:
        with HealthProbe(server.base_url) as probe:
            held = [asyncio.ensure_future(asyncio.to_thread(
                post_import, server.base_url, f"queue{i}", strokes_board(5)))
                for i in (1, 2, 3)]
            await _admitted(spill, 3)  # one running, two waiting: full
            answering = asyncio.ensure_future(asyncio.to_thread(
                request, f"{server.base_url}/api/boards/refused/import",
                json.dumps(strokes_board(5)).encode(), {"Content-Type": "application/json"}))
            done, _ = await asyncio.wait([answering], timeout=REFUSED_WITHIN_S)
            assert done, (f"the fourth import got no answer within {REFUSED_WITHIN_S} s: "
                          "it was queued, not refused")
            refused = answering.result()
            await bystanders.check()
        probe.assert_fast()
    finally:
        os.kill(worker, signal.SIGCONT)
    code, headers, answer = refused
    assert code == 503, answer
    assert 1 <= int(headers["Retry-After"]) <= 120
    assert json.loads(answer)["detail"] == ("3 imports are running or queued (limit 3); try "
                                            "again shortly")
    for status, body in await asyncio.gather(*held):
        assert status == 200 and body["elements"] == 5, body
    assert not list(spill.iterdir())  # every spilled body was removed
    assert request(f"{server.base_url}/api/boards/refused")[0] == 404  # nothing written
    status, body = post_import(server.base_url, "refused", strokes_board(5))
    assert status == 200, body
    bystanders.close()
