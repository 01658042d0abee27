"""HookWorker: one hook's deliveries, one at a time and in order, retried with backoff.

An event waits in the hook's queue (at most ``--webhook-queue-events`` besides the one being
delivered; past it the oldest waiting is dropped and logged) until the previous one is
delivered or given up. A delivery is a
signed POST of the event's JSON (``signature.py``) with ``--webhook-timeout-s``; a 2xx answer
delivers it, anything else (another status, a refused address, a timeout, a response over
``--webhook-max-response-bytes``) is retried after ``backoff_s(attempt)`` for at most
``--webhook-retry-max-s``. A delivery given up pauses the hook: it says so in the API and
receives nothing until it is resumed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httputil import HTTPInputError
from tornado.iostream import StreamClosedError

from .. import event_metrics as metrics
from . import hook_store
from .address_policy import RefusedAddress
from .hook_store import Hook
from .signature import HEADER, sign

log = logging.getLogger(__name__)

BACKOFF_MAX_S = 60.0
MAX_ERROR_CHARS = 300


def backoff_s(attempt: int, base_s: float = 1.0) -> float:
    """Wait before attempt ``attempt + 1``: ``base_s`` doubling, at most ``BACKOFF_MAX_S``."""
    return min(BACKOFF_MAX_S, base_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class DeliveryLimits:
    """From ``Settings``: ``webhook_timeout_s``, ``webhook_retry_max_s``,
    ``webhook_queue_events``, and the first backoff step."""

    timeout_s: float
    retry_max_s: float
    queue_events: int
    backoff_base_s: float = 1.0


@dataclass(frozen=True)
class Pending:
    """One event waiting for a hook: its seq (in the board's feed), type and JSON body, and
    its place in the all-boards feed (``cursor``: where a new leader would resume)."""

    seq: int
    type: str
    body: bytes
    cursor: int


class HookWorker:
    """Delivers one hook's events; ``offer`` never blocks."""

    def __init__(self, hook: Hook, client: AsyncHTTPClient, limits: DeliveryLimits,
                 engine, pause: Callable[[Hook, str], Awaitable[None]]) -> None:
        self.hook = hook
        self._client = client
        self._limits = limits
        self._engine = engine  # None for a server hook: no delivery log in the database
        self._pause = pause
        self._queue: deque[Pending] = deque()
        self._current: Pending | None = None  # being delivered (or retried)
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"syncboard-webhook-{hook.id}")

    def offer(self, pending: Pending) -> None:
        """Queue one event (dropped while the hook is paused)."""
        if self.hook.paused_reason is not None:
            return
        if len(self._queue) >= self._limits.queue_events:
            dropped = self._queue.popleft()
            metrics.WEBHOOK_DELIVERIES.labels("dropped").inc()
            log.warning("webhook %s: queue full, dropped event %d", self.hook.id, dropped.seq)
        self._queue.append(pending)
        self._ready.set()

    def oldest_cursor(self) -> int | None:
        """The all-boards cursor of the oldest event not delivered yet, if any."""
        if self._current is not None:
            return self._current.cursor
        return self._queue[0].cursor if self._queue else None

    async def close(self) -> None:
        """Stop delivering (what is queued is not sent)."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue and self.hook.paused_reason is None:
                self._current = self._queue.popleft()
                await self._deliver(self._current)
                self._current = None  # kept when cancelled: a successor resumes before it

    async def _deliver(self, pending: Pending) -> None:
        started = time.monotonic()
        row: int | None = None
        attempt = 0
        while True:
            attempt += 1
            status, error = await self._attempt(pending)
            if error is None:
                await self._record(row, pending, "delivered", attempt, status, None)
                metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
                return
            wait_s = backoff_s(attempt, self._limits.backoff_base_s)
            if time.monotonic() - started + wait_s > self._limits.retry_max_s:
                await self._record(row, pending, "given_up", attempt, status, error)
                metrics.WEBHOOK_DELIVERIES.labels("given_up").inc()
                reason = f"gave up event {pending.seq} after {attempt} attempts: {error}"
                log.warning("webhook %s (%s): %s; pausing it", self.hook.id, self.hook.url,
                            reason)
                self._queue.clear()
                await self._pause(self.hook, reason)
                return
            row = await self._record(row, pending, "retrying", attempt, status, error)
            await asyncio.sleep(wait_s)

    async def _attempt(self, pending: Pending) -> tuple[int | None, str | None]:
        """One POST: (status, None) on a 2xx answer, else (status or None, why)."""
        request = HTTPRequest(
            self.hook.url, method="POST", body=pending.body, follow_redirects=False,
            connect_timeout=self._limits.timeout_s, request_timeout=self._limits.timeout_s,
            headers={"Content-Type": "application/json", "User-Agent": "syncboard-webhook",
                     HEADER: sign(self.hook.secret, int(time.time()), pending.body),
                     "Syncboard-Event": pending.type, "Syncboard-Hook": self.hook.id,
                     "Syncboard-Delivery": f"{self.hook.id}-{pending.seq}"})
        started = time.perf_counter()
        try:
            response = await self._client.fetch(request, raise_error=False)
        except RefusedAddress as exc:
            metrics.WEBHOOK_ATTEMPTS.labels("refused").inc()
            return None, f"refused: {exc}"[:MAX_ERROR_CHARS]
        except (HTTPClientError, HTTPInputError, StreamClosedError, OSError) as exc:
            metrics.WEBHOOK_ATTEMPTS.labels("network").inc()
            return None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        finally:
            metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        if 200 <= response.code < 300:
            metrics.WEBHOOK_ATTEMPTS.labels("ok").inc()
            return response.code, None
        metrics.WEBHOOK_ATTEMPTS.labels("http_error").inc()
        if response.code == 599 and response.error is not None:
            return None, f"{type(response.error).__name__}: {response.error}"[:MAX_ERROR_CHARS]
        return response.code, f"HTTP {response.code}"

    async def _record(self, row: int | None, pending: Pending, status: str, attempts: int,
                      response_status: int | None, error: str | None) -> int | None:
        if self._engine is None:
            return None
        try:
            return await hook_store.record_delivery(self._engine, row, self.hook.id,
                                                    pending.seq, pending.type, status,
                                                    attempts, response_status, error)
        except SQLAlchemyError as exc:  # the delivery goes on; only its log row is missing
            log.error("webhook %s: cannot write the delivery log: %s", self.hook.id, exc)
            return row
