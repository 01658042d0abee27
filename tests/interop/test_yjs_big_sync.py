"""Interop at the size limits: the unmodified y-websocket provider joins boards larger than
--max-pending-bytes, sends offline sessions larger than --max-message-bytes in its sync
step 2, and stops (instead of reconnecting in a loop) when an edit can never be accepted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from backend.protocol import CloseCode
from tests.interop.node_client import NodeClient
from tests.yclient import YClient, state_vector

MIB = 1024 * 1024
# Writing a big board quickly is not what these tests are about: lift the byte rate for it.
FAST_WRITER = {"rate_bytes_per_s": 512 * MIB, "rate_burst_bytes": 512 * MIB}
BIG_SYNC_TIMEOUT_S = 30.0
# How long a refused client is watched for reconnects.
REFUSED_WATCH_S = 4.0


async def summary_when(client: NodeClient, predicate: Callable[[dict], bool], what: str,
                       timeout_s: float = BIG_SYNC_TIMEOUT_S, doc: str = "main") -> dict:
    """Poll the driver's ``summary`` (no board content over stdin) until ``predicate``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        state = await client.call("summary", doc, timeout_s=timeout_s)
        if predicate(state):
            return state
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}: {state}")
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=120)
async def test_fresh_js_client_joins_a_24_mib_board(server_process, node_client, board):
    server = server_process(**FAST_WRITER)  # --max-pending-bytes stays at 16 MiB
    writer = await node_client()
    await writer.connect_synced(server.ws_url, board)
    watcher = await YClient(f"{server.ws_url}/{board}").sync()
    await writer.call("fill", prefix="blob-", count=48, size=512 * 1024, perTransaction=4,
                      timeout_s=30)
    written = await writer.call("summary")
    assert written["updateBytes"] > 24 * MIB
    # the server has applied all twelve 2 MiB updates (each is pre-checked in the worker, and
    # the writer's next frame is read only after it: a joiner arriving before the last one
    # is answered with the board so far and gets the rest relayed)
    await watcher.wait_for(lambda: {str(c): n for c, n in state_vector(watcher.doc).items()}
                           == written["stateVector"], BIG_SYNC_TIMEOUT_S, "the server has all")
    watcher.close()
    joiner = await node_client()
    await joiner.connect(server.ws_url, board)
    state = await summary_when(joiner, lambda s: s["synced"], "the joiner synced")
    assert state["stateVector"] == written["stateVector"]
    assert state["keys"] == 48
    assert state["closes"] == []


@pytest.mark.gen_test(timeout=120)
async def test_10_mib_offline_session_reaches_a_second_client(server, node_client, board):
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("disconnect")
    await a.wait_for(lambda s: s["status"] == "disconnected", maps=(), what="A offline")
    # 210 small edits of 50 KiB: each fits a frame, together they are one 10 MiB step 2
    await a.call("fill", prefix="offline-", count=210, size=50 * 1024, timeout_s=30)
    offline = await a.call("summary")
    assert offline["updateBytes"] > 10 * MIB
    await a.call("connect_again")
    state_b = await summary_when(b, lambda s: s["stateVector"] == offline["stateVector"],
                                 "B has every offline edit of A")
    assert state_b["keys"] == 210
    state_a = await a.call("summary")
    assert [c["code"] for c in state_a["closes"]] == [None]  # only its own disconnect
    assert state_b["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_offline_session_beyond_the_board_cap_stops_the_client_with_4413(
        server_process, node_client, board):
    # 3 MiB of offline edits against a 2 MiB board cap, in a step 2 over the 1 MiB frame limit
    server = server_process(max_board_bytes=2 * MIB, max_message_bytes=MIB)
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("set", key="before", value=1)
    await b.wait_for(lambda s: s["maps"]["elements"] == {"before": 1}, what="B sees A")
    await a.call("disconnect")
    await a.wait_for(lambda s: s["status"] == "disconnected", maps=(), what="A offline")
    await a.call("fill", prefix="offline-", count=60, size=50 * 1024)
    await a.call("connect_again")

    await summary_when(a, lambda s: len(s["closes"]) >= 2, "A refused", timeout_s=10)
    await asyncio.sleep(REFUSED_WATCH_S)  # a client in a loop would reconnect every ~0.1-2.5 s
    state_a = await a.call("summary")
    codes = [close["code"] for close in state_a["closes"]]
    assert codes == [None, CloseCode.WS_4413_BOARD_TOO_LARGE], codes
    assert state_a["shouldConnect"] is False
    assert state_a["status"] == "disconnected"
    closed = [e for e in a.events if e.get("event") == "closed"]
    assert [e["code"] for e in closed] == [CloseCode.WS_4413_BOARD_TOO_LARGE]
    assert "cap" in closed[0]["reason"]
    state_b = await b.dump()
    assert state_b["maps"]["elements"] == {"before": 1}
    assert state_b["closes"] == []
