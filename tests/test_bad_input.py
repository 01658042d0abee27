"""Bad input closes only the offending connection, with a documented code; nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import REGISTRY
from pycrdt import create_awareness_message, write_var_uint
from tornado.websocket import websocket_connect

from backend.protocol import CloseCode, MessageType
from backend.ws_handler import REFUSED_NAME_CLOSE_DELAY_S
from tests.yclient import YClient, state_vector

LIMIT_BYTES = 4096


def awareness_frame_of_size(total_bytes: int) -> bytes:
    """A valid awareness frame exactly ``total_bytes`` long (the padding is in the state)."""
    for pad in range(total_bytes, 0, -1):
        state = ('{"pad":"' + "x" * pad + '"}').encode()
        payload = write_var_uint(1) + write_var_uint(77) + write_var_uint(1) + \
            write_var_uint(len(state)) + state
        frame = create_awareness_message(payload)
        if len(frame) == total_bytes:
            return frame
    raise AssertionError("no padding gives that size")


def awareness_entry(state: bytes) -> bytes:
    """An awareness frame with one entry (client 5, clock 1) holding raw ``state`` bytes."""
    return create_awareness_message(
        write_var_uint(1) + write_var_uint(5) + write_var_uint(1) + write_var_uint(len(state))
        + state)


BAD_FRAMES = {
    "truncated_sync": b"\x00",
    "unknown_sync_type": b"\x00\x05\x01\x00",
    "update_pycrdt_rejects": b"\x00\x02\x05\xff\xff\xff\xff\xff",
    "declared_length_too_long": b"\x00\x02\xff\xff\xff\x7f\x00\x00",
    "trailing_bytes": b"\x00\x02\x02\x00\x00\x99",
    "bad_state_vector": b"\x00\x00\x03\xff\xff\xff",
    "awareness_not_json": awareness_entry(b"{{{{"),
    "awareness_not_utf8": awareness_entry(b"\xff\xfe"),
    "awareness_state_not_object": awareness_entry(b"7"),
    "awareness_count_past_end": create_awareness_message(write_var_uint(1000)),
    "number_too_long": b"\x00\x02" + b"\xff" * 12,
}


async def assert_board_unharmed(server, board_id: str, good: YClient, other: YClient,
                                before_state: bytes) -> None:
    """The board's document is unchanged and the good clients still sync both ways."""
    room = server.registry.rooms[board_id]
    assert state_vector(room.document.doc) == before_state
    await good.put("after", "still syncing")
    await other.wait_for(lambda: other.snapshot().get("after") == "still syncing",
                         what="sync after the bad client left")
    await other.put("reply", 1)
    await good.wait_for(lambda: good.snapshot().get("reply") == 1, what="reverse sync")


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
@pytest.mark.gen_test(timeout=30)
async def test_malformed_frame_closes_only_that_peer_with_1007(sb_server, yclient, caplog, case):
    server = await sb_server()
    board = f"bad_{case}"
    good = await yclient(server, board)
    other = await yclient(server, board)
    await good.put("before", 1)
    await other.wait_for(lambda: other.snapshot().get("before") == 1, what="initial sync")
    before_state = state_vector(server.registry.rooms[board].document.doc)
    bad = await yclient(server, board)
    with caplog.at_level(logging.WARNING, logger="backend.room"):
        await bad.send(BAD_FRAMES[case])
        code = await bad.wait_closed()
    assert code == CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA
    assert any(board in r.getMessage() and "1007" in r.getMessage() for r in caplog.records)
    await assert_board_unharmed(server, board, good, other, before_state)
    await server.writer.flush()
    stored = await server.store.load_updates(board)
    assert stored  # what was committed before is still there and loads
    assert len(server.registry.rooms[board].peers) == 2


@pytest.mark.gen_test(timeout=30)
async def test_text_frame_closes_with_1007(sb_server, yclient):
    server = await sb_server()
    bad = await yclient(server, "text_frame")
    await bad.ws.write_message("hello")
    assert await bad.wait_closed() == CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA


@pytest.mark.gen_test(timeout=30)
async def test_frame_at_the_size_limit_passes_one_byte_more_closes_with_1009(sb_server, yclient):
    server = await sb_server(max_message_bytes=LIMIT_BYTES)
    board = "size_limit"
    good = await yclient(server, board)
    other = await yclient(server, board)
    at_limit = await yclient(server, board)
    await at_limit.send(awareness_frame_of_size(LIMIT_BYTES))
    await other.wait_for(lambda: 77 in other.awareness, what="the at-limit frame relayed")
    before_state = state_vector(server.registry.rooms[board].document.doc)
    over = await yclient(server, board)
    await over.send(awareness_frame_of_size(LIMIT_BYTES + 1))
    assert await over.wait_closed() == CloseCode.WS_1009_MESSAGE_TOO_BIG
    assert not at_limit.closed.is_set()
    await assert_board_unharmed(server, board, good, other, before_state)


@pytest.mark.gen_test(timeout=30)
async def test_a_name_that_cannot_be_a_board_is_closed_with_4400_after_the_upgrade(sb_server):
    server = await sb_server()
    # Raw paths as a non-browser client may send them: over 255 characters, NUL, a C1
    # control, bytes that are not UTF-8, a line separator, a tab, nothing.

    async def refused(raw: str) -> None:
        ws = await websocket_connect(f"ws://127.0.0.1:{server.port}/ws/{raw}")
        opened = time.monotonic()
        frames = []
        while (frame := await ws.read_message()) is not None:
            frames.append(frame)
        assert ws.close_code == CloseCode.WS_4400_BAD_REQUEST, raw
        assert "board name" in ws.close_reason
        # First an auth "permission denied" message with the reason (the stock client logs it),
        # then the close, held back so that clients retrying on every close slow down.
        assert frames[0][:2] == bytes([MessageType.AUTH, 0]) and b"board name" in frames[0]
        assert time.monotonic() - opened >= REFUSED_NAME_CLOSE_DELAY_S * 0.9

    await asyncio.gather(*(refused(raw) for raw in (
        "a" * 256, "nul%00", "c1%C2%85", "bad%FF%FEutf8", "line%E2%80%A8sep", "tab%09", "")))
    assert not server.registry.rooms


@pytest.mark.gen_test(timeout=30)
async def test_names_with_dots_slashes_and_escapes_are_boards_stored_as_sent(
        sb_server, yclient):
    server = await sb_server()
    names = {"..": "..", "../../etc/passwd": "../../etc/passwd",
             "%2e%2e%2Fsecret": "../secret", "a%2Fb": "a/b", "Zo%C3%AB": "Zoë",
             "a" * 255: "a" * 255}
    for raw, name in names.items():
        writer = await yclient(server, raw)
        await writer.put("name", name)
        reader = await yclient(server, raw)  # the writer's edit, through the server
        await reader.wait_for(lambda r=reader, n=name: r.snapshot() == {"name": n},
                              what=f"{name!r} synced")
    await server.writer.flush()
    stored = {board.board_id for board in await server.store.list_boards()}
    assert set(names.values()) <= stored


@pytest.mark.gen_test(timeout=30)
async def test_unknown_message_types_are_ignored_counted_and_the_peer_keeps_syncing(
        sb_server, yclient):
    server = await sb_server()
    board = "unknown_types"
    sender = await yclient(server, board)
    other = await yclient(server, board)
    before = REGISTRY.get_sample_value("syncboard_unknown_messages_total")
    for frame in (b"\x07\x00", b"\x02\x00", b"\x64\x03abc"):
        await sender.send(frame)
    await sender.put("after", 1)
    await other.wait_for(lambda: other.snapshot().get("after") == 1, what="edit after them")
    assert REGISTRY.get_sample_value("syncboard_unknown_messages_total") == before + 3
    assert not sender.closed.is_set()
