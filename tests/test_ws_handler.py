"""BoardSocket (backend/ws_handler.py): what an idle connection keeps once it is open.

The server runs in this process and is measured with tracemalloc; the idle clients are raw
WebSockets held by a child process, so none of their allocations are traced here.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tests.test_peer import raw_websocket, wait_until

# A child process holding idle WebSockets: argv port, first board number, boards, sockets per
# board. It prints "open" once every handshake is done and holds the sockets until stdin closes.
HOLD_SOCKETS = """
import sys
from tests.test_peer import raw_websocket
port, first, boards, per_board = map(int, sys.argv[1:])
sockets = [raw_websocket(port, f"idle-{first + i % boards}") for i in range(boards * per_board)]
print("open", flush=True)
sys.stdin.read()
"""

ROOT = Path(__file__).resolve().parent.parent
IDLE_CONNECTIONS = 300
BOARDS = 30  # 10 sockets per board, as in the C1 benchmark
MAX_TRACED_BYTES_PER_CONNECTION = 10.5 * 1024
"""Python objects the server holds per idle connection (its share of the board's room
included): 13.2 KiB while the handshake's coroutines stayed suspended under the frame loop
and the handler's instance dict was over CPython's compact size; 8.1 KiB since (CPython
3.11, Tornado 6.6.1, this test's raw clients)."""


def test_pins_the_tornado_version_whose_private_parts_the_websocket_code_uses() -> None:
    # ws_reader overrides WebSocketProtocol13._receive_frame_loop (Tornado awaits it last in
    # _accept_connection, and nothing after it) and calls _handle_message, _abort and
    # _websocket_mask; peer reads IOStream._total_write_index and _total_write_done_index.
    # Check them against a new Tornado before moving this pin.
    assert importlib.metadata.version("tornado") == "6.6.1"


def _handshake_tasks() -> list[asyncio.Task]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_coro().__qualname__ == "RequestHandler._execute"
    ]


def _peers(server) -> int:
    return sum(len(room.peers) for room in server.registry.rooms.values())


@pytest.mark.gen_test(timeout=30)
async def test_the_handshake_coroutines_finish_once_a_socket_is_open(sb_server):
    server = await sb_server()
    sockets = [await asyncio.to_thread(raw_websocket, server.port, "handshake") for _ in range(3)]
    try:
        await wait_until(lambda: _peers(server) == 3, 10, "three peers")
        await wait_until(lambda: not _handshake_tasks(), 10, "the handshakes to finish")
        # ... and the connections still work: a frame sent now is answered
        sockets[0].sendall(bytes((0x89, 0x80)) + b"mask")  # a masked, empty ping
        while (frame := await asyncio.to_thread(_read_frame, sockets[0]))[0] != 0xA:
            pass  # the sync step 1 and presence the server sent first
        assert frame == (0xA, b"")  # the pong
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.gen_test(timeout=30)
async def test_a_connection_waiting_for_its_board_holds_no_handshake_coroutines(
    sb_server, monkeypatch
):
    server = await sb_server()
    release = asyncio.Event()
    load = server.registry._loads.load

    async def held_load(board_id: str):
        await release.wait()  # the board's load takes as long as this test wants
        return await load(board_id)

    monkeypatch.setattr(server.registry._loads, "load", held_load)
    sockets = [await asyncio.to_thread(raw_websocket, server.port, "held") for _ in range(3)]
    try:
        await wait_until(lambda: not _handshake_tasks(), 10, "the handshakes to finish")
        assert _peers(server) == 0  # all three still wait for the board
        release.set()
        await wait_until(lambda: _peers(server) == 3, 10, "three peers once it loaded")
    finally:
        for sock in sockets:
            sock.close()


def _read_frame(sock) -> tuple[int, bytes]:
    """One unmasked server frame: (opcode, payload)."""
    first, size = _read_exactly(sock, 2)
    if size == 126:
        size = int.from_bytes(_read_exactly(sock, 2), "big")
    return first & 0x0F, _read_exactly(sock, size)


def _read_exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


async def _hold_sockets(port: int, first_board: int) -> subprocess.Popen:
    """Open ``IDLE_CONNECTIONS`` idle sockets from a child process; return it once open."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_SOCKETS,
            str(port),
            str(first_board),
            str(BOARDS),
            str(IDLE_CONNECTIONS // BOARDS),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
    assert line == "open\n", line
    return child


@pytest.mark.gen_test(timeout=120)
async def test_an_idle_connection_holds_a_bounded_amount_of_python_objects(sb_server):
    server = await sb_server(
        log_level="WARNING", max_connections_per_ip=1000, max_sockets_per_ip=1000
    )
    children = []
    try:
        # The first wave pays what is made once (code paths, caches, the first rooms)
        children.append(await _hold_sockets(server.port, 0))
        await wait_until(lambda: _peers(server) == IDLE_CONNECTIONS, 60, "the first wave")
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            children.append(await _hold_sockets(server.port, BOARDS))
            await wait_until(lambda: _peers(server) == 2 * IDLE_CONNECTIONS, 60, "the second wave")
            await asyncio.sleep(0)  # let the handshakes' last steps run
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        grown = after.compare_to(before, "lineno")
        per_connection = sum(stat.size_diff for stat in grown) / IDLE_CONNECTIONS
        top = "\n".join(
            f"{stat.size_diff / IDLE_CONNECTIONS:.0f} B {stat.traceback}" for stat in grown[:15]
        )
        assert per_connection <= MAX_TRACED_BYTES_PER_CONNECTION, (
            f"{per_connection / 1024:.1f} KiB per idle connection; largest:\n{top}"
        )
    finally:
        for child in children:
            child.stdin.close()
            child.wait(10)
