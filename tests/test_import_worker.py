"""ImportWorker (``backend/import_worker.py``): a file read and built in the real worker
process gives the update the in-process functions give, its parts make the same board, a
refusal comes back as ``ImportRefused`` naming its path, and a job past the queue is refused
at once with ``ImportBusy``."""

from __future__ import annotations

import asyncio
import json

import pytest
from pycrdt import Doc, Map

from backend.board_model import build_import_parts, read_update
from backend.export.mapping import FileLimits, ImportRefused
from backend.import_worker import ImportBusy, ImportWorker, Prepared

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
