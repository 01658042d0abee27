"""Crash while versions are written and thinned: SIGKILL, then the history lists and every
version rebuilds and exports.

With ``--history-interval-s 0.05`` and retention windows of 0 s, every automatic version is
followed by a thinning that folds an older one into its successor, back to back while a
client draws; each server life is killed at a random moment within 0.3 s after its first
thinning was logged, so kills land inside version writes, thinnings or between them (not
detected individually). A named version saved before the kill must come back exactly.
"""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from pycrdt import Array, Map
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from backend.board_model import read_update
from backend.store import open_store
from backend.version_rows import rebuild_state
from tests.export_helpers import fetch_json
from tests.faults.clients import wait_until
from tests.yclient import YClient

BOARD = "history-crash"
KILLS = 2


async def draw_until_killed(client: YClient, life: int) -> None:
    """40-point strokes, every third erased, until the socket closes."""
    n = 0
    while not client.closed.is_set():
        def change(doc, n=n) -> None:
            elements = doc.get("elements", type=Map)
            elements[f"l{life}-{n}"] = Map({"type": "stroke", "z": f"a{life}{n:06d}",
                                            "points": Array([float(i) for i in range(40)])})
            if n % 3 == 2:
                del elements[f"l{life}-{n - 1}"]
        try:
            await client.edit(change)
        except (StreamClosedError, WebSocketClosedError):
            return
        n += 1
        await asyncio.sleep(0.005)  # pacing only


def thinnings_logged(log_text: str, life: int) -> int:
    section = log_text.split(f"--- start {life}:")[1].split("--- start ")[0]
    return section.count(f"thinned the history of board {BOARD}")


async def check_history(db_url: str, named: dict[int, dict]) -> int:
    """Every version lists, rebuilds and reads; the named ones as they were. Returns how
    many versions there are."""
    store = await open_store(db_url)
    try:
        listed = await store.list_versions(BOARD, 10_000)
        ids = {v.id for v in listed}
        assert named.keys() <= ids, "a committed named version is gone"
        for version in listed:
            content = read_update(rebuild_state(await store.load_version(BOARD, version.id)))
            if version.id in named:
                assert content.to_json() == named[version.id]
            assert len(content.elements) <= version.elements
    finally:
        await store.close()
    return len(listed)


@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_kill_during_version_writes_and_thinning_leaves_a_readable_history(
        server_process):
    server = server_process(flush_delay_ms=10, history_interval_s=0.05,
                            history_keep_all_s=0, history_keep_hourly_s=0)
    rng = random.Random()
    named: dict[int, dict] = {}
    client = await YClient(f"{server.ws_url}/{BOARD}").sync()
    for life in range(1, KILLS + 1):
        drawer = asyncio.create_task(draw_until_killed(client, life))
        await wait_until(lambda n=life: thinnings_logged(server.log(), n) >= 1, 30,
                         "a first thinning")
        code, saved = await fetch_json(f"{server.base_url}/api/boards/{BOARD}/versions",
                                       method="POST", body=json.dumps({"label": f"life {life}"}))
        assert code == 201, saved
        code, named[saved["id"]] = await fetch_json(
            f"{server.base_url}/api/boards/{BOARD}/versions/{saved['id']}/export.json")
        assert code == 200
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        server.kill()
        await asyncio.wait_for(drawer, 10)
        assert await check_history(server.db_url, named) >= len(named) + 1
        if life == KILLS:  # listed versions must stay put while they are exported below
            server.options.update(history_keep_all_s=86400, history_keep_hourly_s=30 * 86400)
        server.start()
        await client.sync()
    client.close()
    code, listed = await fetch_json(f"{server.base_url}/api/boards/{BOARD}/versions?limit=200")
    assert code == 200 and listed["versions"]
    for version in listed["versions"]:
        code, exported = await fetch_json(
            f"{server.base_url}/api/boards/{BOARD}/versions/{version['id']}/export.json")
        assert code == 200
        if version["id"] in named:
            assert exported == named[version["id"]]
    assert server.stop() == 0
    assert "failed" not in server.log()
