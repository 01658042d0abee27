"""The import worker's memory cap (``--import-worker-memory-bytes``), against a real server
process: a file whose reading needs more than the cap is refused with 413 and a reason, logged
at WARNING, only the worker is replaced, and the next import works; meanwhile ``/healthz``
answers within 200 ms and a board elsewhere keeps syncing (issues 15 and 18)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.liveness import Bystanders, HealthProbe
from tests.faults.test_import_cap import post_import, strokes_board
from tests.worker_processes import only_worker

MIB = 1024 * 1024
CAP = 160 * MIB
"""The worker's address space is 122-124 MiB once it has read a first small file; reading
the 7.6 MiB file below (1,999,991 numbers, under the value cap, in a field the schema refuses)
takes it to 212 MiB without a cap (measured), so the cap is passed with a margin either way.
A small body keeps the server's own share (joining the body's chunks on the event loop: 74-137
ms for 63 MiB under ``nice -n 19`` at load 7) out of the ``/healthz`` budget."""
NUMBERS = b'{"schemaVersion": 1, "meta": {}, "elements": [], "x": [' + b"0.1," * 1_999_990 \
    + b"1]}"


@pytest.mark.gen_test(timeout=300)
async def test_an_import_past_the_worker_memory_cap_gets_413_and_the_next_import_works(
        server_process):
    server = server_process(import_worker_memory_bytes=CAP)
    status, body = post_import(server.base_url, "first", strokes_board(5))
    assert status == 200, body  # the worker is up
    first_worker = only_worker(server.proc.pid)
    bystanders = await Bystanders(server.ws_url).start()
    with HealthProbe(server.base_url) as probe:
        posting = asyncio.ensure_future(
            asyncio.to_thread(post_import, server.base_url, "capped", NUMBERS))
        while not posting.done():
            await bystanders.check()
            await asyncio.sleep(0.2)
        status, body = await posting
        await bystanders.check()
    probe.assert_fast()
    assert status == 413, body
    assert body["detail"] == (
        "reading and building this file needs more memory than the import worker's cap of "
        f"{CAP} bytes (--import-worker-memory-bytes); nothing was written")
    assert f"WARNING backend.export_handlers: board capped: import refused: {body['detail']}" \
        in server.log()
    status, body = post_import(server.base_url, "capped", strokes_board(20))
    assert status == 200 and body["elements"] == 20, body
    assert only_worker(server.proc.pid) != first_worker  # replaced, the server never restarted
    assert server.proc.poll() is None and server.starts == 1
    bystanders.close()
