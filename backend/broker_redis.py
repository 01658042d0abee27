"""RedisBroker: fan-out between syncboard processes through Redis Streams.

Each board has one stream, ``syncboard:board:<board_id>``. A process appends (XADD) what its
own peers sent, tagged with its origin id, and reads (XREAD) the streams of the boards it has
loaded from its own last-read entry id, skipping its own entries. Because the read position
is ours, not the server's, a dropped connection resumes exactly where it stopped: nothing
published meanwhile is missed while it is still in the stream.

Streams are trimmed to about ``stream_maxlen`` entries (``MAXLEN ~``) and expire a day after
their last entry. A process that fell further behind than the trimmed history (a long
Redis outage, a very busy board), or finds that Redis restarted, *resyncs* the board: it
reloads the board from the shared store (Yjs updates are idempotent, so applying what the
room already has changes nothing) and reads on from the stream's current end.

Gap detection is exact and cheap: XINFO STREAM reports ``entries-added`` (ever) and
``length`` (kept), so ``entries-added - length`` entries were trimmed; we count the entries
we consumed, and a gap exists when more were trimmed than we consumed. It is checked when a
read returns a full batch (only then can the reader have been overtaken) and after every
broken connection.

Updates reach the stream when the room flushes (same event-loop turn) but reach the database
up to ``--flush-delay-ms`` later, so a board being loaded also replays the last
``REPLAY_WINDOW_MS`` of its stream: an update published just before the subscription but not
yet committed by its origin is not lost between the stream position and the store read.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import SQLAlchemyError

from . import metrics
from .broker import Deliver, RemoteKind
from .store import Store
from .task_stop import cancel_and_wait

log = logging.getLogger(__name__)

STREAM_PREFIX = "syncboard:board:"
WAKE_PREFIX = "syncboard:wake:"
REPLAY_WINDOW_MS = 10_000
READ_BLOCK_MS = 1_000
READ_COUNT = 512
PUBLISH_BATCH = 256
STREAM_TTL_S = 24 * 3600
OUTBOX_MAX_MESSAGES = 100_000
RETRY_MAX_S = 2.0
OUTAGE_LOG_EVERY_S = 10.0

_ORIGIN, _KIND, _PAYLOAD = b"o", b"k", b"p"
_RESYNC = b"r"  # kind of a marker asking readers to reload a board from the store
_KIND_CODES = {RemoteKind.UPDATE: b"u", RemoteKind.AWARENESS: b"a", RemoteKind.REVOKE: b"v",
               RemoteKind.DELETE: b"d", RemoteKind.OWNED: b"c"}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


class BrokerError(RuntimeError):
    """The broker URL is unusable or Redis cannot be reached at start."""


@dataclass
class _Position:
    """Where this process reads a board's stream: the last entry id consumed, and how many
    entries the stream had received up to and including it (``entries-added``)."""

    last_id: bytes
    consumed: int


class RedisBroker:
    """A ``Broker`` on Redis Streams; see the module docstring for the guarantees."""

    shared = True

    def __init__(self, url: str, store: Store, stream_maxlen: int = 10_000) -> None:
        self.url = url
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}".encode()
        self._store = store
        self._maxlen = stream_maxlen
        self._redis: Redis | None = None
        self._deliver: Deliver | None = None
        self._run_id: str | None = None
        self._subscribed: set[str] = set()
        self._positions: dict[str, _Position] = {}  # the boards the read loop reads
        self._stale: set[str] = set()
        self._check: set[str] = set()
        self._outbox: deque[tuple[str, bytes, bytes]] = deque()
        self._outbox_ready = asyncio.Event()
        self._dropped: set[str] = set()
        self._wake_key = (WAKE_PREFIX + self.origin.decode()).encode()
        self._wake_id: bytes = b"$"
        self._tasks: list[asyncio.Task] = []
        self._published = {kind: metrics.BROKER_PUBLISHED.labels(kind.value)
                           for kind in RemoteKind}
        self._delivered = {code: metrics.BROKER_DELIVERED.labels(kind.value)
                           for code, kind in _KINDS.items()}

    async def start(self, deliver: Deliver) -> None:
        """Connect and start the read and publish tasks.

        Raises ``BrokerError`` if the URL is bad or Redis does not answer.
        """
        self._deliver = deliver
        try:
            # No client-side retries: every broken connection must reach our loops, which
            # then check for gaps and a restarted server.
            self._redis = Redis.from_url(
                self.url, socket_timeout=READ_BLOCK_MS / 1000 + 10, socket_connect_timeout=5,
                retry=Retry(NoBackoff(), 0), client_name=f"syncboard:{self.origin.decode()}")
            self._run_id = await self._server_run_id()
        except (RedisError, OSError, ValueError) as exc:
            if self._redis is not None:
                await self._redis.aclose()
                self._redis = None
            raise BrokerError(f"cannot use broker {redacted(self.url)}: {exc}") from exc
        self._tasks = [asyncio.create_task(self._read_forever(), name="syncboard-broker-read"),
                       asyncio.create_task(self._publish_forever(),
                                           name="syncboard-broker-publish")]
        log.info("broker: Redis streams at %s, origin %s", redacted(self.url),
                 self.origin.decode())

    async def close(self, timeout_s: float = 2.0) -> None:
        """Publish what is queued (bounded by ``timeout_s``), stop the tasks, disconnect."""
        if self._redis is None:
            return
        deadline = time.monotonic() + timeout_s
        while self._outbox and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._outbox:
            log.warning("broker: %d messages not published at shutdown (other processes "
                        "get them from the database when they resync)", len(self._outbox))
        await cancel_and_wait(self._tasks, timeout_s)
        self._tasks = []
        # Bounded: a half-dead connection must not hold up the shutdown (TimeoutError is an
        # OSError). The wake key expires by itself anyway.
        with contextlib.suppress(RedisError, OSError):
            await asyncio.wait_for(self._redis.delete(self._wake_key), timeout_s)
        with contextlib.suppress(RedisError, OSError):
            await asyncio.wait_for(self._redis.aclose(), timeout_s)
        self._redis = None

    async def subscribe(self, board_id: str) -> None:
        """Record the stream position of ``board_id`` and replay its recent entries.

        Called before the registry reads the store. If Redis is unreachable the board is
        marked stale: the reader resyncs it from the store once Redis answers again.
        """
        if board_id in self._subscribed:
            return
        self._subscribed.add(board_id)
        try:
            recent = await self._anchor(board_id)
            await self._wake()
        except (RedisError, OSError) as exc:
            metrics.BROKER_ERRORS.inc()
            log.warning("broker: cannot subscribe to board %s yet (%s); it will be reloaded "
                        "from the database when Redis answers", board_id, exc)
            self._stale.add(board_id)
            return
        self._deliver_entries(board_id, recent, replay=True)

    def unsubscribe(self, board_id: str) -> None:
        """Stop reading ``board_id``'s stream."""
        self._subscribed.discard(board_id)
        self._positions.pop(board_id, None)
        self._stale.discard(board_id)
        self._check.discard(board_id)

    def publish(self, board_id: str, kind: RemoteKind, payload: bytes) -> None:
        """Queue a message for the publish task (never blocks).

        While Redis is unreachable messages wait here; past ``OUTBOX_MAX_MESSAGES`` the oldest
        are dropped and the board is flagged, so the other processes are told to reload it
        from the database once Redis is back.
        """
        if len(self._outbox) >= OUTBOX_MAX_MESSAGES:
            dropped_board, code, _ = self._outbox.popleft()
            if code != _KIND_CODES[RemoteKind.AWARENESS]:
                if dropped_board not in self._dropped:
                    log.error("broker: outbox full; dropping messages of board %s, other "
                              "processes will reload it from the database", dropped_board)
                self._dropped.add(dropped_board)
        self._outbox.append((board_id, _KIND_CODES[kind], payload))
        self._published[kind].inc()
        self._outbox_ready.set()

    @property
    def outbox_size(self) -> int:
        """Messages waiting to be published."""
        return len(self._outbox)

    async def _server_run_id(self) -> str:
        assert self._redis is not None
        return (await self._redis.info("server"))["run_id"]

    async def _anchor(self, board_id: str) -> list[tuple[bytes, dict]]:
        """Set the read position of ``board_id`` to its stream's end; return the entries of
        the last ``REPLAY_WINDOW_MS`` up to that end (to be delivered again)."""
        assert self._redis is not None
        key = _stream_key(board_id)
        try:
            info = await self._redis.xinfo_stream(key)
        except ResponseError:  # no such stream yet: read from its first entry
            self._set_position(board_id, _Position(b"0-0", 0))
            return []
        last_id = _as_bytes(info["last-generated-id"])
        self._set_position(board_id, _Position(last_id, int(info["entries-added"])))
        start_ms = max(_id_ms(last_id) - REPLAY_WINDOW_MS, 0)
        return await self._redis.xrange(key, min=f"{start_ms}-0", max=last_id)

    def _set_position(self, board_id: str, position: _Position) -> None:
        if board_id in self._subscribed:  # not unsubscribed while we waited
            self._positions[board_id] = position

    async def _wake(self) -> None:
        """Interrupt the blocking read so it picks up a new subscription now."""
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self._wake_key, {b"w": b"1"}, maxlen=1, approximate=False)
            pipe.expire(self._wake_key, 3600)
            await pipe.execute()

    async def _read_forever(self) -> None:
        assert self._redis is not None
        outage = _Outage("reading")
        while True:
            try:
                if self._check:
                    await self._check_gaps()
                while self._stale:
                    await self._resync(next(iter(self._stale)))
                streams = {self._wake_key: self._wake_id}
                streams.update({_stream_key(board_id): position.last_id
                                for board_id, position in self._positions.items()
                                if board_id not in self._stale})
                reply = await self._redis.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS)
            except (RedisError, OSError, SQLAlchemyError) as exc:
                self._check.update(self._positions)
                await asyncio.sleep(outage.failed(exc))
                continue
            outage.worked()
            self._handle_reply(reply)

    def _handle_reply(self, reply) -> None:
        items = reply.items() if isinstance(reply, dict) else reply or []
        for key, entries in items:
            key = _as_bytes(key)
            if key == self._wake_key:
                self._wake_id = entries[-1][0]
                continue
            board_id = key[len(STREAM_PREFIX):].decode()
            if board_id not in self._positions or board_id in self._stale:
                continue
            if len(entries) >= min(READ_COUNT, self._maxlen):
                self._check.add(board_id)  # a full batch: the trimming may have overtaken us
            self._deliver_entries(board_id, entries)

    def _deliver_entries(self, board_id: str, entries, replay: bool = False) -> None:
        """Deliver other processes' entries; advance the position unless replaying."""
        assert self._deliver is not None
        position = self._positions.get(board_id)
        now_s = time.time()
        for entry_id, fields in entries:
            if not replay and position is not None:
                position.last_id = entry_id
                position.consumed += 1
            if fields.get(_ORIGIN) == self.origin:
                continue
            code = fields.get(_KIND)
            if code == _RESYNC:
                if not replay:
                    self._stale.add(board_id)
                continue
            kind = _KINDS.get(code)
            if kind is None:
                log.error("broker: board %s: skipping stream entry %s of unknown kind %r",
                          board_id, entry_id, code)
                continue
            if replay and kind is RemoteKind.DELETE:
                continue  # the board was loaded (or reloaded) after that deletion
            if not replay:
                metrics.BROKER_LAG_SECONDS.observe(max(now_s - _id_ms(entry_id) / 1000, 0.0))
            self._delivered[code].inc()
            self._deliver(board_id, kind, fields.get(_PAYLOAD, b""))

    async def _check_gaps(self) -> None:
        """Mark stale every board in ``_check`` whose stream lost entries we had not read,
        and every board if Redis restarted (its streams may have lost entries)."""
        assert self._redis is not None
        run_id = await self._server_run_id()
        boards = [b for b in self._check if b in self._positions]
        if run_id != self._run_id:
            log.warning("broker: Redis restarted (run id changed); reloading %d boards from "
                        "the database", len(self._subscribed))
            self._run_id = run_id
            self._stale.update(self._subscribed)
            self._check.clear()
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for board_id in boards:
                pipe.xinfo_stream(_stream_key(board_id))
            infos = await pipe.execute(raise_on_error=False)
        self._check.clear()
        for board_id, info in zip(boards, infos, strict=True):
            position = self._positions.get(board_id)
            if position is None:
                continue
            if isinstance(info, ResponseError):  # the stream is gone (expired)
                if position.consumed:
                    self._stale.add(board_id)
                continue
            if isinstance(info, Exception):
                raise info
            added, length = int(info["entries-added"]), int(info["length"])
            if added - length > position.consumed or added < position.consumed:
                self._stale.add(board_id)

    async def _resync(self, board_id: str) -> None:
        """Reload ``board_id`` from the store after a gap; read on from the stream's end."""
        recent = await self._anchor(board_id)
        stored = await self._store.load_updates(board_id)
        self._stale.discard(board_id)
        if board_id not in self._subscribed:
            return
        metrics.BROKER_RESYNCS.inc()
        log.warning("broker: board %s: stream history had a gap; reapplied %d stored updates "
                    "and %d recent stream entries", board_id, len(stored), len(recent))
        self._deliver_entries(board_id, recent, replay=True)
        assert self._deliver is not None
        for update in stored:
            self._deliver(board_id, RemoteKind.UPDATE, update)

    async def _publish_forever(self) -> None:
        assert self._redis is not None
        outage = _Outage("publishing")
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox or self._dropped:
                batch = list(itertools.islice(self._outbox, PUBLISH_BATCH))
                dropped = list(self._dropped)
                try:
                    await self._xadd(batch, dropped)
                except (RedisError, OSError) as exc:
                    await asyncio.sleep(outage.failed(exc, f"{len(self._outbox)} messages wait"))
                    continue
                outage.worked()
                self._dropped.difference_update(dropped)
                for _ in batch:
                    self._outbox.popleft()

    async def _xadd(self, batch: list[tuple[str, bytes, bytes]], dropped: list[str]) -> None:
        """Append ``batch`` (and resync markers for ``dropped`` boards) in one round trip.
        A retried batch may be appended twice; readers apply it idempotently."""
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            for board_id in dropped:
                pipe.xadd(_stream_key(board_id), {_ORIGIN: self.origin, _KIND: _RESYNC},
                          maxlen=self._maxlen, approximate=True)
            for board_id, code, payload in batch:
                pipe.xadd(_stream_key(board_id), {_ORIGIN: self.origin, _KIND: code,
                                                  _PAYLOAD: payload},
                          maxlen=self._maxlen, approximate=True)
            for board_id in {board_id for board_id, _, _ in batch}:
                pipe.expire(_stream_key(board_id), STREAM_TTL_S)
            await pipe.execute()


class _Outage:
    """Backoff and log lines of one retrying loop: a WARNING when failures start (at most one
    every ``OUTAGE_LOG_EVERY_S``, so a flapping connection cannot flood the log), an INFO once
    it works again."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.pause_s = 0.0
        self._failures = 0
        self._logged_at = -OUTAGE_LOG_EVERY_S
        self._reported = False

    def failed(self, exc: Exception, detail: str = "") -> float:
        """Count a failure; return how long to wait before the next attempt."""
        metrics.BROKER_ERRORS.inc()
        self._failures += 1
        now = time.monotonic()
        if now - self._logged_at >= OUTAGE_LOG_EVERY_S:
            log.warning("broker: %s failed (%d times since the last report)%s, retrying: %s",
                        self.what, self._failures, f"; {detail}" if detail else "", exc)
            self._logged_at, self._failures, self._reported = now, 0, True
        self.pause_s = min(max(self.pause_s * 2, 0.05), RETRY_MAX_S)
        return self.pause_s

    def worked(self) -> None:
        """Reset the backoff after a success."""
        if self._reported:
            log.info("broker: %s works again", self.what)
            self._reported = False
        self.pause_s = 0.0


def redacted(url: str) -> str:
    """``url`` without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _stream_key(board_id: str) -> bytes:
    return (STREAM_PREFIX + board_id).encode()


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _id_ms(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0])
