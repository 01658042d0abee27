"""BoardSocket: the WebSocket endpoint ``/ws/<board_id>`` (RFC 6455, y-websocket framing).

Kept thin: ``prepare`` refuses a bad board id with 400 before the upgrade, ``open`` waits
until the board is loaded and joins its room (Tornado reads no frame before ``open``
returns, so nothing is handled against a half-loaded board), ``on_message`` passes the frame
to the room, ``on_close`` leaves. Frame size and ping/pong are enforced by Tornado from the
application settings (``websocket_max_message_size`` closes with 1009).
"""

from __future__ import annotations

import logging
import re

from tornado.websocket import WebSocketHandler

from .config import Settings
from .peer import Peer
from .protocol import BOARD_ID_PATTERN, CloseCode
from .registry import BoardRegistry
from .room import Room

log = logging.getLogger(__name__)
_BOARD_ID = re.compile(BOARD_ID_PATTERN)


class BoardSocket(WebSocketHandler):
    """One client connection to one board."""

    def initialize(self, registry: BoardRegistry, settings: Settings) -> None:
        self.registry = registry
        self.settings_ = settings
        self.peer: Peer | None = None
        self.room: Room | None = None

    def prepare(self) -> None:
        board_id = self.path_args[0] if self.path_args else ""
        if not _BOARD_ID.fullmatch(board_id):
            self.set_status(400)
            self.finish({"error": "invalid board id", "detail":
                         f"a board id is 1-64 characters of {BOARD_ID_PATTERN[1:-1]}"})

    def check_origin(self, origin: str) -> bool:
        return True  # any origin until access control exists (see README, Security)

    def get_compression_options(self) -> None:
        return None  # no permessage-deflate: Peer.send writes frames uncompressed

    async def open(self, board_id: str) -> None:
        self.peer = Peer(self, board_id, self.request.remote_ip or "?",
                         self.settings_.max_pending_bytes)
        try:
            room = await self.registry.acquire(board_id)
        except Exception:
            log.exception("board %s: loading failed; closing peer %s", board_id, self.peer.name)
            self.peer.close(CloseCode.WS_1011_INTERNAL_ERROR, "board could not be loaded")
            return
        if self.ws_connection is None or self.ws_connection.is_closing():
            self.registry.release_if_idle(room)  # the client left while the board loaded
            return
        self.room = room
        self.registry.join(room, self.peer)

    def on_message(self, message: str | bytes) -> None:
        if self.room is None or self.peer is None:
            return
        if isinstance(message, str):
            log.warning("board %s peer %s: closing with 1007: text frame", self.room.board_id,
                        self.peer.name)
            self.peer.close(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                            "text frames are not part of the protocol")
            return
        try:
            self.room.receive(self.peer, message)
        except Exception:
            log.exception("board %s peer %s: unexpected error; closing with 1011",
                          self.room.board_id, self.peer.name)
            self.peer.close(CloseCode.WS_1011_INTERNAL_ERROR, "internal error")

    def on_close(self) -> None:
        if self.peer is not None:
            self.peer.closed = True
        if self.room is not None and self.peer is not None:
            self.registry.leave(self.room, self.peer)
            self.room = None
