"""The batched frame reader (backend/ws_reader.py) against a raw loopback socket: frames packed
into one write, split byte by byte, fragmented with a ping between the fragments, large, over
the size limit, with reserved bits, and the close handshake."""

from __future__ import annotations

import asyncio
import base64
import os
import struct

import pytest
from pycrdt import Doc, Map, create_update_message

from tests.yclient import state_vector


def client_frame(payload: bytes, opcode: int = 0x2, final: bool = True, rsv: int = 0) -> bytes:
    """One masked client-to-server frame."""
    first = (0x80 if final else 0) | rsv | opcode
    size = len(payload)
    if size < 126:
        header = bytes((first, 0x80 | size))
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_raw(port: int, board_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws/{board_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert response.startswith(b"HTTP/1.1 101"), response
    return reader, writer


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One server frame (unmasked): (opcode, payload)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    return first & 0x0F, await reader.readexactly(size)


async def read_until_opcode(reader: asyncio.StreamReader, opcode: int) -> bytes:
    for _ in range(50):
        got, payload = await read_frame(reader)
        if got == opcode:
            return payload
    raise AssertionError(f"no frame with opcode {opcode:#x}")


def updates(count: int, size: int = 10) -> tuple[list[bytes], Doc]:
    """``count`` separate updates of one document (each sets one key), and that document."""
    doc = Doc()
    elements = doc.get("elements", type=Map)
    result = []
    for i in range(count):
        before = doc.get_state()
        elements[f"k{i}"] = "x" * size
        result.append(doc.get_update(before))
    return result, doc


async def wait_for_state(server, board_id: str, doc: Doc) -> None:
    for _ in range(250):
        room = server.registry.rooms.get(board_id)
        if room is not None and state_vector(room.document.doc) == state_vector(doc):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the board never reached the sent state")


async def until(condition, what: str, timeout_s: float = 5.0) -> None:
    """Check ``condition()`` every event-loop turn until it holds; fail after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0)


@pytest.mark.gen_test(timeout=30)
async def test_many_frames_in_one_write_are_all_applied(sb_server):
    server = await sb_server()
    _reader, writer = await open_raw(server.port, "packed")
    sent, doc = updates(200)
    writer.write(b"".join(client_frame(create_update_message(u)) for u in sent))
    await wait_for_state(server, "packed", doc)
    writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_frames_split_byte_by_byte_are_reassembled(sb_server):
    server = await sb_server()
    _reader, writer = await open_raw(server.port, "split")
    sent, doc = updates(3, size=300)  # 2-byte extended lengths too
    wire = b"".join(client_frame(create_update_message(u)) for u in sent)
    for i in range(len(wire)):
        writer.write(wire[i:i + 1])
        await writer.drain()
        if i % 50 == 0:
            await asyncio.sleep(0.001)
    await wait_for_state(server, "split", doc)
    writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_fragmented_message_with_a_ping_between_fragments(sb_server):
    server = await sb_server()
    reader, writer = await open_raw(server.port, "fragments")
    sent, doc = updates(1, size=500)
    message = create_update_message(sent[0])
    writer.write(client_frame(message[:100], final=False)
                 + client_frame(b"hello", opcode=0x9)
                 + client_frame(message[100:300], opcode=0x0, final=False)
                 + client_frame(message[300:], opcode=0x0))
    assert await read_until_opcode(reader, 0xA) == b"hello"  # the pong
    await wait_for_state(server, "fragments", doc)
    writer.close()


@pytest.mark.gen_test(timeout=60)
async def test_large_frame_in_pieces(sb_server):
    server = await sb_server(max_message_bytes=4 * 1024 * 1024)
    _reader, writer = await open_raw(server.port, "large")
    sent, doc = updates(1, size=2 * 1024 * 1024)
    wire = client_frame(create_update_message(sent[0]))
    for start in range(0, len(wire), 100_000):
        writer.write(wire[start:start + 100_000])
        await writer.drain()
    await wait_for_state(server, "large", doc)
    writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_declared_length_over_the_step2_limit_closes_4413_before_the_payload(sb_server):
    server = await sb_server(max_message_bytes=4096)
    reader, writer = await open_raw(server.port, "too-big")
    writer.write(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 40) + os.urandom(4))
    close = await read_until_opcode(reader, 0x8)
    assert struct.unpack("!H", close[:2])[0] == 4413
    # the body it announced never comes: Tornado gives up waiting for the close reply
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert "too-big" not in server.registry.rooms or \
        not server.registry.rooms["too-big"].peers


@pytest.mark.gen_test(timeout=30)
async def test_large_frame_that_is_not_a_sync_step2_closes_1009_from_its_start(sb_server):
    server = await sb_server(max_message_bytes=4096)
    reader, writer = await open_raw(server.port, "too-big-update")
    frame = client_frame(b"\x00\x02" + b"\x00" * 10_000)  # a sync update, not a step 2
    writer.write(frame[:20])  # the header and the first payload bytes decide
    close = await read_until_opcode(reader, 0x8)
    assert struct.unpack("!H", close[:2])[0] == 1009
    assert await asyncio.wait_for(reader.read(), 5) == b""


@pytest.mark.gen_test(timeout=30)
async def test_reserved_bits_abort_the_connection(sb_server):
    server = await sb_server()
    reader, writer = await open_raw(server.port, "rsv")
    writer.write(client_frame(b"\x00\x00\x01\x00", rsv=0x40))
    data = b""
    for _ in range(50):
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError("the connection stayed open")


@pytest.mark.gen_test(timeout=30)
async def test_close_frame_is_echoed_and_the_peer_leaves(sb_server):
    server = await sb_server()
    reader, writer = await open_raw(server.port, "closing")
    writer.write(client_frame(struct.pack("!H", 1000) + b"bye", opcode=0x8))
    close = await read_until_opcode(reader, 0x8)
    assert struct.unpack("!H", close[:2])[0] == 1000
    for _ in range(250):
        room = server.registry.rooms.get("closing")
        if room is None or not room.peers:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the peer stayed in the room")
    writer.close()


def _step2_of_exactly(size: int, tag: str) -> tuple[bytes, Doc]:
    """A sync step 2 message of exactly ``size`` bytes (one long string), and its document."""
    from pycrdt import write_message

    filler = size
    while True:
        doc = Doc()
        doc.get("elements", type=Map)[tag] = "x" * filler
        message = b"\x00\x01" + write_message(doc.get_update())
        if len(message) == size:
            return message, doc
        filler += size - len(message)


@pytest.mark.gen_test(timeout=30)
async def test_sync_step2_of_exactly_the_step2_limit_is_read_in_pieces_and_applied(sb_server):
    server = await sb_server(max_message_bytes=4096, max_step2_bytes=3 * 1024 * 1024)
    _reader, writer = await open_raw(server.port, "step2-limit")
    message, doc = _step2_of_exactly(3 * 1024 * 1024, "at-limit")
    wire = client_frame(message)
    for start in range(0, len(wire), 256 * 1024):  # arrives in pieces, as over a network
        writer.write(wire[start:start + 256 * 1024])
        await writer.drain()
    await wait_for_state(server, "step2-limit", doc)
    # given back once the frame is handled: a 3 MiB step 2 is pre-checked in the worker, and
    # the reader's next turn comes a few event-loop turns after the apply
    await until(lambda: server.registry.receive_budget.reserved == 0, "the reservation back")
    writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_sync_step2_one_byte_over_the_step2_limit_closes_4413_from_its_header(sb_server):
    server = await sb_server(max_message_bytes=4096, max_step2_bytes=3 * 1024 * 1024)
    reader, writer = await open_raw(server.port, "step2-over")
    message, _doc = _step2_of_exactly(3 * 1024 * 1024 + 1, "over")
    wire = client_frame(message)
    writer.write(wire[:64])
    close = await read_until_opcode(reader, 0x8)
    assert struct.unpack("!H", close[:2])[0] == 4413
    assert b"larger than any edit" in close[2:]


@pytest.mark.gen_test(timeout=30)
async def test_sync_step2_past_the_board_cap_is_refused_before_its_body_is_read(sb_server):
    server = await sb_server(max_message_bytes=4096, max_board_bytes=1024 * 1024)
    reader, writer = await open_raw(server.port, "step2-cap")
    message, _doc = _step2_of_exactly(2 * 1024 * 1024, "too-much")
    writer.write(client_frame(message)[:64])  # the header is enough to decide
    close = await read_until_opcode(reader, 0x8)
    assert struct.unpack("!H", close[:2])[0] == 4413
    assert b"cap" in close[2:]
    assert server.registry.receive_budget.reserved == 0
