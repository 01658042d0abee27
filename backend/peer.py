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

    __slots__ = ("_handler", "board_id", "closed", "dropped_edits", "generation",
                 "max_pending_bytes", "name", "read_only", "remote")

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
            self._drop(connection)
            return
        try:
            # permessage-deflate is not negotiated (BoardSocket.get_compression_options), so
            # the frame goes out as is.
            connection._write_frame(True, _OPCODE_BINARY, frame)
        except StreamClosedError:
            self.closed = True
            return
        metrics.count_sent(frame)

    def _drop(self, connection) -> None:
        # No close frame: it would queue behind the backlog the client is not reading, and
        # Tornado would keep that backlog for 5 s waiting for a reply. Closing the stream
        # frees it now; the client sees an abnormal closure (1006) and resyncs on reconnect.
        self.closed = True
        connection.stream.close()

    def close(self, code: CloseCode, reason: str) -> None:
        """Close the connection with ``code``; further sends are ignored."""
        if self.closed:
            return
        self.closed = True
        metrics.count_close(code)
        self._handler.close(int(code), reason[:120])
