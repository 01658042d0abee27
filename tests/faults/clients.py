"""Helpers for the fault tests: clients that survive a server kill, and the record of edits.

``ReconnectingClient`` wraps a ``YClient`` the way the stock y-websocket provider behaves: an
edit is made on the local document first and sent if the socket is open; when the socket
closed, the client reconnects with bounded back-off, and its answer to the server's sync
step 1 carries every edit the server lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

from pycrdt import Doc, Map, create_update_message
from tornado.httpclient import HTTPClientError
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from backend.store import open_store
from tests.yclient import YClient

RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 0.5


class ReconnectingClient:
    """One editing client that keeps its own record of every key it wrote."""

    def __init__(self, ws_url: str, board_id: str, name: str) -> None:
        self.url = f"{ws_url}/{board_id}"
        self.board_id = board_id
        self.name = name
        self.client = YClient(self.url)
        self.written: dict[str, str] = {}
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """Whether the socket is open and the last sync completed."""
        return self.client.ws is not None and not self.client.closed.is_set() \
            and self.client.synced.is_set()

    async def ensure_synced(self, deadline_s: float, sync_timeout_s: float = 10) -> None:
        """Reconnect until synced; raise ``AssertionError`` when ``deadline_s`` (loop time)
        passes first. Like the stock provider, an open socket is given ``sync_timeout_s`` to
        deliver the server's step 2; a refused or failed attempt is retried with back-off."""
        loop = asyncio.get_running_loop()
        pause_s = RECONNECT_FIRST_S
        while not self.connected:
            if loop.time() > deadline_s:
                raise AssertionError(f"{self.name} could not resync before the deadline")
            with contextlib.suppress(OSError, TimeoutError, StreamClosedError,
                                     WebSocketClosedError, HTTPClientError):
                self.client.close()
                await self.client.sync(timeout_s=sync_timeout_s)
                self.reconnects += 1
                return
            await asyncio.sleep(pause_s * random.uniform(0.5, 1.0))
            pause_s = min(pause_s * 2, RECONNECT_MAX_S)

    async def put(self, key: str, value: str) -> None:
        """Write ``elements[key] = value`` locally, record it, send it if connected."""
        def change(doc: Doc) -> None:
            doc.get("elements", type=Map)[key] = value
        before = self.client.doc.get_state()
        with self.client.doc.transaction():
            change(self.client.doc)
        self.written[key] = value
        update = self.client.doc.get_update(before)
        if self.connected:
            with contextlib.suppress(StreamClosedError, WebSocketClosedError):
                await self.client.send(create_update_message(update))

    def snapshot(self) -> dict:
        """The client's ``elements`` as plain data."""
        return self.client.snapshot()

    def close(self) -> None:
        """Close the socket."""
        self.client.close()


async def stored_elements(db_url: str, board_id: str) -> dict:
    """The board's ``elements`` rebuilt from the database alone (server stopped)."""
    store = await open_store(db_url)
    try:
        stored = await store.load_updates(board_id)
    finally:
        await store.close()
    doc = Doc()
    for update in stored:
        doc.apply_update(update)
    elements = doc.get("elements", type=Map)
    return json.loads(str(elements)) if len(elements) else {}


async def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll ``predicate`` until true; raise ``AssertionError`` naming ``what`` after
    ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(interval_s)
