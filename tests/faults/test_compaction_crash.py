"""Crash during compaction: SIGKILL while the server folds a board's log into a snapshot.

With ``--compact-after-updates 5`` and a board of 1.6 MB, compactions of the whole board run
back to back while a client edits; each server life is killed at a random moment within
0.5 s after its first compaction finished, so most kills land inside the next merge or its
write transaction (not detected individually). After each kill the database alone
must be readable and hold every update committed before, and the restarted server compacts
it again.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from pycrdt import Map
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from tests.faults.clients import stored_elements, wait_until
from tests.yclient import YClient

BOARD = "compaction-crash"
KILLS = 3
BULK_UPDATES = 10
ENTRIES_PER_BULK_UPDATE = 2000
COMPACT_AFTER_UPDATES = 5


async def bulk_fill(client: YClient, written: dict[str, str]) -> None:
    """Make the board big enough that merging it takes a while."""
    for batch in range(BULK_UPDATES):
        def change(doc, batch=batch) -> None:
            elements = doc.get("elements", type=Map)
            for i in range(ENTRIES_PER_BULK_UPDATE):
                elements[f"bulk-{batch}-{i}"] = f"filler {batch} {i} " + "x" * 40
        await client.edit(change)
        written.update({f"bulk-{batch}-{i}": f"filler {batch} {i} " + "x" * 40
                        for i in range(ENTRIES_PER_BULK_UPDATE)})


async def edit_until_killed(client: YClient, written: dict[str, str], life: int) -> None:
    """Small edits until the socket closes (the server was killed)."""
    n = 0
    while not client.closed.is_set():
        key = f"life{life}-{n}"
        written[key] = f"edit {n}"
        try:
            await client.put(key, written[key])
        except (StreamClosedError, WebSocketClosedError):
            return  # the socket died under us: the edit stays in the local doc
        n += 1
        await asyncio.sleep(0.002)


def compactions_logged(log_text: str, life: int) -> int:
    """``compacted board`` lines written by server start number ``life`` (1-based)."""
    section = log_text.split(f"--- start {life}:")[1].split("--- start ")[0]
    return section.count(f"compacted board {BOARD}")


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_kill_during_compaction_loses_nothing_committed(server_process):
    server = server_process(flush_delay_ms=10, compact_after_updates=COMPACT_AFTER_UPDATES)
    rng = random.Random()
    written: dict[str, str] = {}
    client = await YClient(f"{server.ws_url}/{BOARD}").sync()
    await bulk_fill(client, written)
    for life in range(1, KILLS + 1):
        await wait_until(lambda: server.health()["pending_updates"] == 0, 10, "a full commit")
        committed = dict(written)
        editor = asyncio.create_task(edit_until_killed(client, written, life))
        # Once one compaction finished, the edits keep the next ones coming back to back.
        await wait_until(lambda n=life: compactions_logged(server.log(), n) >= 1, 30,
                         "a first compaction")
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        server.kill()
        await asyncio.wait_for(editor, 10)
        on_disk = await stored_elements(server.db_url, BOARD)  # readable, server down
        missing = committed.keys() - on_disk.keys()
        assert not missing, f"life {life}: {len(missing)} committed updates lost"
        assert all(written[k] == v for k, v in on_disk.items())
        server.start()
        await client.sync()  # resends what the killed server had not committed
    # The resend alone may stay under --compact-after-updates: edit past the threshold so
    # the last server life surely compacts (instead of waiting for one that may never come).
    for n in range(COMPACT_AFTER_UPDATES + 1):
        written[f"final-{n}"] = f"edit {n}"
        await client.put(f"final-{n}", written[f"final-{n}"])
    await client.wait_for(lambda: client.snapshot() == written, what="the final edits' echo")
    client.close()
    await wait_until(lambda: server.health()["pending_updates"] == 0, 10, "a full commit")
    late = await YClient(f"{server.ws_url}/{BOARD}").sync()
    assert late.snapshot() == written
    late.close()
    await wait_until(lambda: compactions_logged(server.log(), KILLS + 1) >= 1, 10,
                     "a compaction after the last restart")
    assert server.stop() == 0
    assert await stored_elements(server.db_url, BOARD) == written
    assert "compaction of board" not in server.log()  # no "compaction ... failed" line
