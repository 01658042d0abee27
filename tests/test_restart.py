"""Durability across process death: a real server subprocess, SIGKILL and SIGTERM."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
from pycrdt import Array

from backend.protocol import CloseCode
from tests.yclient import YClient


def stored_update_count(server, board_id: str) -> int:
    try:
        with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}", timeout=5) as r:
            return json.loads(r.read())["update_count"]
    except OSError:
        return 0


async def strokes_client(server, board_id: str) -> YClient:
    return await YClient(f"{server.ws_url}/{board_id}").sync()


def strokes(client: YClient) -> list:
    return client.doc.get("strokes", type=Array).to_py()


@pytest.mark.gen_test(timeout=60)
async def test_everything_committed_survives_kill_9(server_process):
    server = server_process(flush_delay_ms=20)
    alice = await strokes_client(server, "kill9")
    for i in range(50):
        await alice.append("strokes", f"s{i}")
    deadline = time.monotonic() + 10
    while stored_update_count(server, "kill9") < 50 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert stored_update_count(server, "kill9") == 50
    server.kill()
    alice.close()
    server.start()
    late = await strokes_client(server, "kill9")
    try:
        assert strokes(late) == [f"s{i}" for i in range(50)]
    finally:
        late.close()


@pytest.mark.gen_test(timeout=60)
async def test_reconnecting_client_resends_what_the_killed_server_had_not_committed(
        server_process):
    server = server_process(flush_delay_ms=10_000)  # nothing reaches the disk before the kill
    alice = await strokes_client(server, "resend")
    bob = await strokes_client(server, "resend")
    for i in range(10):
        await alice.append("strokes", f"s{i}")
    await bob.wait_for(lambda: len(strokes(bob)) == 10, what="the server relayed all 10")
    bob.close()
    server.kill()
    await alice.wait_closed()
    server.start()
    late = await strokes_client(server, "resend")
    assert strokes(late) == []  # lost with the process ...
    await alice.sync()  # ... until the client that made them reconnects
    await late.wait_for(lambda: len(strokes(late)) == 10, what="resent strokes")
    assert strokes(late) == [f"s{i}" for i in range(10)]
    for client in (alice, late):
        client.close()
    assert server.stop() == 0  # SIGTERM flushes them
    server.start()
    check = await strokes_client(server, "resend")
    assert strokes(check) == [f"s{i}" for i in range(10)]
    check.close()


@pytest.mark.gen_test(timeout=60)
async def test_sigterm_closes_peers_with_1001_flushes_and_exits_zero(server_process):
    server = server_process(flush_delay_ms=10_000)
    alice = await strokes_client(server, "sigterm")
    bob = await strokes_client(server, "sigterm")
    for i in range(5):
        await alice.append("strokes", i)
    await bob.wait_for(lambda: len(strokes(bob)) == 5, what="the server relayed all 5")
    started = time.monotonic()
    assert server.stop(timeout_s=15) == 0
    assert time.monotonic() - started < 10
    assert await alice.wait_closed() == CloseCode.WS_1001_GOING_AWAY
    assert "stopped" in server.log()
    server.start()
    late = await strokes_client(server, "sigterm")
    assert strokes(late) == [0, 1, 2, 3, 4]
    late.close()
