"""The change feed over HTTP: Server-Sent Events (the WHATWG ``text/event-stream`` format).

``GET /api/boards/<id>/events`` (a view or edit token, as ``Authorization: Bearer`` or
``?token=``: a browser's ``EventSource`` cannot send headers) streams one board's events;
``GET /api/events`` (the admin token) those of every board. Each event is written as::

    id: <seq>
    event: <type>
    data: <the event as one line of JSON>

A client that reconnects sends ``Last-Event-ID`` (``EventSource`` does it by itself; a
script may pass ``?lastEventId=`` instead) and gets every event after it, in order, from the
backlog (``hub.py``); if that event is no longer kept it gets a ``reset`` event first (its
``id`` is where the stream goes on from: re-read ``export.json``, then carry on). Without an
id the stream starts with the next event, after a ``ready`` event carrying the current
``id`` (so a client that saw nothing yet can still resume). A comment line every
``HEARTBEAT_S`` keeps proxies from closing an idle stream. A board's stream re-checks its
token every ``ACCESS_RECHECK_S`` and ends once the board's links were rotated.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.web import HTTPError

from ..access import AccessDenied, Role
from ..http_handlers import JsonHandler
from ..registry import BoardRegistry
from . import event_metrics as metrics
from .hub import Backlog, Event, EventHub

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
ACCESS_RECHECK_S = 15.0
"""A board's stream re-checks its token this often: rotated links end it (as they close
WebSockets with 4403)."""
MAX_EVENTS_PER_WRITE = 100
RETRY_MS = 2000


class FeedClients:
    """Open feed connections of this process, capped at ``--events-max-clients``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.handlers: set[_FeedHandler] = set()

    def end_all(self) -> None:
        """Make every open stream end (server shutdown); their readers reconnect later."""
        for handler in self.handlers:
            handler.end()


def event_routes(registry: BoardRegistry, hub: EventHub, clients: FeedClients) -> list:
    """The two feed routes, for ``make_app``."""
    kwargs = {"registry": registry, "hub": hub, "clients": clients}
    return [(r"/api/boards/([^/]+)/events", BoardEventsHandler, kwargs),
            (r"/api/events", AllEventsHandler, kwargs)]


class _FeedHandler(JsonHandler):
    """One SSE connection reading one backlog from a cursor."""

    def initialize(self, registry: BoardRegistry, hub: EventHub, clients: FeedClients) -> None:
        self.registry = registry
        self.hub = hub
        self.clients = clients
        self._gone = False
        self._backlog: Backlog | None = None

    def bearer_token(self) -> str | None:
        """The bearer token, else ``?token=`` (``EventSource`` sends no headers)."""
        return super().bearer_token() or self.get_query_argument("token", None)

    def on_connection_close(self) -> None:
        self._gone = True

    def end(self) -> None:
        """End this stream at its next turn (the server is shutting down)."""
        self._gone = True
        if self._backlog is not None:
            self._backlog.wake()

    async def stream(self, board_id: str | None) -> None:
        """Write events of ``board_id`` (None: all boards) until the client goes away or
        the board is deleted."""
        if self.clients.open >= self.clients.limit:
            metrics.FEED_CLIENTS_REFUSED.inc()
            raise HTTPError(503, f"this server holds its limit of {self.clients.limit} "
                                 "change-feed connections")
        self.clients.open += 1
        self.clients.handlers.add(self)
        self.hub.attach(board_id)
        try:
            await self.hub.announce(board_id)  # other processes' feeds follow it from now
            await self._stream(board_id)
        except StreamClosedError:
            pass
        finally:
            self.hub.detach(board_id)
            self.clients.open -= 1
            self.clients.handlers.discard(self)

    async def _stream(self, board_id: str | None) -> None:
        backlog = self._backlog = self.hub.all if board_id is None else self.hub.board(board_id)
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")  # nginx: do not buffer the stream
        cursor = _last_event_id(self.request.headers.get("Last-Event-ID")
                                or self.get_query_argument("lastEventId", None))
        self.write(f"retry: {RETRY_MS}\n\n")
        live = cursor is None  # a client's id is checked against the retention once
        if cursor is None:
            cursor = backlog.head
            self.write(_frame(cursor, "ready", json.dumps({"board": board_id, "seq": cursor})))
        await self.flush()
        checked_at = time.monotonic()
        while not self._gone:
            if board_id is not None and time.monotonic() - checked_at >= ACCESS_RECHECK_S:
                checked_at = time.monotonic()
                if not await self._still_allowed(board_id):
                    return  # links rotated: the client's reconnect gets its 403
            events = await self.hub.read(board_id, cursor, live)
            live = True  # from here on the cursor is ours: only trimming can outrun it
            if events is None:
                metrics.FEED_RESETS.inc()
                cursor = backlog.head
                self.write(_frame(cursor, "reset", json.dumps(
                    {"board": board_id, "seq": cursor,
                     "reason": "events after your Last-Event-ID are no longer kept; "
                               "re-read the board's export.json"})))
                await self.flush()
                continue
            if not events:
                await backlog.wait(HEARTBEAT_S)
                if not self._gone and backlog.head == cursor:
                    self.write(": keep-alive\n\n")
                    await self.flush()
                continue
            for event in events[:MAX_EVENTS_PER_WRITE]:
                self.write(_frame(event.seq, event.type, event.data))
                cursor = event.seq
            await self.flush()  # waits while the client reads slowly: it falls behind
            if board_id is not None and _deleted(events[:MAX_EVENTS_PER_WRITE]):
                return


    async def _still_allowed(self, board_id: str) -> bool:
        try:
            await self.access.authorize(board_id, self.bearer_token(), Role.VIEW)
        except AccessDenied:
            return False
        return True


class BoardEventsHandler(_FeedHandler):
    """``GET /api/boards/<id>/events``: one board's feed (view or edit token)."""

    async def get(self, board_id: str) -> None:
        self.board_id_or_404(board_id)
        await self.require_board(board_id, Role.VIEW)
        if not await self.registry.board_exists(board_id):
            raise HTTPError(404, "no such board")
        await self.stream(board_id)


class AllEventsHandler(_FeedHandler):
    """``GET /api/events``: every board's events (admin token); ids are this feed's own."""

    async def get(self) -> None:
        self.require_admin()
        await self.stream(None)


def _frame(seq: int, event_type: str, data: str) -> str:
    return f"id: {seq}\nevent: {event_type}\ndata: {data}\n\n"


def _deleted(events: list[Event]) -> bool:
    return any(event.type == "board.deleted" for event in events)


def _last_event_id(raw: Any) -> int | None:
    """The seq of a Last-Event-ID (None when absent); a malformed one is a 400."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 19:
        raise HTTPError(400, "Last-Event-ID must be an id this feed sent (a decimal number)")
    return int(text)
