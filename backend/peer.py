"""Peer: one WebSocket connection's outgoing side, with a cap on its unsent output.

Tornado's ``write_message`` buffers without limit and wraps every write in an asyncio task;
``send`` writes the binary frame straight onto the connection's stream instead and checks
the stream's unsent bytes first, so a client that stops reading is dropped before it
can make the server's memory grow, and the board's other peers never wait for it.
"""

from __future__ import annotations

import itertools
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler

from . import metrics
from .protocol import CloseCode

log = logging.getLogger(__name__)

_OPCODE_BINARY = 0x2
_peer_numbers = itertools.count(1)


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
        stream = connection.stream
        return stream._total_write_index - stream._total_write_done_index

    def send(self, frame: bytes) -> None:
        """Queue one binary frame; drop the connection if its backlog is over the cap."""
        if self.closed:
            return
        connection = self._handler.ws_connection
        if connection is None or connection.is_closing():
            return
        if self.pending_bytes + len(frame) > self.max_pending_bytes:
            log.warning("board %s peer %s: %d bytes unsent, over the %d-byte cap; dropping "
                        "the connection", self.board_id, self.name, self.pending_bytes,
                        self.max_pending_bytes)
            self.drop()
            return
        try:
            # permessage-deflate is not negotiated (BoardSocket.get_compression_options), so
            # the frame goes out as is.
            connection._write_frame(True, _OPCODE_BINARY, frame)
        except StreamClosedError:
            self.closed = True
            return
        metrics.count_sent(frame)

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
