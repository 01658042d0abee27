"""Connection liveness and backpressure: dead peers are dropped, slow readers cut off."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket

import pytest


def raw_websocket(port: int, board_id: str) -> socket.socket:
    """A WebSocket that completes the handshake and then never reads nor answers pings."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/{board_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


async def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.gen_test(timeout=30)
async def test_peer_that_never_answers_pings_is_dropped(sb_server, caplog):
    caplog.set_level(logging.INFO, logger="backend.registry")
    server = await sb_server(ping_interval_s=0.3, ping_timeout_s=0.3)
    sock = await asyncio.to_thread(raw_websocket, server.port, "ping")
    try:
        await wait_until(lambda: server.registry.connection_count == 1, 5, "the join")
        await wait_until(lambda: server.registry.connection_count == 0, 10,
                         "the dead peer dropped")
        # Dropped by the pong timeout (after interval + timeout), not by anything slower.
        assert any("no pong for" in r.getMessage() for r in caplog.records)
    finally:
        sock.close()


@pytest.mark.gen_test(timeout=60)
async def test_peers_that_answer_pings_stay(sb_server, yclient):
    # The client answers from this same event loop: a timeout of ten intervals keeps a
    # loaded machine's stall from looking like a dead peer; a peer whose pongs the server
    # ignored would still be dropped after 1 s, before the 15 rounds are over.
    server = await sb_server(ping_interval_s=0.1, ping_timeout_s=1.0)
    alive = await yclient(server, "pong")
    peer = next(iter(server.registry.rooms["pong"].peers))
    pings: set[float] = set()

    def fifteen_rounds() -> bool:
        assert not peer.closed, f"dropped after {len(pings - {0.0})} ping rounds"
        pings.add(peer.last_ping_at)
        return len(pings - {0.0}) >= 15

    await wait_until(fifteen_rounds, 30, "15 ping rounds")
    assert server.registry.connection_count == 1 and not peer.closed
    assert not alive.closed.is_set()


@pytest.mark.gen_test(timeout=60)
async def test_client_that_stops_reading_is_closed_and_others_keep_syncing(sb_server, yclient):
    server = await sb_server(max_pending_bytes=256 * 1024)
    board = "slow"
    sock = await asyncio.to_thread(raw_websocket, server.port, board)
    try:
        writer = await yclient(server, board)
        reader = await yclient(server, board)
        await wait_until(lambda: server.registry.connection_count == 3, 5, "three peers")
        chunk = "x" * 50_000
        for i in range(400):  # 20 MB relayed to the stalled socket would overflow its buffers
            await writer.put(f"k{i % 20}", chunk + str(i))
            if server.registry.connection_count == 2:
                break
        await wait_until(lambda: server.registry.connection_count == 2, 10, "slow peer closed")
        await writer.put("final", 1)
        await reader.wait_for(lambda: reader.snapshot().get("final") == 1, what="others sync")
    finally:
        sock.close()


@pytest.mark.gen_test(timeout=90)
async def test_stalled_reader_does_not_grow_server_memory(server_process):
    import psutil

    from tests.yclient import YClient

    server = server_process(max_pending_bytes=1024 * 1024)
    board = "stalled"
    rss = psutil.Process(server.proc.pid).memory_info
    writer = await YClient(f"{server.ws_url}/{board}").sync()
    sock = await asyncio.to_thread(raw_websocket, server.port, board)
    try:
        state = {"blob": "x" * 100_000}
        for clock in range(1, 21):  # warm up allocator pools with the same traffic
            await writer.set_presence(7, clock, state)
        await asyncio.sleep(0.5)
        baseline = rss().rss
        peak = baseline
        for clock in range(21, 421):  # 40 MB of presence relayed to a peer that never reads
            await writer.set_presence(7, clock, state)
            if clock % 20 == 0:
                await writer.wait_for(lambda c=clock: writer.awareness.get(7, (0,))[0] >= c,
                                      what="echo")
                peak = max(peak, rss().rss)
        assert server.health()["connections"] == 1  # the stalled peer was cut off
        growth_mb = (peak - baseline) / 1e6
        assert growth_mb < 20, f"server RSS grew {growth_mb:.1f} MB"
    finally:
        sock.close()
        writer.close()
