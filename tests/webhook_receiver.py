"""WebhookReceiver: a loopback HTTP server for webhook tests, in the test's own event loop.

It records every request (body, headers), answers ``fail_first`` requests with 500, and can
hold each request until ``release`` is set (or ``hold_s`` passed), like a slow receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler


@dataclass
class Received:
    """One request the receiver got, and what it answered."""

    body: bytes
    headers: dict[str, str]
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """See the module docstring; ``url`` after ``start()``."""

    fail_first: int = 0
    always_fail: bool = False
    hold_s: float = 0.0
    answer_bytes: int = 2  # size of a successful answer's body
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    _server: HTTPServer | None = None

    def start(self) -> WebhookReceiver:
        sockets = bind_sockets(0, "127.0.0.1")
        self._server = HTTPServer(Application([(r"/.*", _Handler, {"receiver": self})]))
        self._server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
        return self

    def delivered(self) -> list[dict[str, Any]]:
        """Events answered with 2xx, in arrival order."""
        return [r.event for r in self.received if r.status < 300]

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.stop()


class _Handler(RequestHandler):
    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    async def post(self) -> None:
        receiver = self.receiver
        receiver.in_flight += 1
        try:
            if receiver.hold_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(receiver.release.wait(), receiver.hold_s)
            failing = receiver.always_fail or len(receiver.received) < receiver.fail_first
            status = 500 if failing else 200
            receiver.received.append(Received(self.request.body, dict(self.request.headers),
                                              status))
            self.set_status(status)
            self.finish("no" if failing else "k" * receiver.answer_bytes)
        finally:
            receiver.in_flight -= 1
