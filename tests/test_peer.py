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

    # the writer sends 40 MB in a few seconds: lift its byte rate, this test is about the reader;
    # its traffic is 100 KB presence states, above the default state cap, so that is raised too
    server = server_process(max_pending_bytes=1024 * 1024, rate_bytes_per_s=256 * 1024 * 1024,
                            presence_max_state_bytes=128 * 1024)
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


def _masked(opcode: int, payload: bytes, final: bool = True) -> bytes:
    """One small masked client frame (payload under 126 bytes)."""
    mask = os.urandom(4)
    return bytes(((0x80 if final else 0) | opcode, 0x80 | len(payload))) + mask + \
        bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.gen_test(timeout=30)
async def test_unsolicited_pongs_do_not_keep_a_peer_that_ignores_pings_alive(server_process):
    server = server_process(ping_interval_s=0.5, ping_timeout_s=0.5)
    sock = await asyncio.to_thread(raw_websocket, server.port, "pongs")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 6
        joined = False
        while loop.time() < deadline:
            # pongs nobody asked for (empty, and a guess), without ever reading our pings
            sock.sendall(_masked(0xA, b"") + _masked(0xA, b"\0" * 8))
            connections = server.health()["connections"]
            joined = joined or connections == 1
            if joined and connections == 0:
                break
            await asyncio.sleep(0.05)
        assert joined, "the raw socket never joined"
        assert server.health()["connections"] == 0, "unsolicited pongs kept the peer alive"
        assert "no pong for" in server.log()
    finally:
        sock.close()


def _request_board(sock: socket.socket) -> None:
    """Send sync step 1 with an empty state vector: 'send me the whole board'."""
    sock.sendall(_masked(0x2, b"\x00\x00\x01\x00"))


@pytest.mark.gen_test(timeout=90)
async def test_non_reading_viewers_of_a_big_board_are_dropped_and_rss_stays_bounded(
        server_process):
    import psutil

    from tests.yclient import YClient

    viewers, board_mib = 40, 8
    server = server_process(read_window_s=1, rate_bytes_per_s=512 * 1024 * 1024,
                            rate_burst_bytes=512 * 1024 * 1024)
    board = "non-readers"
    writer = await YClient(f"{server.ws_url}/{board}").sync()
    socks: list[socket.socket] = []
    try:
        for i in range(board_mib):
            await writer.put(f"blob-{i}", f"{i}:" + "x" * (1024 * 1024))
        await writer.put("done", True)
        reader = await YClient(f"{server.ws_url}/{board}").sync()
        # The writer's last frame may still be on its way when the reader joins: wait for it.
        await reader.wait_for(lambda: reader.snapshot().get("done") is True,
                              what="the whole board")
        reader.close()
        process = psutil.Process(server.proc.pid)
        baseline = peak = process.memory_info().rss
        for _ in range(viewers):  # each asks for the whole 8 MiB board and never reads it
            sock = await asyncio.to_thread(raw_websocket, server.port, board)
            _request_board(sock)
            socks.append(sock)
            peak = max(peak, process.memory_info().rss)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while server.health()["connections"] > 1:
            assert loop.time() < deadline, \
                f"non-readers still held: {server.health()}\n{server.log()[-3000:]}"
            await writer.put("tick", loop.time())  # live edits keep flowing meanwhile
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.05)
        growth_mb = (peak - baseline) / 1e6
        print(f"RSS growth with {viewers} non-readers of a {board_mib} MiB board: "
              f"{growth_mb:.0f} MB")
        # one shared 8 MiB step 2 plus small per-socket backlogs, not 40 copies (335 MB)
        assert growth_mb < 120, f"server RSS grew {growth_mb:.0f} MB for {viewers} non-readers"
        assert "slow reader" in server.log()
        await writer.put("after", 1)
        late = await YClient(f"{server.ws_url}/{board}").sync()
        assert late.snapshot()["after"] == 1
        late.close()
    finally:
        for sock in socks:
            sock.close()
        writer.close()


@pytest.mark.gen_test(timeout=60)
async def test_process_total_of_unsent_output_is_bounded_by_dropping_the_largest_backlogs(
        server_process):
    from tests.yclient import YClient

    server = server_process(max_pending_bytes_total=4 * 1024 * 1024, read_window_s=30)
    board = "total-backlog"
    writer = await YClient(f"{server.ws_url}/{board}").sync()
    reader = await YClient(f"{server.ws_url}/{board}").sync()
    socks = [await asyncio.to_thread(raw_websocket, server.port, board) for _ in range(10)]
    try:
        loop = asyncio.get_running_loop()
        for i in range(40):  # 256 KiB relayed to 10 non-readers each time: 100 MB unsent
            await writer.put(f"k{i % 4}", f"{i}:" + "y" * (256 * 1024))
            if server.health()["connections"] == 2:
                break
        deadline = loop.time() + 10
        while server.health()["connections"] > 2:
            assert loop.time() < deadline, f"non-readers still held: {server.health()}"
            await asyncio.sleep(0.05)
        assert "over the 4194304-byte total" in server.log()
        await writer.put("final", 1)
        await reader.wait_for(lambda: reader.snapshot().get("final") == 1, what="others sync")
    finally:
        for sock in socks:
            sock.close()
        writer.close()
        reader.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 3_000_000])
def test_a_message_written_behind_its_head_is_the_frame_websocket_frames_builds(size):
    # A step 2 or a big relay goes out as head + update, uncopied (Peer.send_wire): the bytes
    # on the wire must be the frame that copying would have built, at each length boundary of
    # RFC 6455 section 5.2 (7-bit, 16-bit and 64-bit lengths).
    from backend.peer import frame_header, websocket_frames
    from backend.protocol import write_var_uint
    from backend.room import _STEP2_PREFIX, _UPDATE_PREFIX, _message_head, _message_size

    update = bytes(range(256)) * (size // 256) + b"u" * (size % 256)
    for prefix in (_STEP2_PREFIX, _UPDATE_PREFIX):
        message = prefix + write_var_uint(len(update)) + update
        assert _message_head(prefix, update) + update == websocket_frames(message)
        assert _message_size(prefix, update) == len(message)
    assert frame_header(size)[0] == 0x82  # final frame, binary
