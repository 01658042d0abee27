"""ImportWorker (``backend/import_worker.py``): a file read and built in the real worker
process gives the update the in-process functions give, its parts make the same board, a
refusal comes back as ``ImportRefused`` naming its path, a job past the queue is refused
at once with ``ImportBusy``, and a job past the worker's memory cap with ``ImportOutOfMemory``
(the worker replaced, the next job done)."""

from __future__ import annotations

import asyncio
import json

import pytest
from pycrdt import Doc, Map

from backend.board_model import build_import_parts, read_update
from backend.export.mapping import FileLimits, ImportRefused
from backend.import_worker import ImportBusy, ImportOutOfMemory, ImportWorker, Prepared
from tests.worker_processes import spawned_children

LIMITS = FileLimits(10 * 1024 * 1024, 100_000_000)


def _file(count: int) -> bytes:
    return json.dumps({"schemaVersion": 2, "meta": {}, "elements": [
        {"id": f"r{i}", "type": "rect", "x": i, "y": 0, "w": 10, "h": 10, "z": f"a{i:04d}"}
        for i in range(count)]}).encode()


def test_the_parts_applied_in_order_make_the_board_the_one_update_makes():
    data = json.loads(_file(450))
    update, parts = build_import_parts(data, None, part_elements=200)
    assert len(parts) == 4  # the meta, then 200, 200 and 50 elements
    whole, pieces = Doc(), Doc()
    whole.apply_update(update)
    for part in parts:
        pieces.apply_update(part)
    assert read_update(pieces.get_update()).to_json() == read_update(update).to_json()
    assert len(whole.get("elements", type=Map)) == 450


@pytest.mark.gen_test(timeout=120)
async def test_the_worker_builds_refuses_by_path_and_bounds_its_queue():
    worker = ImportWorker(queue_jobs=0)
    try:
        prepared = await worker.prepare(bytearray(_file(300)), LIMITS, b"", True, False)
        assert isinstance(prepared, Prepared)
        assert (prepared.kind, prepared.elements, prepared.board) == ("syncboard", 300, None)
        assert read_update(prepared.update).to_json() == \
            read_update(build_import_parts(json.loads(_file(300)))[0]).to_json()
        with pytest.raises(ImportRefused) as refused:
            await worker.prepare(b'{"schemaVersion": 2, "meta": {}, '
                                 b'"elements": [{"type": "rect"}]}', LIMITS, b"", True, False)
        assert refused.value.path == "$.elements[0]"
        # Tasks start in order: the first is running in the worker when the second asks.
        first, second = await asyncio.gather(
            worker.prepare(_file(10), LIMITS, b"", True, True),
            worker.prepare(_file(10), LIMITS, b"", True, True), return_exceptions=True)
        assert isinstance(first, Prepared) and first.board is not None
        assert isinstance(second, ImportBusy) and second.retry_after_s >= 1
        assert worker.refused_total == 1
    finally:
        worker.close()


async def _gone(pids: set[int]) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while pids & spawned_children():
        assert asyncio.get_running_loop().time() < deadline, f"{pids} still run"
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=180)
async def test_a_job_past_the_memory_cap_is_refused_and_the_next_job_runs_in_a_new_worker():
    """Both ways an allocation fails under ``RLIMIT_AS``: in Python (a ``MemoryError`` while
    parsing 2,000,000 numbers) and in pycrdt (Rust aborts the process building 20,000
    rectangles). The worker starts at 122-124 MiB; either file needs over 200 MiB."""
    cap = 160 * 1024 * 1024
    worker = ImportWorker(memory_bytes=cap)
    numbers = b'{"schemaVersion": 1, "meta": {}, "elements": [], "x": [' + b"0.1," * 1_999_990 \
        + b"1]}"
    try:
        for body, words in ((numbers, "needs more memory than the import worker's cap of "
                                      f"{cap} bytes (--import-worker-memory-bytes)"),
                            (_file(20_000), "the import worker process ended while reading "
                                            f"this file, most likely past the import worker's "
                                            f"cap of {cap} bytes")):
            assert (await worker.prepare(_file(3), LIMITS, b"", True, False)).elements == 3
            before = spawned_children()
            with pytest.raises(ImportOutOfMemory) as refused:
                await worker.prepare(body, LIMITS, b"", True, False)
            assert words in str(refused.value) and "nothing was written" in str(refused.value)
            assert (await worker.prepare(_file(3), LIMITS, b"", True, False)).elements == 3
            await _gone(before)  # the old worker ends; a new one did that job
    finally:
        worker.close()
