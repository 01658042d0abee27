"""Clock squatting across processes (issue 18): an editor on one process cannot claim the
next clocks of a client whose synced connection is on another process."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from pycrdt import create_update_message
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, websocket_connect

from tests import yjs_updates as y
from tests.scaleout.conftest import board_name
from tests.yclient import YClient, state_vector

SYNC_STEP1_EMPTY = b"\x00\x00\x01\x00"
REPLY_TIMEOUT_S = 20


async def send_update(ws_url: str, update: bytes) -> int | None:
    """Send ``update`` then a sync step 1 on a fresh connection; the close code, or None
    when the server answered the step 1 (it handled the update and kept the connection)."""
    ws = await asyncio.wait_for(websocket_connect(ws_url), REPLY_TIMEOUT_S)
    try:
        with contextlib.suppress(StreamClosedError, WebSocketClosedError):
            await ws.write_message(create_update_message(update), binary=True)
            await ws.write_message(SYNC_STEP1_EMPTY, binary=True)
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while time.monotonic() < deadline:
            message = await asyncio.wait_for(ws.read_message(), REPLY_TIMEOUT_S)
            if message is None:
                return ws.close_code
            if message[:2] == b"\x00\x01":  # the step 2 answering our step 1
                return None
        raise AssertionError("no answer to the sync step 1")
    finally:
        ws.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_squat_on_another_processes_synced_client_is_refused(cluster):
    a, b = cluster(2)
    board = board_name("squat-across")
    victim = await YClient(f"{a.ws_url}/{board}").sync()
    watcher = await YClient(f"{b.ws_url}/{board}").sync()
    me = victim.doc.client_id
    await victim.set_presence(me, 1, {"user": {"name": "victim"}})  # as stock providers do
    await victim.put("v1", "first")
    await watcher.wait_for(lambda: watcher.elements.get("v1") == "first"
                           and me in watcher.present(), REPLY_TIMEOUT_S)
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while b.metric("syncboard_broker_delivered_total", kind="owned") < 1:
        assert time.monotonic() < deadline, "b never heard that the victim synced on a"
        await asyncio.sleep(0.05)
    clock = state_vector(victim.doc)[me]
    code = await send_update(f"{b.ws_url}/{board}",
                             y.Update().add(me, clock, [y.gc(50)]).encode())
    assert code == 1007
    assert "clock squatting" in b.log()
    await victim.put("v2", "second")  # the victim's next clocks reach the other process
    await watcher.wait_for(lambda: watcher.elements.get("v2") == "second", REPLY_TIMEOUT_S,
                           what="the victim's edit after the attack")
    victim.close()
    watcher.close()
