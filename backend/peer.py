"""Peer: one WebSocket connection's outgoing side, with a cap on its unsent output.

Tornado's ``write_message`` buffers without limit and wraps every write in an asyncio task;
a peer writes WebSocket frames itself instead and checks the stream's unsent bytes first, so
a client that stops reading is dropped before it can make the server's memory grow, and the
board's other peers never wait for it.

A room frames each relay once (``websocket_frames``) and hands the same bytes to every peer
(``send_wire``). When nothing is queued on the stream, the bytes go straight to the socket
(one ``send`` call, no Future or loop callback per write, which is what ``IOStream.write``
costs); whatever the kernel does not take is queued on the stream, which keeps the order.
"""

from __future__ import annotations

import itertools
import logging
import struct

from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.websocket import WebSocketHandler

from . import metrics
from .protocol import CloseCode

log = logging.getLogger(__name__)

_FIN_BINARY = 0x82  # final frame, binary opcode
_peer_numbers = itertools.count(1)


def _unsent(stream: IOStream) -> int:
    """Bytes queued on ``stream`` that the kernel has not accepted yet."""
    return stream._total_write_index - stream._total_write_done_index


def websocket_frames(*messages: bytes) -> bytes:
    """``messages`` as unmasked, final, binary WebSocket frames (server to client, RFC 6455
    section 5.2), back to back, ready for ``Peer.send_wire``."""
    parts = []
    for message in messages:
        size = len(message)
        if size < 126:
            parts.append(bytes((_FIN_BINARY, size)))
        elif size <= 0xFFFF:
            parts.append(struct.pack("!BBH", _FIN_BINARY, 126, size))
        else:
            parts.append(struct.pack("!BBQ", _FIN_BINARY, 127, size))
        parts.append(message)
    return b"".join(parts)


class Peer:
    """The sending half of one client connection, as a room sees it.

    ``read_only`` peers (view tokens) get the board and live changes, but the room drops the
    document changes they send; ``generation`` is the token generation they joined with.
    """

    __slots__ = ("_handler", "awaiting_pong_since", "board_id", "closed", "dropped_edits",
                 "generation", "last_ping_at", "max_pending_bytes", "name", "read_only",
                 "remote")

    def __init__(self, handler: WebSocketHandler, board_id: str, remote: str,
                 max_pending_bytes: int, read_only: bool = False,
                 generation: int | None = None) -> None:
        self._handler = handler
        self.board_id = board_id
        self.remote = remote
        self.name = f"{remote}#{next(_peer_numbers)}"
        self.max_pending_bytes = max_pending_bytes
        self.read_only = read_only
        self.generation = generation
        self.dropped_edits = 0
        self.closed = False
        self.last_ping_at = 0.0
        self.awaiting_pong_since: float | None = None

    def __repr__(self) -> str:
        return f"Peer({self.name} on {self.board_id})"

    @property
    def pending_bytes(self) -> int:
        """Bytes written to this peer that the kernel has not accepted yet."""
        connection = self._handler.ws_connection
        if connection is None or connection.stream is None:
            return 0
        return _unsent(connection.stream)

    def send(self, message: bytes) -> None:
        """Send one protocol message to this peer alone (a reply, the first sync)."""
        if self.send_wire(websocket_frames(message)):
            metrics.count_sent(message)

    def send_wire(self, wire: bytes) -> bool:
        """Write framed bytes (``websocket_frames``); drop the connection if its backlog
        would pass the cap. Returns whether the bytes were written or queued.

        permessage-deflate is never negotiated (``BoardSocket.get_compression_options``), so
        frames go out as they are.
        """
        if self.closed:
            return False
        connection = self._handler.ws_connection
        if connection is None or connection.is_closing():
            return False
        stream = connection.stream
        pending = _unsent(stream)
        if pending + len(wire) > self.max_pending_bytes:
            log.warning("board %s peer %s: %d bytes unsent, over the %d-byte cap; dropping "
                        "the connection", self.board_id, self.name, pending,
                        self.max_pending_bytes)
            self.drop()
            return False
        if pending == 0 and not isinstance(stream, SSLIOStream):
            try:
                sent = stream.socket.send(wire)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:  # reset by the peer: close now, on_close cleans up
                self.drop()
                return False
            if sent == len(wire):
                return True
            wire = memoryview(wire)[sent:]
        try:
            stream.write(wire)
        except StreamClosedError:
            self.closed = True
            return False
        return True

    def ping(self, now: float) -> None:
        """Send a WebSocket ping; ``pong`` clears the wait."""
        self.last_ping_at = now
        if self.awaiting_pong_since is None:
            self.awaiting_pong_since = now
        connection = self._handler.ws_connection
        if not self.closed and connection is not None and not connection.is_closing():
            try:
                connection.write_ping(b"")
            except StreamClosedError:
                self.closed = True

    def pong(self) -> None:
        """The peer answered a ping: it is alive."""
        self.awaiting_pong_since = None

    def drop(self) -> None:
        """Close the TCP connection now, without a close handshake.

        For a peer that does not read (a stalled tab, a dead network path): a close frame
        would queue behind what it does not read, and Tornado would wait 5 s for a reply
        before letting go. Closing the stream frees the backlog and runs ``on_close`` (the
        room removes the peer and its presence) at once; the client sees 1006 and resyncs
        when it reconnects.
        """
        self.closed = True
        connection = self._handler.ws_connection
        if connection is not None and connection.stream is not None:
            connection.stream.close()

    def close(self, code: CloseCode, reason: str) -> None:
        """Close the connection with ``code``; further sends are ignored."""
        if self.closed:
            return
        self.closed = True
        metrics.count_close(code)
        self._handler.close(int(code), reason[:120])
