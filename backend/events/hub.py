"""EventHub: seq numbers, the bounded backlog kept for resumes, and readers waiting for more.

Every event gets a ``seq`` per board (and one more in the feed over all boards). A seq is
``max(previous + 1, now in milliseconds)``: it only grows, also across restarts, so an id a
client saw before a restart can never be mistaken for a newer event. A backlog keeps the last
``--events-backlog-events`` events of a board (at most ``BOARD_BACKLOG_MAX_BYTES`` of JSON)
for ``--events-backlog-s`` and knows its *floor*: below it, events may have been dropped
(trimmed, older than the retention, or from before this process started). A reader
resuming after ``seq`` is answered exactly when ``seq >= floor``; otherwise it is told to
reset (re-read the board's export).

``EventHub`` keeps everything in this process (the default, ``LocalBroker``);
``RedisEventHub`` (``hub_redis.py``) publishes through Redis and mirrors what every process
published into the same backlogs.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import event_metrics as metrics

ALL_BOARDS_FACTOR = 40
"""The feed over all boards keeps this many times ``--events-backlog-events``."""
BOARD_BACKLOG_MAX_BYTES = 8 * 1024 * 1024
ALL_BACKLOG_MAX_BYTES = 64 * 1024 * 1024
"""Bytes of event JSON kept per board and for all boards: an import of a big board makes a
few large events, and the count alone would not bound them."""


@dataclass(frozen=True)
class Event:
    """One published event: its seq (per board, or in the all-boards feed), board, type and
    the JSON text sent to readers (which holds the board's seq)."""

    seq: int
    board: str
    type: str
    data: str
    at_ms: int


class Backlog:
    """Events of one board (or of all boards) in seq order, bounded by count and age."""

    def __init__(self, max_events: int, max_age_s: float, floor: int,
                 max_bytes: int = BOARD_BACKLOG_MAX_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._bytes = 0
        self.max_age_ms = int(max_age_s * 1000)
        self._seqs: list[int] = []
        self._events: list[Event] = []
        self._floor = floor
        self.head = floor
        self._waiter: asyncio.Future[None] | None = None

    @property
    def floor(self) -> int:
        """Resumes after a seq below this may have lost events (they must reset)."""
        return max(self._floor, now_ms() - self.max_age_ms)

    def raise_floor(self, floor: int) -> None:
        """Treat everything up to ``floor`` as possibly lost (``hub_redis``: Redis was away).
        ``head`` moves up with it, so a reader reset to ``head`` resumes past the floor (a
        reset that sent it below again would repeat without end)."""
        self._floor = max(self._floor, floor)
        self.head = max(self.head, self._floor)

    def skip(self) -> None:
        """Changes went unreported from now: every id before now must reset, new readers
        start here."""
        self._floor = self.head = self.next_seq(now_ms())

    def next_seq(self, at_ms: int) -> int:
        """The seq of an event published now (``at_ms``)."""
        return max(self.head + 1, at_ms)

    def append(self, event: Event) -> None:
        """Keep ``event`` (its seq is above ``head``) and wake the readers."""
        self._seqs.append(event.seq)
        self._events.append(event)
        self._bytes += len(event.data)
        self.head = event.seq
        self.trim()
        self.wake()

    def wake(self) -> None:
        """Wake every reader waiting in ``wait``."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None

    def trim(self) -> None:
        """Drop events past the count or older than the retention (the floor moves up)."""
        cutoff = now_ms() - self.max_age_ms
        old = 0
        while old < len(self._events) and self._events[old].at_ms < cutoff:
            old += 1
        drop = max(len(self._events) - self.max_events, old)
        kept_bytes = self._bytes - sum(len(e.data) for e in self._events[:drop])
        while kept_bytes > self.max_bytes and drop < len(self._events) - 1:
            kept_bytes -= len(self._events[drop].data)
            drop += 1
        if drop > 0:
            self._bytes = kept_bytes
            self._floor = max(self._floor, self._seqs[drop - 1])
            del self._seqs[:drop]
            del self._events[:drop]

    def after(self, seq: int, live: bool = False) -> list[Event] | None:
        """Events after ``seq`` (oldest first), or None if some may be lost (reset).

        A ``live`` cursor is one this process's stream gave its reader (ready, reset, or
        the last event sent) while the board stayed wanted: only trimmed events can be lost
        after it, however old it is (a board quiet for longer than the retention)."""
        if seq < (self._floor if live else self.floor) or seq > self.head:
            return None
        return self._events[bisect.bisect_right(self._seqs, seq):]

    @property
    def idle(self) -> bool:
        """Nothing kept and nobody waiting: the backlog may be forgotten."""
        return not self._events and self._waiter is None

    async def wait(self, timeout_s: float) -> None:
        """Return when an event is appended, or after ``timeout_s``."""
        if self._waiter is None or self._waiter.done():
            self._waiter = asyncio.get_running_loop().create_future()
        # asyncio.wait, not wait_for: it never cancels the shared future, and (unlike
        # wait_for in Python 3.11) never swallows a cancellation that races a wake-up.
        await asyncio.wait([self._waiter], timeout=timeout_s)


def now_ms() -> int:
    """Wall-clock milliseconds (seqs and retention)."""
    return int(time.time() * 1000)


def event_json(seq: int, at_ms: int, body: str) -> str:
    """The JSON text of an event: ``seq`` and ``time`` (Unix seconds) put in front of
    ``body``, a JSON object text holding the rest (``board``, ``type``, ...)."""
    return f'{{"seq": {seq}, "time": {at_ms / 1000:.3f}, {body[1:]}'


def body_json(board_id: str, event_type: str, fields: dict[str, Any]) -> str:
    """A JSON object text ``{"board", "type", **fields}`` (seq and time are added when the
    event is numbered)."""
    return json.dumps({"board": board_id, "type": event_type, **fields},
                      ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


class EventHub:
    """The events of this process's boards (single process: ``LocalBroker``)."""

    def __init__(self, backlog_events: int, backlog_s: float) -> None:
        self.backlog_events = backlog_events
        self.backlog_s = backlog_s
        self.started_ms = now_ms()
        self._boards: dict[str, Backlog] = {}
        self.all = Backlog(backlog_events * ALL_BOARDS_FACTOR, backlog_s, self.started_ms,
                           ALL_BACKLOG_MAX_BYTES)
        self._sweeper: asyncio.Task | None = None
        self._readers: dict[str | None, int] = {}  # board id (None: all boards) -> readers
        self._left_at: dict[str | None, float] = {}
        self.always_wanted = False  # --webhook: a server hook wants every board
        self.hooked: set[str] = set()  # boards with a webhook
        self.on_wanted: Callable[[str | None], None] = lambda _board_id: None

    def attach(self, board_id: str | None) -> None:
        """A feed reader of ``board_id`` (None: all boards) connected: feeds must follow."""
        self._readers[board_id] = self._readers.get(board_id, 0) + 1
        self.on_wanted(board_id)

    def detach(self, board_id: str | None) -> None:
        """A feed reader left; its board stays followed for the backlog time (resumes)."""
        self._readers[board_id] -= 1
        if not self._readers[board_id]:
            del self._readers[board_id]
        self._left_at[board_id] = time.monotonic()

    def wanted(self, board_id: str) -> bool:
        """Whether a feed must report ``board_id``'s changes (see ``feed.py``)."""
        if self.always_wanted or board_id in self.hooked:
            return True
        for key in (board_id, None):
            if key in self._readers or \
                    time.monotonic() - self._left_at.get(key, -1e18) < self.backlog_s:
                return True
        return self.wanted_elsewhere(board_id)

    def wanted_elsewhere(self, board_id: str) -> bool:
        """Whether another process's readers or hooks want ``board_id`` (a single process:
        never)."""
        return False

    def locally_wanted(self) -> tuple[set[str], bool]:
        """What this process's readers and hooks want: (board ids, whether all boards)."""
        now = time.monotonic()
        recent = {key for key, left_at in self._left_at.items()
                  if now - left_at < self.backlog_s}
        keys = set(self._readers) | recent
        return {key for key in keys if key is not None} | self.hooked - {""}, None in keys

    async def announce(self, board_id: str | None) -> None:
        """Make ``board_id`` (None: all boards) wanted on every process now (a single
        process: nothing to do, ``attach`` did it)."""

    def skipped(self, board_id: str) -> None:
        """``board_id``'s changes go unreported from now on."""
        self.board(board_id).skip()

    async def start(self) -> None:
        """Start forgetting idle backlogs (every retention period)."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        """Stop the sweeper."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)

    def board(self, board_id: str) -> Backlog:
        """The backlog of ``board_id`` (created empty, floor at this process's start)."""
        backlog = self._boards.get(board_id)
        if backlog is None:
            backlog = self._boards[board_id] = Backlog(self.backlog_events, self.backlog_s,
                                                       self.started_ms)
        return backlog

    def publish(self, board_id: str, event_type: str, fields: dict[str, Any]) -> None:
        """Number and keep one event of ``board_id`` (never blocks)."""
        body = body_json(board_id, event_type, fields)
        at = now_ms()
        backlog = self.board(board_id)
        seq = backlog.next_seq(at)
        event = Event(seq, board_id, event_type, event_json(seq, at, body), at)
        backlog.append(event)
        self.all.append(Event(self.all.next_seq(at), board_id, event_type, event.data, at))
        metrics.EVENTS_PUBLISHED.labels(event_type).inc()

    async def read(self, board_id: str | None, after: int,
                   live: bool = False) -> list[Event] | None:
        """Events of ``board_id`` (None: all boards) after seq ``after``, or None when the
        reader must reset (``live``: see ``Backlog.after``)."""
        backlog = self.all if board_id is None else self.board(board_id)
        return backlog.after(after, live)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(min(self.backlog_s, 60.0))
            self.all.trim()
            for board_id, backlog in list(self._boards.items()):
                backlog.trim()
                if backlog.idle and backlog.head < backlog.floor:
                    del self._boards[board_id]
            now = time.monotonic()
            for key, left_at in list(self._left_at.items()):
                if now - left_at >= self.backlog_s:
                    del self._left_at[key]
