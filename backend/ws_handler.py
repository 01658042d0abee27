"""BoardSocket: the WebSocket endpoint ``/ws/<board name>`` (RFC 6455, y-websocket framing).

Kept thin: ``prepare`` refuses before the upgrade, with a JSON body saying why: a foreign
Origin (403), a missing or bad token (401), a token for another board or a
revoked one (403), too many connections (429/503); a name that cannot be a board
(``board_names``) is closed with 4400 a second after the upgrade. ``open`` makes the
peer; ``join_room``, which the frame reader awaits before it reads the first frame, waits
until the board is loaded and joins its room (so nothing is handled against a half-loaded
board), ``on_message`` passes the frame to the room, ``on_close`` leaves. Frames are read
by ``ws_reader`` (sizes, the rate limiter that pauses reading, large sync step 2 frames read
in chunks); this handler is its ``FrameGate``. Pings are sent by the registry; only a pong
echoing the latest one counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

from tornado import httputil
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from . import metrics
from .access import AccessDenied, Role, TokenSigner, origin_allowed
from .admission import Admission, AdmissionRefused
from .board_names import board_name_problem, decode_path_name
from .config import Settings
from .errors import CloseConnection
from .http_policy import LOGGED_URI_CHARS, SecureHeaders, cut_for_log
from .limits import RateLimiter
from .peer import Peer
from .protocol import CloseCode, permission_denied_message
from .registry import BoardRegistry
from .room import Room
from .ws_reader import BatchReadingProtocol

log = logging.getLogger(__name__)

REFUSED_NAME_CLOSE_DELAY_S = 1.0
"""How long a socket with a refused board name stays open before its 4400 close. y-websocket
3.1 stops on the close whenever it comes; 1.x to 3.0 retry on every close, after 100 ms when
the socket had opened (2.5 s after a refused upgrade): held this long, they retry about once
a second instead of ten times."""


class BoardSocket(SecureHeaders, WebSocketHandler):
    """One client connection to one board."""

    # Slots, not instance-dict keys: Tornado's handler sets 27 keys of this object's
    # __dict__, and CPython keeps an instance dict compact only below 30 keys (from 30 on,
    # the dict's table alone is 1.3 KiB, a tenth of an idle connection).
    __slots__ = ("admission", "generation", "limiter", "max_step2_bytes",
                 "min_read_bytes_per_s", "name_problem", "peer", "read_window_s", "registry",
                 "role", "room", "settings_", "signer")

    def initialize(self, registry: BoardRegistry, settings: Settings,
                   signer: TokenSigner | None) -> None:
        self.registry = registry
        self.settings_ = settings
        self.signer = signer
        self.peer: Peer | None = None
        self.room: Room | None = None
        self.role = Role.EDIT
        self.generation: int | None = None
        self.name_problem: str | None = None
        self.admission: Admission | None = None
        self.limiter = RateLimiter(settings.rate_messages_per_s, settings.rate_burst_messages,
                                   settings.rate_bytes_per_s, settings.rate_burst_bytes,
                                   settings.rate_grace_s, settings.max_step2_bytes)
        self.max_step2_bytes = settings.max_step2_bytes
        self.min_read_bytes_per_s = settings.min_read_bytes_per_s
        self.read_window_s = settings.read_window_s

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        if name is None:  # the board name from the path: not UTF-8 is refused in open()
            return decode_path_name(value)
        return super().decode_argument(value, name)

    async def prepare(self) -> None:
        board_id = self.path_args[0] if self.path_args else ""
        own = {f"{self.request.protocol}://{self.request.host}".lower()}
        if not origin_allowed(self.request.headers.get("Origin"),
                              self.settings_.allowed_origin, own):
            self._refuse(403, "origin not allowed", "set --allowed-origin to accept it")
            return
        # A bad name is refused after the upgrade, with 4400: the stock client retries an
        # HTTP refusal forever, but stops on a 44xx close (README, "Connecting a Yjs app").
        self.name_problem = board_name_problem(board_id)
        if self.name_problem is not None:
            return
        try:  # counted before the first await, released in on_finish/on_close
            self.admission = self.registry.admit(board_id, self.request.remote_ip or "?")
        except AdmissionRefused as exc:
            self._refuse(exc.status, "too many connections", exc.reason)
            return
        if self.signer is not None:
            try:
                grant = self.signer.verify(self.get_query_argument("token", None), board_id,
                                           await self.registry.store.token_generation(board_id))
            except AccessDenied as exc:
                self._refuse(exc.status, "access denied", exc.reason)
                return
            self.role, self.generation = grant.role, grant.generation

    def on_finish(self) -> None:
        if self.get_status() != 101 and self.admission is not None:
            self.admission.release()  # refused, or failed before the upgrade

    def _refuse(self, status: int, error: str, detail: str) -> None:
        # One line per status per 10 s: a retrying crowd or a forger must not flood the log.
        held = self.registry.admissions.log_throttle.allow(time.monotonic(), status)
        if held is not None:
            log.info("refused WebSocket %s from %s: %d %s (%s)%s",
                     cut_for_log(self.request.path, LOGGED_URI_CHARS),
                     self.request.remote_ip, status, error, detail,
                     f"; {held} more refused since the last report" if held else "")
        metrics.count_http_refusal(status)
        self.set_status(status)
        self.finish({"error": error, "detail": detail})

    def check_origin(self, origin: str) -> bool:
        return True  # checked in prepare(), which can answer with a JSON reason

    def get_compression_options(self) -> None:
        return None  # no permessage-deflate: Peer.send writes frames uncompressed

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        """Tornado's RFC 6455 protocol with the batched frame reader (``ws_reader``)."""
        protocol = super().get_websocket_protocol()
        if isinstance(protocol, WebSocketProtocol13):
            return BatchReadingProtocol(self, False, protocol.params)
        return protocol

    def open(self, board_id: str) -> None:
        self._release_handshake()
        if self.name_problem is not None:
            log.info("refused board name %s from %s: %s",
                     cut_for_log(ascii(board_id), LOGGED_URI_CHARS), self.request.remote_ip,
                     self.name_problem)
            self.write_message(permission_denied_message(self.name_problem), binary=True)
            metrics.count_close(CloseCode.WS_4400_BAD_REQUEST)
            IOLoop.current().call_later(REFUSED_NAME_CLOSE_DELAY_S, self.close,
                                        CloseCode.WS_4400_BAD_REQUEST, self.name_problem[:120])
            return
        self.peer = Peer(self, board_id, self.request.remote_ip or "?",
                         self.settings_.max_pending_bytes, read_only=self.role is Role.VIEW,
                         generation=self.generation, backlog=self.registry.backlog)

    async def join_room(self) -> None:
        """``FrameGate``: wait until the board is loaded and join its room. The reader calls
        it before it reads the first frame (so nothing is handled against a half-loaded
        board), after ``open`` returned: a burst of joins waits for its boards here, not
        under the handshake's coroutines."""
        if self.peer is None:
            return  # a refused name: frames are read only for the close handshake
        board_id = self.peer.board_id
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
        # Frames are small and latency-bound: without TCP_NODELAY, Nagle's algorithm and the
        # peer's delayed ACK hold them back tens of milliseconds (measured: 30-35 ms median).
        self.set_nodelay(True)
        self.registry.join(room, self.peer)

    def _release_handshake(self) -> None:
        """Drop what only the HTTP upgrade needed, kept otherwise for the connection's life:
        the request's headers, the finished HTTP/1 connection (detached from the stream)
        and the server's record of it (with its finished serving task), the response
        headers, and ``ui`` (the template helpers, closures over this handler), which
        Tornado's own ``_break_cycles`` drops at close. Logging keeps the method, URI and
        address. The handshake's coroutines, suspended under ``open``, hold the old headers
        too until it returns (``ws_reader`` then reads frames in a task of their own and
        they finish): they are emptied in place first, so that a connection waiting for its
        board to load keeps no header values meanwhile."""
        self.request.headers.clear()
        self.request.headers = httputil.HTTPHeaders()
        self.request.connection = None
        self.request.server_connection = None
        self._headers = httputil.HTTPHeaders()
        self.ui = None  # type: ignore[assignment]

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Hand a frame to the room; when the room handles it later (``Room.receive``),
        return what Tornado awaits before it reads this connection's next frame."""
        if self.room is None or self.peer is None:
            return None
        if isinstance(message, str):
            log.warning("board %s peer %s: closing with 1007: text frame", self.room.board_id,
                        self.peer.name)
            self.peer.close(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                            "text frames are not part of the protocol")
            return None
        room, peer = self.room, self.peer
        try:
            handled = room.receive(peer, message)
        except Exception:
            _internal_error(room.board_id, peer)
            return None
        return None if handled is None else _handled(handled, room.board_id, peer)

    def on_pong(self, data: bytes) -> None:
        if self.peer is not None:
            self.peer.pong(data)

    def rate_limited(self) -> None:
        """``FrameGate``: over its rate for longer than the grace period: close with 4429."""
        self.refuse_frame(CloseCode.WS_4429_RATE_LIMITED,
                          f"over the rate limit for more than {self.settings_.rate_grace_s} s")

    def refuse_frame(self, code: CloseCode, reason: str) -> None:
        """``FrameGate``: close this connection with ``code`` (logged once)."""
        board_id = self.room.board_id if self.room is not None else "-"
        name = self.peer.name if self.peer is not None else self.request.remote_ip
        log.warning("board %s peer %s: closing with %d (%s): %s", board_id, name, code,
                    code.name, reason)
        if self.peer is not None:
            self.peer.close(code, reason)
        else:
            self.close(int(code), reason[:120])

    def reserve_step2(self, length: int) -> tuple[CloseCode, str] | None:
        """``FrameGate``: admit a large sync step 2 of ``length`` bytes before reading it:
        the board must have room for it (4413) and the process budget for large frames in
        flight must too (1013, the client retries)."""
        if self.room is None or self.peer is None or self.peer.closed:
            return CloseCode.WS_1011_INTERNAL_ERROR, "not joined to a board"
        if not self.peer.read_only:
            try:
                self.room.check_size_cap(length)
            except CloseConnection as exc:
                return exc.code, exc.reason
        if not self.registry.receive_budget.reserve(length):
            return (CloseCode.WS_1013_TRY_AGAIN_LATER,
                    "the server is receiving other large edits; retry shortly")
        return None

    def release_step2(self, length: int) -> None:
        """``FrameGate``: the large frame reserved with ``reserve_step2`` is done."""
        self.registry.receive_budget.release(length)

    def on_close(self) -> None:
        if self.admission is not None:
            self.admission.release()
        if self.peer is not None:
            self.peer.closed = True
        if self.room is not None and self.peer is not None:
            self.registry.leave(self.room, self.peer)
            self.room = None


async def _handled(handled: asyncio.Future, board_id: str, peer: Peer) -> None:
    """Wait for a frame the room handles later (a big update checked in the worker): Tornado
    reads the connection's next frame only after this returns."""
    try:
        await handled
    except asyncio.CancelledError:
        pass  # the server is shutting down: the peer is closed with 1001
    except Exception:
        _internal_error(board_id, peer)


def _internal_error(board_id: str, peer: Peer) -> None:
    log.exception("board %s peer %s: unexpected error; closing with 1011", board_id, peer.name)
    peer.close(CloseCode.WS_1011_INTERNAL_ERROR, "internal error")
