"""SseReader: a small Server-Sent Events client for tests (raw HTTP/1.0 over asyncio streams).

HTTP/1.0 makes the server send the stream unchunked until it closes, so the reader only
splits lines. ``events`` holds ``(id, type, data)`` in arrival order (data parsed as JSON);
``close()`` drops the connection, as a client losing its network would.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class SseReader:
    """One change-feed connection."""

    def __init__(self, url: str, token: str | None = None,
                 last_event_id: int | None = None) -> None:
        self.url = urlsplit(url)
        self.token = token
        self.last_event_id = last_event_id
        self.status: int | None = None
        self.events: list[tuple[int, str, Any]] = []
        self.ended = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None

    async def open(self) -> SseReader:
        """Connect, send the request, wait for the status line, read on in the background."""
        reader, self._writer = await asyncio.open_connection(self.url.hostname, self.url.port)
        headers = [f"GET {self.url.path}{'?' + self.url.query if self.url.query else ''} "
                   "HTTP/1.0", f"Host: {self.url.netloc}", "Accept: text/event-stream"]
        if self.token:
            headers.append(f"Authorization: Bearer {self.token}")
        if self.last_event_id is not None:
            headers.append(f"Last-Event-ID: {self.last_event_id}")
        self._writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        status_line = await asyncio.wait_for(reader.readline(), 10)
        self.status = int(status_line.split()[1])
        while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
            pass
        self._task = asyncio.create_task(self._read(reader))
        return self

    def of_type(self, event_type: str) -> list[Any]:
        """The data of every event of ``event_type`` so far."""
        return [data for _id, kind, data in self.events if kind == event_type]

    async def wait_for(self, predicate, timeout_s: float = 20, what: str = "events") -> None:
        """Poll ``predicate()`` every 10 ms; fail after ``timeout_s``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; got {self.events}")
            await asyncio.sleep(0.01)

    def close(self) -> None:
        """Drop the connection."""
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        fields: dict[str, str] = {}
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                text = line.decode().rstrip("\r\n")
                if text == "":
                    if "data" in fields:
                        self.events.append((int(fields.get("id", "0")),
                                            fields.get("event", "message"),
                                            json.loads(fields["data"])))
                    fields = {}
                elif not text.startswith(":"):
                    name, _, value = text.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        finally:
            self.ended.set()
