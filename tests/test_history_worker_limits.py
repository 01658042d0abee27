"""The history worker's limits through a real server (``backend/history_worker.py`` behind
``GET .../versions/<vid>/update`` and ``POST .../restore``): a bounded queue (503 with
``Retry-After``; ``/healthz`` answers within 200 ms throughout the flood), a time limit per
job (504, the worker replaced), a memory cap (422, the worker replaced), a worker killed with
jobs queued (only its job fails).

The worker is held still with SIGSTOP where a test needs jobs to pile up behind it, and the
slow job is a genuinely big rebuild (20,000 elements and 8 deltas) against a tiny limit of
time or memory."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from pycrdt import Doc, Map, Text

from tests.export_helpers import base_url, fetch, fetch_json
from tests.faults.liveness import HealthProbe
from tests.worker_processes import NewChildren, spawned_children

ONLY_HISTORY = {"precheck_worker_bytes": 0}
"""The pre-check worker off (big logs are merged on the loop): these tests count the history
worker's process, and the pre-check worker is a spawn child too."""


def _one_worker(new_children: NewChildren) -> int:
    pids = new_children()
    assert len(pids) == 1, pids
    return pids.pop()


async def _save(base: str, board: str) -> int:
    code, body = await fetch_json(f"{base}/api/boards/{board}/versions", method="POST",
                                  body=json.dumps({"label": ""}))
    assert code == 201, body
    return body["id"]


async def _two_row_version(server, yclient, board: str) -> int:
    """A version of ``board`` made of a checkpoint and a delta (so it is rebuilt in the
    worker), holding elements ``a`` and ``b``."""
    base = base_url(server)
    client = await yclient(server, board)
    await client.put("a", Map({"type": "rect", "x": 1.0}))
    await client.wait_for(lambda: board in server.registry.rooms and len(
        server.registry.rooms[board].document.doc.get("elements", type=Map)) == 1)
    await _save(base, board)
    await client.put("b", Map({"type": "rect", "x": 2.0}))
    await client.wait_for(lambda: len(
        server.registry.rooms[board].document.doc.get("elements", type=Map)) == 2)
    vid = await _save(base, board)
    assert len(await server.store.load_version(board, vid)) == 2
    return vid


def _keys(update: bytes) -> list[str]:
    doc = Doc()
    doc.apply_update(update)
    return sorted(doc.get("elements", type=Map).keys())


async def _preview(base: str, board: str, vid: int):
    return await fetch(f"{base}/api/boards/{board}/versions/{vid}/update")


async def _admitted(server, count: int) -> None:
    worker = server.registry.versions.worker
    deadline = asyncio.get_running_loop().time() + 30
    while worker.admitted != count:
        assert asyncio.get_running_loop().time() < deadline, worker.admitted
        await asyncio.sleep(0.01)


async def _gone(pid: int) -> None:
    """Wait until the worker ``pid`` has ended (a signal is delivered asynchronously)."""
    deadline = asyncio.get_running_loop().time() + 10
    while pid in spawned_children():
        assert asyncio.get_running_loop().time() < deadline, f"worker {pid} still runs"
        await asyncio.sleep(0.01)


@pytest.mark.gen_test(timeout=120)
async def test_a_flood_of_previews_gets_503_with_retry_after_and_a_preview_works_after(
        sb_server, yclient, new_children):
    server = await sb_server(history_queue_jobs=2, **ONLY_HISTORY)
    base = base_url(server)
    vid = await _two_row_version(server, yclient, "flood")
    assert (await _preview(base, "flood", vid)).code == 200  # the worker is up
    worker_pid = _one_worker(new_children)
    os.kill(worker_pid, signal.SIGSTOP)  # the running job cannot end: the others queue
    try:
        async with HealthProbe(base) as probe:
            held = [asyncio.ensure_future(_preview(base, "flood", vid)) for _ in range(3)]
            await _admitted(server, 3)  # one running, two queued: full
            flood = await asyncio.gather(*(_preview(base, "flood", vid) for _ in range(20)),
                                         _preview(base, "flood", 1))  # a checkpoint alone
        probe.assert_fast()
        assert {r.code for r in flood} == {503}
        assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in flood)
        assert "running or queued (limit 3)" in json.loads(flood[0].body)["detail"]
        code, body = await fetch_json(f"{base}/api/boards/flood/versions/{vid}/restore",
                                      method="POST", body=b"")
        assert code == 503, body
        _, listed = await fetch_json(f"{base}/api/boards/flood/versions")
        assert "before-restore" not in [v["kind"] for v in listed["versions"]]
    finally:
        os.kill(worker_pid, signal.SIGCONT)
    assert [r.code for r in await asyncio.gather(*held)] == [200, 200, 200]
    after = await _preview(base, "flood", vid)
    assert after.code == 200 and _keys(after.body) == ["a", "b"]
    assert server.registry.versions.worker.refused_total == 22


async def _big_version(server, yclient, board: str) -> int:
    """A version of ``board`` rebuilt from a checkpoint of 20,000 stickies and 8 deltas each
    moving all of them: about 1.3 s of merging and +150 MiB of address space in the worker."""
    base = base_url(server)
    big = await yclient(server, board)
    count = 20_000

    def draw(doc: Doc) -> None:
        elements = doc.get("elements", type=Map)
        for i in range(count):
            elements[f"e{i}"] = Map({"type": "sticky", "x": float(i), "y": 1.0, "w": 40.0,
                                     "h": 30.0, "z": f"a{i}", "text": Text(f"note {i}")})

    def move(step: float):
        def change(doc: Doc) -> None:
            elements = doc.get("elements", type=Map)
            for i in range(count):
                elements[f"e{i}"]["x"] = step
        return change

    def caught_up() -> bool:
        room = server.registry.rooms.get(board)
        return room is not None and room.document.doc.get_state() == big.doc.get_state()

    await big.edit(draw)
    await big.wait_for(caught_up, timeout_s=60)
    await _save(base, board)
    for step in range(8):
        await big.edit(move(float(step)))
        await big.wait_for(caught_up, timeout_s=60)
        vid = await _save(base, board)
    assert len(await server.store.load_version(board, vid)) == 9
    return vid


BIG_BOARD = {"max_message_bytes": 16 << 20, "rate_burst_bytes": 64 << 20}
"""Server options letting ``_big_version``'s first edit (about 2 MiB) through."""


async def _small_and_big_versions(server, yclient,
                                  new_children: NewChildren) -> tuple[str, int, int, int]:
    """The server's base URL, a two-row version of board "small" (previewed once, so the
    worker is up), a ``_big_version`` of board "big", and the worker's pid."""
    base = base_url(server)
    small = await _two_row_version(server, yclient, "small")
    vid = await _big_version(server, yclient, "big")
    assert (await _preview(base, "small", small)).code == 200  # the worker is up
    return base, small, vid, _one_worker(new_children)


@pytest.mark.slow
@pytest.mark.gen_test(timeout=240)
async def test_a_rebuild_past_the_time_limit_answers_504_and_the_next_preview_works(
        sb_server, yclient, new_children):
    server = await sb_server(history_timeout_s=0.1, **BIG_BOARD, **ONLY_HISTORY)
    base, small, vid, first_worker = await _small_and_big_versions(server, yclient,
                                                                   new_children)

    slow = await _preview(base, "big", vid)
    assert slow.code == 504
    assert json.loads(slow.body)["detail"] == (
        "rebuilding this version took longer than 0.1 s (the server's --history-timeout-s) "
        "and was stopped")
    await _gone(first_worker)  # killed
    after = await _preview(base, "small", small)
    assert after.code == 200 and _keys(after.body) == ["a", "b"]
    assert _one_worker(new_children) != first_worker


HISTORY_CAP = 128 * 1024 * 1024
"""A cap the two-row version's rebuild fits in (the worker's address space: 34 MiB started)
and ``_big_version``'s does not (188 MiB without a cap)."""


@pytest.mark.slow
@pytest.mark.gen_test(timeout=240)
async def test_a_rebuild_past_the_memory_cap_answers_422_and_the_next_preview_works(
        sb_server, yclient, caplog, new_children):
    server = await sb_server(history_worker_memory_bytes=HISTORY_CAP, **BIG_BOARD,
                             **ONLY_HISTORY)
    base, small, vid, first_worker = await _small_and_big_versions(server, yclient,
                                                                   new_children)

    refused = await _preview(base, "big", vid)
    assert refused.code == 422, refused.body
    detail = json.loads(refused.body)["detail"]
    assert detail.startswith("rebuilding this version ")
    assert detail.endswith(f"the history worker's memory cap of {HISTORY_CAP} bytes (the "
                           "server's --history-worker-memory-bytes)")
    assert any(r.levelname == "WARNING" and detail in r.getMessage() for r in caplog.records)
    await _gone(first_worker)  # replaced
    after = await _preview(base, "small", small)
    assert after.code == 200 and _keys(after.body) == ["a", "b"]
    assert _one_worker(new_children) != first_worker


@pytest.mark.gen_test(timeout=120)
async def test_a_worker_killed_with_jobs_queued_fails_only_its_job(sb_server, yclient,
                                                                   new_children):
    server = await sb_server(**ONLY_HISTORY)
    base = base_url(server)
    vid = await _two_row_version(server, yclient, "killed")
    assert (await _preview(base, "killed", vid)).code == 200
    worker_pid = _one_worker(new_children)
    os.kill(worker_pid, signal.SIGSTOP)
    running = asyncio.ensure_future(_preview(base, "killed", vid))
    await _admitted(server, 1)
    queued = [asyncio.ensure_future(_preview(base, "killed", vid)) for _ in range(2)]
    await _admitted(server, 3)
    os.kill(worker_pid, signal.SIGKILL)
    died = await running
    assert died.code == 503
    assert "the history worker process died" in json.loads(died.body)["detail"]
    for answer in await asyncio.gather(*queued):  # run by the worker that replaced it
        assert answer.code == 200 and _keys(answer.body) == ["a", "b"]
    later = await _preview(base, "killed", vid)
    assert later.code == 200 and _keys(later.body) == ["a", "b"]
    second_pid = _one_worker(new_children)
    assert second_pid != worker_pid
    os.kill(second_pid, signal.SIGKILL)  # between jobs: the next job starts a new worker
    await _gone(second_pid)
    again = await _preview(base, "killed", vid)
    assert again.code == 200 and _keys(again.body) == ["a", "b"]


@pytest.mark.gen_test(timeout=120)
async def test_a_worker_aborted_under_its_memory_cap_answers_422_and_the_next_job_works(
        sb_server, yclient, new_children):
    """Rust aborts the process when an allocation fails (SIGABRT); sent here by hand, so the
    exit code read through ``ProcessPoolExecutor._processes`` is checked every time (without
    it the answer would be the 503 of a worker that died)."""
    server = await sb_server(history_worker_memory_bytes=HISTORY_CAP, **ONLY_HISTORY)
    base = base_url(server)
    vid = await _two_row_version(server, yclient, "aborted")
    assert (await _preview(base, "aborted", vid)).code == 200
    worker_pid = _one_worker(new_children)
    os.kill(worker_pid, signal.SIGSTOP)
    running = asyncio.ensure_future(_preview(base, "aborted", vid))
    await _admitted(server, 1)
    os.kill(worker_pid, signal.SIGABRT)
    os.kill(worker_pid, signal.SIGCONT)
    aborted = await running
    assert aborted.code == 422, aborted.body
    assert json.loads(aborted.body)["detail"] == (
        "rebuilding this version ended, most likely past the history worker's memory cap of "
        f"{HISTORY_CAP} bytes (the server's --history-worker-memory-bytes)")
    later = await _preview(base, "aborted", vid)
    assert later.code == 200 and _keys(later.body) == ["a", "b"]
    assert _one_worker(new_children) != worker_pid
