"""HistoryWorker (``backend/history_worker.py``): rebuilds and restores computed in a real
worker process give what the in-process functions give, and a worker that dies fails only
the job it had; ``close`` leaves nothing running."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import zlib
from concurrent.futures.process import _ExecutorManagerThread

import pytest
from pycrdt import Doc, Map

from backend import history_worker
from backend.checked_states import depths_of_mark
from backend.history_worker import HistoryWorker, HistoryWorkerFailed
from backend.restore import build_restore_update
from backend.version_rows import chain_updates, rebuild_state
from tests.worker_processes import NewChildren


def _rows() -> tuple[list[bytes], bytes]:
    """A checkpoint and one delta (deflated, as stored), and the change since them."""
    doc = Doc()
    elements = doc.get("elements", type=Map)
    elements["a"] = Map({"type": "rect", "x": 1.0})
    checkpoint = doc.get_update()
    vector = doc.get_state()
    elements["b"] = Map({"type": "rect", "x": 2.0})
    delta = doc.get_update(vector)
    vector = doc.get_state()
    del elements["a"]
    return [zlib.compress(checkpoint), zlib.compress(delta)], doc.get_update(vector)


@pytest.mark.gen_test(timeout=60)
async def test_the_worker_computes_what_the_process_would_and_survives_a_death():
    rows, since = _rows()
    worker = HistoryWorker(queue_jobs=4, timeout_s=60)
    try:
        assert await worker.rebuild(rows) == rebuild_state(rows)
        update, changed = await worker.restore(rows, since, None)
        assert changed == 1
        live = Doc()
        for part in [*chain_updates(rows), since, update]:
            live.apply_update(part)
        assert sorted(live.get("elements", type=Map).keys()) == ["a", "b"]
        _, expected = build_restore_update(chain_updates(rows), since, None)
        assert expected == changed
        with pytest.raises(ValueError, match="not deflated"):
            await worker.rebuild([b"not zlib", rows[1]])
        with pytest.raises(HistoryWorkerFailed):
            await worker._run(os._exit, 1)  # the worker process dies during a job
        assert await worker.rebuild(rows) == rebuild_state(rows)  # a new one took over
    finally:
        worker.close()


@pytest.mark.gen_test(timeout=60)
async def test_close_kills_a_running_job_and_no_worker_starts_after_it(
        new_children: NewChildren):
    rows, _ = _rows()
    threads_before = set(threading.enumerate())
    worker = HistoryWorker(queue_jobs=4, timeout_s=60)
    assert await worker.rebuild(rows) == rebuild_state(rows)
    (pid,) = new_children()
    os.kill(pid, signal.SIGSTOP)  # a job that would never end
    running = asyncio.ensure_future(worker.rebuild(rows))
    while worker.admitted != 1:
        await asyncio.sleep(0.01)
    worker.close()
    with pytest.raises(HistoryWorkerFailed, match="stopping"):
        await running
    # Nothing is left for the interpreter's exit to wait for: no worker, no pool thread.
    while new_children() or any(isinstance(t, _ExecutorManagerThread)
                                for t in set(threading.enumerate()) - threads_before):
        await asyncio.sleep(0.01)
    worker.warm_up()
    with pytest.raises(HistoryWorkerFailed, match="stopping"):
        await worker.rebuild(rows)
    assert not new_children()


@pytest.mark.gen_test(timeout=120)
async def test_a_checkpoint_mark_waits_for_the_jobs_people_asked_for_and_a_quiet_spell(
        monkeypatch):
    """``mark_checkpoint`` gives the checkpoint's mark the export would make, but only once
    no preview, export or restore has run or waited for ``MARK_AFTER_QUIET_S``: a restore
    asked for meanwhile is not held up by it."""
    monkeypatch.setattr(history_worker, "MARK_AFTER_QUIET_S", 0.5)
    rows, _since = _rows()
    worker = HistoryWorker(queue_jobs=4, timeout_s=60)
    try:
        assert await worker.rebuild(rows) == rebuild_state(rows)  # started, and just ran
        jobs_before = worker.jobs_total
        marking = asyncio.ensure_future(worker.mark_checkpoint(rows[0]))
        rebuilt = await worker.rebuild(rows)  # asked for after the mark: runs first
        assert rebuilt == rebuild_state(rows) and not marking.done()
        assert worker.jobs_total == jobs_before + 1
        mark = await asyncio.wait_for(marking, 60)
        assert worker.jobs_total == jobs_before + 2
        update = chain_updates(rows[:1])[0]
        assert depths_of_mark(update, mark) is not None
        with pytest.raises(ValueError, match="not deflated"):
            await worker.mark_checkpoint(b"not zlib")
    finally:
        worker.close()
