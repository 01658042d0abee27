"""Reading WebSocket frames in batches: Tornado's RFC 6455 protocol with a leaner receive loop.

Tornado reads every frame with three or four ``IOStream.read_bytes`` calls (header, length,
mask, payload), each creating a Future; under load that was about a quarter of the server's
CPU (py-spy, S1). ``BatchReadingProtocol`` reads whatever the stream holds (up to 64 KiB) in
one call and cuts every complete frame out of it, then hands each message to Tornado's own
``_handle_message`` (close handshake, ping/pong, ``on_message``), so behaviour is Tornado's:
the same size limit (1009 before the payload is read), fragmentation rules, and aborts on
reserved bits or bad control frames. permessage-deflate is never negotiated here
(``BoardSocket.get_compression_options``), so a frame with RSV bits set is an error.
"""

from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError
from tornado.util import _websocket_mask
from tornado.websocket import WebSocketProtocol13

_READ_CHUNK = 64 * 1024
_YIELD_AFTER_BYTES = 256 * 1024  # let other connections run, as Tornado's loop does


class BatchReadingProtocol(WebSocketProtocol13):
    """``WebSocketProtocol13`` whose receive loop parses many frames per stream read."""

    async def _receive_frame_loop(self) -> None:
        pending = b""  # the start of a frame not complete yet
        missing = 0  # bytes that frame still lacks, when its header says so
        since_yield = 0
        try:
            while not self.client_terminated:
                if missing > _READ_CHUNK:  # the rest of a large frame, in one read
                    chunk = await self.stream.read_bytes(missing)
                else:
                    chunk = await self.stream.read_bytes(_READ_CHUNK, partial=True)
                self._wire_bytes_in += len(chunk)
                data = pending + chunk if pending else chunk
                handled = await self._handle_frames(data)
                if handled is None:
                    return  # aborted: the stream is closed
                used, missing = handled
                pending = data[used:]
                since_yield += used
                if since_yield >= _YIELD_AFTER_BYTES:
                    since_yield = 0
                    await asyncio.sleep(0)
        except StreamClosedError:
            self._abort()
        finally:
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    async def _handle_frames(self, data: bytes) -> tuple[int, int] | None:
        """Handle every complete frame at the start of ``data``; returns the bytes used and
        how many more the next frame needs (0 if its header is incomplete), or ``None`` when
        the connection was aborted."""
        pos, end = 0, len(data)
        while not self.client_terminated and end - pos >= 2:
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
            fragments = self._fragmented_message_buffer
            if length + (len(fragments) if fragments is not None else 0) > \
                    self.params.max_message_size:
                self.close(1009, "message too big")
                self._abort()
                return None
            masked = second & 0x80
            if masked:
                header += 4
            if end - pos < header + length:
                return pos, header + length - (end - pos)
            payload = data[pos + header:pos + header + length]
            if masked:
                payload = _websocket_mask(data[pos + header - 4:pos + header], payload)
            pos += header + length
            message = self._assemble(opcode, bool(is_final), payload)
            if message is None:
                continue
            if message is False:
                return None
            handled = self._handle_message(*message)
            if handled is not None:
                await handled
        return pos, 0

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
