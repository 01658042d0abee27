"""YClient: a small real Yjs peer for tests (pycrdt Doc over a Tornado WebSocket client).

It speaks the y-websocket protocol the way the stock client does: sends sync step 1 on open,
answers the server's step 1 with step 2, applies step 2 and updates, records awareness and
the close code. Local edits are sent as update messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from pycrdt import (
    Array,
    Doc,
    Map,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    write_var_uint,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from backend.protocol import MessageType, SyncType, read_var_uint


def state_vector(doc: Doc) -> dict[int, int]:
    """A document's state vector as ``{client id: clock}``. Compare these, not the encoded
    bytes: Yjs encodes the clients in hash-map order, which differs between documents."""
    return decoded_state_vector(doc.get_state())


def decoded_state_vector(data: bytes) -> dict[int, int]:
    """An encoded state vector (``Doc.get_state``, sync step 1) as ``{client id: clock}``."""
    count, pos = read_var_uint(data, 0)
    clocks = {}
    for _ in range(count):
        client, pos = read_var_uint(data, pos)
        clocks[client], pos = read_var_uint(data, pos)
    return clocks


def awareness_entries(frame: bytes) -> list[tuple[int, int, Any]]:
    """The ``(client id, clock, state)`` entries of one awareness frame, in order."""
    _, pos = read_var_uint(frame, 1)
    count, pos = read_var_uint(frame, pos)
    entries = []
    for _ in range(count):
        client_id, pos = read_var_uint(frame, pos)
        clock, pos = read_var_uint(frame, pos)
        length, pos = read_var_uint(frame, pos)
        entries.append((client_id, clock, json.loads(frame[pos:pos + length])))
        pos += length
    return entries


class YClient:
    """One connection to one board, holding its own copy of the document."""

    def __init__(self, url: str, doc: Doc | None = None,
                 headers: dict[str, str] | None = None, ssl_options=None) -> None:
        self.url = url
        self.headers = headers or {}
        self.ssl_options = ssl_options
        self.doc = doc or Doc()
        self.ws: WebSocketClientConnection | None = None
        self.frames: list[bytes] = []
        self.awareness: dict[int, tuple[int, Any]] = {}
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._reader: asyncio.Task | None = None

    async def connect(self, timeout_s: float = 10) -> YClient:
        """Open the socket and send sync step 1."""
        self.synced.clear()
        self.closed.clear()
        request = HTTPRequest(self.url, headers=self.headers, ssl_options=self.ssl_options)
        self.ws = await asyncio.wait_for(websocket_connect(request, max_message_size=64 << 20),
                                         timeout_s)
        self._reader = asyncio.create_task(self._read_loop(self.ws))
        await self.send(create_sync_message(self.doc))
        return self

    async def sync(self, timeout_s: float = 10) -> YClient:
        """Connect and wait for the server's step 2."""
        await self.connect(timeout_s)
        await asyncio.wait_for(self.synced.wait(), timeout_s)
        return self

    @property
    def elements(self) -> Map:
        """The board's ``elements`` map."""
        return self.doc.get("elements", type=Map)

    def snapshot(self) -> dict:
        """Plain copy of the ``elements`` map."""
        return json.loads(str(self.elements)) if len(self.elements) else {}

    async def edit(self, change: Callable[[Doc], None]) -> bytes:
        """Run ``change`` on the local doc and send the resulting update; return it."""
        before = self.doc.get_state()
        with self.doc.transaction():
            change(self.doc)
        update = self.doc.get_update(before)
        await self.send(create_update_message(update))
        return update

    async def put(self, key: str, value: Any) -> bytes:
        """Set ``elements[key] = value`` and send the update."""
        def change(doc: Doc) -> None:
            doc.get("elements", type=Map)[key] = value
        return await self.edit(change)

    async def append(self, array: str, value: Any) -> bytes:
        """Append ``value`` to the top-level array ``array`` and send the update."""
        def change(doc: Doc) -> None:
            doc.get(array, type=Array).append(value)
        return await self.edit(change)

    async def set_presence(self, client_id: int, clock: int, state: Any) -> None:
        """Send one awareness entry."""
        text = json.dumps(state).encode()
        payload = (write_var_uint(1) + write_var_uint(client_id) + write_var_uint(clock)
                   + write_var_uint(len(text)) + text)
        await self.send(create_awareness_message(payload))

    async def send(self, frame: bytes) -> None:
        """Send one raw frame."""
        assert self.ws is not None
        await self.ws.write_message(frame, binary=True)

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10,
                       what: str = "condition") -> None:
        """Poll ``predicate`` every 10 ms until true; fail after ``timeout_s``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
            await asyncio.sleep(0.01)

    async def wait_closed(self, timeout_s: float = 10) -> int | None:
        """Wait until the server closed the socket; return the close code."""
        await asyncio.wait_for(self.closed.wait(), timeout_s)
        return self.close_code

    def close(self) -> None:
        """Close the socket (normal closure)."""
        if self.ws is not None:
            self.ws.close()

    async def _read_loop(self, ws: WebSocketClientConnection) -> None:
        while True:
            message = await ws.read_message()
            if message is None:
                self.close_code, self.close_reason = ws.close_code, ws.close_reason
                self.closed.set()
                return
            assert isinstance(message, bytes)
            self.frames.append(message)
            await self._handle(message)

    async def _handle(self, message: bytes) -> None:
        if message[0] == MessageType.SYNC:
            reply = handle_sync_message(message[1:], self.doc)
            if message[1] == SyncType.STEP2:
                self.synced.set()
            if reply is not None:
                await self.send(reply)
        elif message[0] == MessageType.AWARENESS:
            self._record_awareness(message)

    def _record_awareness(self, message: bytes) -> None:
        for client_id, clock, state in awareness_entries(message):
            self.awareness[client_id] = (clock, state)

    def present(self) -> dict[int, Any]:
        """Client ids with a non-null awareness state."""
        return {cid: st for cid, (_clock, st) in self.awareness.items() if st is not None}
