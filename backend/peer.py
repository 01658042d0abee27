"""Peer: one WebSocket connection's outgoing side, with a cap on its unsent output.

Tornado's ``write_message`` buffers without limit and wraps every write in an asyncio task;
a peer writes WebSocket frames itself instead and checks the stream's unsent bytes first, so
a client that stops reading is dropped before it can make the server's memory grow, and the
board's other peers never wait for it.

A sync step 2 the peer asked for is ``exempt`` from the per-peer cap while it drains: a fresh
joiner of a board bigger than the cap needs it in one frame. What bounds it instead is
progress and the process total (``backlog.SendBacklog``): a peer that stops reading is dropped
after one window, however little it holds.

A room frames each relay once (``websocket_frames``) and hands the same bytes to every peer
(``send_wire``). When nothing is queued on the stream, the bytes go straight to the socket
(one ``send`` call, no Future or loop callback per write, which is what ``IOStream.write``
costs); whatever the kernel does not take is queued on the stream, which keeps the order.
A big update (a joiner's step 2, the relay of one) is not copied into a frame at all: the
frame's ``head`` (``frame_header`` and the message's first bytes) and the update go out in
one ``sendmsg``, and what is left is queued as a view of the update.
"""

from __future__ import annotations

import itertools
import logging
import os
import struct
from typing import TYPE_CHECKING

from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.websocket import WebSocketHandler

from . import metrics
from .protocol import CloseCode

if TYPE_CHECKING:
    from .backlog import SendBacklog

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
        parts += [frame_header(len(message)), message]
    return b"".join(parts)


def frame_header(size: int) -> bytes:
    """The header of one unmasked, final, binary WebSocket frame of ``size`` payload bytes:
    with the payload's first bytes after it, the ``head`` of ``Peer.send_wire``, so a big
    payload is written as it is, not copied into a frame."""
    if size < 126:
        return bytes((_FIN_BINARY, size))
    if size <= 0xFFFF:
        return struct.pack("!BBH", _FIN_BINARY, 126, size)
    return struct.pack("!BBQ", _FIN_BINARY, 127, size)


class Peer:
    """The sending half of one client connection, as a room sees it.

    ``read_only`` peers (view tokens) get the board and live changes, but the room drops the
    document changes they send; ``generation`` is the token generation they joined with.
    """

    __slots__ = ("_backlog", "_exempt_end", "_exempt_start", "_handler", "_ping_payload",
                 "_shared_frame", "awaiting_pong_since", "board_id", "closed", "dropped_edits",
                 "generation", "last_ping_at", "max_pending_bytes", "name", "read_only",
                 "remote")

    def __init__(self, handler: WebSocketHandler, board_id: str, remote: str,
                 max_pending_bytes: int, read_only: bool = False,
                 generation: int | None = None, backlog: SendBacklog | None = None) -> None:
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
        self._ping_payload = b""
        self._backlog = backlog
        self._exempt_start = self._exempt_end = 0  # stream write positions of a step 2
        self._shared_frame: bytes | None = None  # that step 2, when several peers share it

    def __repr__(self) -> str:
        return f"Peer({self.name} on {self.board_id})"

    @property
    def pending_bytes(self) -> int:
        """Bytes written to this peer that the kernel has not accepted yet."""
        connection = self._handler.ws_connection
        if connection is None or connection.stream is None:
            return 0
        return _unsent(connection.stream)

    @property
    def drained_bytes(self) -> int:
        """Bytes the kernel took from this peer's queue so far (what reading progress is
        judged on)."""
        connection = self._handler.ws_connection
        if connection is None or connection.stream is None:
            return 0
        return connection.stream._total_write_done_index

    def backlog_bytes(self) -> tuple[int, bytes | None]:
        """Unsent bytes held for this peer alone, and the shared step 2 frame it is still
        draining (counted once over all peers), if any."""
        connection = self._handler.ws_connection
        if connection is None or connection.stream is None:
            return 0, None
        stream = connection.stream
        pending = _unsent(stream)
        if self._shared_frame is None:
            return pending, None
        shared_left = self._exempt_left(stream)
        if shared_left == 0:
            self._shared_frame = None
            return pending, None
        return pending - shared_left, self._shared_frame

    def _exempt_left(self, stream: IOStream) -> int:
        done = stream._total_write_done_index
        return max(0, self._exempt_end - max(self._exempt_start, done))

    def send(self, message: bytes) -> None:
        """Send one protocol message to this peer alone (a reply, the first sync)."""
        if self.send_wire(websocket_frames(message)):
            metrics.count_sent(message)

    def send_wire(self, wire: bytes, exempt: bool = False, shared: bool = False,
                  head: bytes = b"") -> bool:
        """Write framed bytes (``websocket_frames``), or ``head`` then ``wire`` (a frame
        whose payload's end is ``wire``, which is not copied); drop the connection if its
        backlog would pass the cap. Returns whether the bytes were written or queued.

        ``exempt``: a sync step 2 the peer asked for, not held against the per-peer cap
        while it drains (the backlog's progress rule and total still apply); so is any
        single frame larger than the cap (the relay of a big step 2). ``shared``: the same
        ``wire`` bytes object goes to several peers (counted once in the total).
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
        size = len(head) + len(wire)
        exempt = exempt or size > self.max_pending_bytes
        if not exempt and pending - self._exempt_left(stream) + size > self.max_pending_bytes:
            log.warning("board %s peer %s: %d bytes unsent, over the %d-byte cap; dropping "
                        "the connection", self.board_id, self.name, pending,
                        self.max_pending_bytes)
            self.drop()
            return False
        body: bytes | memoryview = wire
        if pending == 0 and not isinstance(stream, SSLIOStream):
            try:
                sent = stream.socket.sendmsg((head, wire)) if head else stream.socket.send(wire)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:  # reset by the peer: close now, on_close cleans up
                self.drop()
                return False
            if sent == size:
                return True
            if sent < len(head):
                head = head[sent:]
            else:
                body, head = memoryview(wire)[sent - len(head):], b""
        queued = len(head) + len(body)
        try:
            if head:
                stream.write(head)
            stream.write(body)
        except StreamClosedError:
            self.closed = True
            return False
        if exempt:
            end = stream._total_write_index
            if self._exempt_left(stream) == 0:
                self._exempt_start = end - queued
            self._exempt_end = end
            self._shared_frame = wire if shared else None
        if self._backlog is not None:
            self._backlog.queued(self, queued)
        return True

    def ping(self, now: float) -> None:
        """Send a WebSocket ping with a fresh random payload; only a pong echoing it (the
        latest ping, RFC 6455 section 5.5.3) clears the wait (``pong``)."""
        self.last_ping_at = now
        if self.awaiting_pong_since is None:
            self.awaiting_pong_since = now
        self._ping_payload = os.urandom(8)
        connection = self._handler.ws_connection
        if not self.closed and connection is not None and not connection.is_closing():
            try:
                connection.write_ping(self._ping_payload)
            except StreamClosedError:
                self.closed = True

    def pong(self, payload: bytes) -> None:
        """A pong arrived: the peer is alive if it echoes our latest ping. Unsolicited or
        stale pongs change nothing (they would keep a peer that reads nothing alive)."""
        if self._ping_payload and payload == self._ping_payload:
            self.awaiting_pong_since = None
            self._ping_payload = b""

    def drop(self) -> None:
        """Close the TCP connection now, without a close handshake.

        For a peer that does not read (a stalled tab, a dead network path): a close frame
        would queue behind what it does not read, and Tornado would wait 5 s for a reply
        before letting go. Closing the stream frees the backlog and runs ``on_close`` (the
        room removes the peer and its presence) at once; the client sees 1006 and resyncs
        when it reconnects.
        """
        self.closed = True
        if self._backlog is not None:
            self._backlog.forget(self)
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
