"""Reading WebSocket frames in batches: Tornado's RFC 6455 protocol with a leaner receive loop.

Tornado reads every frame with three or four ``IOStream.read_bytes`` calls (header, length,
mask, payload), each creating a Future; under load that was about a quarter of the server's
CPU (py-spy, S1). ``BatchReadingProtocol`` reads whatever the stream holds (up to 64 KiB) in
one call and cuts every complete frame out of it, then hands each message to Tornado's own
``_handle_message`` (close handshake, ping/pong, ``on_message``), so behaviour is Tornado's:
fragmentation rules and aborts on reserved bits or bad control frames. permessage-deflate is
never negotiated here (``BoardSocket.get_compression_options``), so a frame with RSV bits set
is an error.

Two things Tornado does not do:

- **Every frame is charged to the connection's rate limiter** (``FrameGate.limiter``) before it
  is handled, control frames and continuation fragments included. Over its budget the reader
  pauses (frames wait in the socket, TCP slows the sender) instead of handling them; after the
  grace period it closes with 4429 and discards whatever else arrives.
- **Sizes.** A frame over ``max_message_size`` is closed with 1009 from its header, except a
  sync step 2 (its first two payload bytes are ``0, 1``), which may be up to
  ``FrameGate.max_step2_bytes``: a stock client sends its offline edits, or its whole local
  copy, in that one frame and cannot split it. Such a frame is admitted by
  ``FrameGate.reserve_step2`` (board cap, process-wide memory budget) before its body is read,
  then read in chunks that must keep arriving at ``min_read_bytes_per_s``. A frame larger than
  ``max_step2_bytes`` is refused with 4413, which stock clients do not retry. Refused bodies
  are read and dropped, not left in the socket: closing a socket with unread data sends a TCP
  reset, and the client could lose the close frame that tells it why.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Protocol

from tornado.iostream import StreamClosedError
from tornado.util import _websocket_mask
from tornado.websocket import WebSocketProtocol13

from .limits import RateLimiter
from .protocol import CloseCode

_READ_CHUNK = 64 * 1024
_LARGE_CHUNK = 1024 * 1024  # a large step 2 is read (and unmasked) this much at a time
_YIELD_AFTER_BYTES = 256 * 1024  # let other connections run, as Tornado's loop does
_YIELD_AFTER_FRAMES = 500  # ... and after this many frames of one read (tiny-frame floods)
_STEP2_START = b"\x00\x01"  # message type SYNC, sync type STEP2
_BINARY = 0x2


class FrameGate(Protocol):
    """What the reader asks the connection's handler (``BoardSocket``)."""

    limiter: RateLimiter
    max_step2_bytes: int
    min_read_bytes_per_s: int
    read_window_s: float

    async def join_room(self) -> None:
        """Get ready for the first frame (the board loaded, the peer in its room)."""

    def rate_limited(self) -> None:
        """Close the connection with 4429 (it stayed over its rate)."""

    def reserve_step2(self, length: int) -> tuple[CloseCode, str] | None:
        """Admit a sync step 2 frame of ``length`` bytes before its body is read: None (and
        the bytes are reserved until ``release_step2``) or why not."""

    def release_step2(self, length: int) -> None:
        """The large frame reserved with ``reserve_step2`` was handled or given up."""


class BatchReadingProtocol(WebSocketProtocol13):
    """``WebSocketProtocol13`` whose receive loop parses many frames per stream read.

    The loop runs in a task of its own (``_receive_frame_loop``). Tornado awaits its receive
    loop at the bottom of the handshake (``RequestHandler._execute``, ``get``,
    ``accept_connection``, ``_accept_connection``): those coroutines, their task and their
    locals (the request's headers among them) would stay suspended for the connection's whole
    life, about 3 KiB per idle connection. Returning at once lets them finish.
    """

    # Slots, not instance-dict keys: Tornado's own attributes already fill 29 keys of this
    # object's __dict__, and CPython keeps an instance dict compact only below 30 keys
    # (from 30 on, the dict's table alone is 1.3 KiB).
    __slots__ = ("_discard", "_reading")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._discard = 0  # bytes of a refused frame still to read and drop
        self._reading: asyncio.Task | None = None

    async def _receive_frame_loop(self) -> None:
        """Start reading frames in a task of their own and return (see the class)."""
        self._reading = asyncio.ensure_future(self._read_frames())

    async def _read_frames(self) -> None:
        """Join the board (``FrameGate.join_room``), then read and handle frames until the
        connection closes. What escapes is handled as Tornado handles an exception in
        ``open``: logged with the request, and the connection aborted."""
        try:
            await self._frame_loop()
        except asyncio.CancelledError:  # the server is stopping
            self._abort()
            raise
        except Exception:
            self.handler.log_exception(*sys.exc_info())
            self._abort()

    async def _frame_loop(self) -> None:
        pending = b""  # the start of a frame not complete yet
        missing = 0  # bytes that frame still lacks, when its header says so
        unread = False  # whether ``pending`` may hold complete frames (after a large one)
        since_yield = 0
        try:
            # Inside the try: whatever happens while the board loads, the handler's
            # on_close runs (the admission is given back, the peer leaves)
            await self.handler.join_room()
            while not self.client_terminated:
                if self._discard:
                    size = len(await self.stream.read_bytes(min(self._discard, _LARGE_CHUNK),
                                                            partial=True))
                    self._wire_bytes_in += size
                    self._discard -= size
                    continue
                if unread:
                    data, unread = pending, False
                else:
                    if missing > _READ_CHUNK:  # the rest of a frame, in one read
                        chunk = await self.stream.read_bytes(missing)
                    else:
                        chunk = await self.stream.read_bytes(_READ_CHUNK, partial=True)
                    self._wire_bytes_in += len(chunk)
                    data = pending + chunk if pending else chunk
                handled = await self._handle_frames(data)
                if handled is None:
                    return  # aborted: the stream is closed
                used, missing, large = handled
                pending = data[used:]
                data = chunk = b""  # an idle connection keeps no copy of what it last read
                if large is not None:
                    pending = await self._receive_step2(pending, *large)
                    if pending is None:
                        return
                    missing, unread = 0, bool(pending)
                since_yield += used
                if since_yield >= _YIELD_AFTER_BYTES:
                    since_yield = 0
                    await asyncio.sleep(0)
        except StreamClosedError:
            self._abort()
        finally:
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    async def _handle_frames(self, data: bytes) -> tuple[int, int, tuple | None] | None:
        """Handle every complete frame at the start of ``data``.

        Returns the bytes used, how many more the next frame needs (0 if its header is
        incomplete) and, when the next frame is a large sync step 2 to read in chunks, its
        ``(header_bytes, length, mask)``; ``None`` when the connection was aborted.
        """
        gate: FrameGate = self.handler
        pos, end = 0, len(data)
        frames = 0
        while not self.client_terminated and end - pos >= 2:
            frames += 1
            if frames % _YIELD_AFTER_FRAMES == 0:
                await asyncio.sleep(0)
            first, second = data[pos], data[pos + 1]
            opcode = first & self.OPCODE_MASK
            is_final = first & self.FIN
            length = second & 0x7F
            header = 2
            if first & self.RSV_MASK or (opcode & 0x8 and (length >= 126 or not is_final)):
                self._abort()
                return None
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2:pos + 4], "big")
                header = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2:pos + 10], "big")
                header = 10
            masked = second & 0x80
            if masked:
                header += 4
            if self.server_terminated and opcode != 0x8:
                # We sent our close: only the client's close frame matters now.
                if end - pos < header + length:
                    self._discard = header + length - (end - pos)
                    return end, 0, None
                pos += header + length
                continue
            fragments = self._fragmented_message_buffer
            if fragments is not None or length <= self.params.max_message_size:
                if length + (len(fragments) if fragments is not None else 0) > \
                        self.params.max_message_size:
                    self.close(1009, "message too big")
                    self._abort()
                    return None
            elif length > gate.max_step2_bytes:
                self._refuse(CloseCode.WS_4413_BOARD_TOO_LARGE,
                             f"a {length}-byte frame is larger than any edit this server "
                             f"accepts ({gate.max_step2_bytes} bytes)")
                self._discard = max(0, header + length - (end - pos))
                return end if self._discard else pos + header + length, 0, None
            else:  # larger than ordinary frames: only a sync step 2 may be
                if end - pos < header + 2:
                    break
                start = data[pos + header:pos + header + 2]
                if masked:
                    start = _websocket_mask(data[pos + header - 4:pos + header], start)
                if opcode != _BINARY or not is_final or start != _STEP2_START:
                    self.close(1009, "message too big")
                    self._abort()
                    return None
                mask = data[pos + header - 4:pos + header] if masked else None
                return pos, 0, (header, length, mask)
            if end - pos < header + length:
                return pos, header + length - (end - pos), None
            payload = data[pos + header:pos + header + length]
            if masked:
                payload = _websocket_mask(data[pos + header - 4:pos + header], payload)
            pos += header + length
            step2 = opcode == _BINARY and is_final and payload[:2] == _STEP2_START
            if not await self._pace(header + length, step2):
                continue
            message = self._assemble(opcode, bool(is_final), payload)
            if message is None:
                continue
            if message is False:
                return None
            handled = self._handle_message(*message)
            if handled is not None:
                await handled
        return pos, 0, None

    async def _pace(self, size: int, step2: bool) -> bool:
        """Charge one frame to the rate limiter and pause as long as it says; False (and the
        connection closed with 4429) when it is over its rate for good."""
        gate: FrameGate = self.handler
        pause_s = gate.limiter.charge(size, time.monotonic(), step2)
        if pause_s is None:
            gate.rate_limited()
            return False
        if pause_s > 0:
            await asyncio.sleep(pause_s)
        return not self.client_terminated and not self.server_terminated

    async def _receive_step2(self, data: bytes, header: int, length: int,
                             mask: bytes | None) -> bytes | None:
        """Read a large sync step 2 (``data`` holds its start) in chunks and handle it.

        Returns what ``data`` held after the frame, or None when the connection was aborted.
        """
        gate: FrameGate = self.handler
        end = header + length
        rest = data[end:]
        refusal = gate.reserve_step2(length)
        if refusal is not None:
            self._refuse(*refusal)
            self._discard = max(0, end - len(data))
            return rest
        try:
            if not await self._pace(end, step2=True):
                self._discard = max(0, end - len(data))
                return rest
            body = data[header:end]
            chunks = [_unmask(mask, 0, body)]
            received = len(body)
            window_started, window_bytes = time.monotonic(), 0
            floor = gate.min_read_bytes_per_s * gate.read_window_s
            while received < length:
                try:
                    chunk = await asyncio.wait_for(
                        self.stream.read_bytes(min(length - received, _LARGE_CHUNK),
                                               partial=True), gate.read_window_s)
                except TimeoutError:
                    chunk = None
                now = time.monotonic()
                if chunk is None or (now - window_started >= gate.read_window_s
                                     and window_bytes + len(chunk) < floor):
                    self._abort()  # a stalled upload must not keep its reservation
                    return None
                if now - window_started >= gate.read_window_s:
                    window_started, window_bytes = now, 0
                self._wire_bytes_in += len(chunk)
                chunks.append(_unmask(mask, received, chunk))
                received += len(chunk)
                window_bytes += len(chunk)
            payload = b"".join(chunks)
            del chunks
            handled = self._handle_message(_BINARY, payload)
            if handled is not None:
                await handled
            return rest
        finally:
            gate.release_step2(length)

    def _refuse(self, code: CloseCode, reason: str) -> None:
        """Close with ``code`` through the handler (logged and counted there)."""
        self.handler.refuse_frame(code, reason)

    def _assemble(self, opcode: int, is_final: bool,
                  payload: bytes) -> tuple[int, bytes] | bool | None:
        """Fragmentation as Tornado does it: the whole message when it is complete, ``None``
        while fragments are still coming, ``False`` after an abort."""
        if opcode & 0x8:  # control frames may come between the fragments of a message
            return opcode, payload
        if opcode == 0:  # continuation
            if self._fragmented_message_buffer is None:
                self._abort()
                return False
            self._fragmented_message_buffer.extend(payload)
            if not is_final:
                return None
            message = bytes(self._fragmented_message_buffer)
            self._fragmented_message_buffer = None
            return self._fragmented_message_opcode, message
        if self._fragmented_message_buffer is not None:
            self._abort()  # a new message before the previous one ended
            return False
        if not is_final:
            self._fragmented_message_opcode = opcode
            self._fragmented_message_buffer = bytearray(payload)
            return None
        return opcode, payload


def _unmask(mask: bytes | None, offset: int, chunk: bytes) -> bytes:
    """``chunk`` (which starts ``offset`` bytes into a frame's payload) unmasked."""
    if mask is None or not chunk:
        return chunk
    shift = offset % 4
    return _websocket_mask(mask[shift:] + mask[:shift], chunk)
