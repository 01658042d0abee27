"""GuardedHTTPServer: Tornado's HTTPServer, refusing connections at accept time (issue 18.9).

A connection costs a file descriptor from the moment it is accepted, long before a request
arrives: half-sent request heads from one address (slowloris) used to hold every descriptor
until ``accept`` failed with EMFILE in a loop and ``/healthz`` died. Here, before Tornado
allocates anything for a new connection, ``ConnectionGuard`` checks

- the descriptor budget: open sockets (HTTP and WebSocket) stay ``DESCRIPTOR_RESERVE`` below
  the process's open-file limit, so ``accept`` itself never fails (the database, log files
  and the next accept keep their descriptors);
- the peer address: at most ``max_sockets_per_ip`` open sockets from one address, and never
  more than half the budget (off with ``--behind-proxy``, where every peer is the proxy).

A refused connection is closed at once and logged at most once per ``LOG_EVERY_S`` with a
count (``LogThrottle``): a flood cannot flood the log. Idle and slow connections are bounded by
``--header-timeout-s`` and ``--body-timeout-s`` (Tornado's connection parameters).
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream

log = logging.getLogger(__name__)

DESCRIPTOR_RESERVE = 128
"""Descriptors kept free for everything but client sockets (database connections and their
WAL files, the listening sockets, logs, the event loop)."""
LOG_EVERY_S = 10.0
LISTEN_BACKLOG = 2048
"""Connections the kernel queues before we accept them (Tornado's default is 128; the kernel
caps it at net.core.somaxconn). With 128, a burst of 1,100 connections from one address filled
the queue, and /healthz's SYN was dropped and resent after 1 s: it took 1.1 s to answer."""


def raise_descriptor_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit (as Go's runtime does) and
    return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class LogThrottle:
    """Lets one log line per key through per ``every_s``; counts what it held back meanwhile.
    Keys are few (a status code, a reason): each has its own period."""

    def __init__(self, every_s: float = LOG_EVERY_S) -> None:
        self.every_s = every_s
        self._last: dict[object, float] = {}
        self._held: dict[object, int] = {}

    def allow(self, now: float, key: object = None) -> int | None:
        """None while ``key`` is throttled; else the number of its lines held back since its
        last one."""
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)


class ConnectionGuard:
    """Counts open sockets per peer address and decides, at accept time, whether one more
    may open.

    ``websockets_from(address)`` and ``websockets_total()`` report upgraded connections (the
    registry counts those from admission until they close): an upgraded socket leaves
    Tornado's HTTP connection, so it is counted there instead.
    """

    def __init__(self, max_per_address: int | None, descriptor_limit: int,
                 websockets_from: Callable[[str], int],
                 websockets_total: Callable[[], int]) -> None:
        self.budget = max(16, descriptor_limit - DESCRIPTOR_RESERVE)
        self.max_per_address = None if max_per_address is None else \
            max(1, min(max_per_address, self.budget // 2))
        self.refused_total = 0
        self._websockets_from = websockets_from
        self._websockets_total = websockets_total
        self._http: dict[str, int] = {}
        self._http_total = 0
        self._throttle = LogThrottle()

    def open_from(self, address: str) -> int:
        """Sockets open from ``address``: HTTP connections and admitted WebSockets."""
        return self._http.get(address, 0) + self._websockets_from(address)

    def refusal(self, address: str) -> str | None:
        """Why a new connection from ``address`` must be closed, or None."""
        if self._http_total + self._websockets_total() >= self.budget:
            return f"the server holds {self.budget} connections (its descriptor budget)"
        if self.max_per_address is not None and \
                self.open_from(address) >= self.max_per_address:
            return f"{self.max_per_address} connections are open from this address"
        return None

    def opened(self, address: str) -> None:
        self._http[address] = self._http.get(address, 0) + 1
        self._http_total += 1

    def closed(self, address: str) -> None:
        left = self._http.get(address, 0) - 1
        if left > 0:
            self._http[address] = left
        else:
            self._http.pop(address, None)
        self._http_total = max(0, self._http_total - 1)

    def log_refusal(self, address: str, reason: str, now: float) -> None:
        self.refused_total += 1
        held = self._throttle.allow(now)
        if held is not None:
            more = f" ({held} more refused since the last report)" if held else ""
            log.warning("refused a connection from %s: %s%s", address, reason, more)


class GuardedHTTPServer(HTTPServer):
    """``HTTPServer`` whose ``guard`` (a ``ConnectionGuard``) sees every accepted stream
    first. Construct as HTTPServer, with the extra keyword ``guard``."""

    def initialize(self, *args: Any, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.guard = guard

    def handle_stream(self, stream: IOStream, address: tuple) -> None:
        peer = _address_of(address)
        reason = self.guard.refusal(peer)
        if reason is not None:
            self.guard.log_refusal(peer, reason, time.monotonic())
            stream.close()
            return
        self.guard.opened(peer)
        super().handle_stream(stream, address)

    def on_close(self, server_conn: Any) -> None:
        self.guard.closed(_address_of(server_conn.context.address))
        super().on_close(server_conn)


def _address_of(address: Any) -> str:
    return address[0] if isinstance(address, tuple) and address else str(address or "?")
