"""RedisEventHub: the event hub shared by several processes (``--broker redis://...``).

Each board's feed is reported by the process that received the change (``feed.py``); that
process appends the event with one Lua script, which numbers it and appends it to two Redis
streams at once: ``syncboard:events:<deployment>:board:<id>`` (for resumes) and
``syncboard:events:<deployment>:all`` (live, and the all-boards feed). ``<deployment>`` is a
hash of the database URL: processes sharing a database share their events, and two
deployments on one Redis never see each other's. The stream entry id is ``<seq>-0``, so the
seq is Redis's own, increasing for every process alike. Every process reads the all-boards
stream from where it started and mirrors each entry into the in-memory backlogs of
``hub.py``: a feed reader on any process sees every event once, in the same order.

A resume the mirror cannot answer (an id older than this process's start, or a reader that
moved between processes) is read from the board's stream with XRANGE. Each stream keeps its
events for ``--events-backlog-s`` and at most ``--events-backlog-events`` (40 times that
for all boards); trimming records the last dropped seq in ``...:floor``, so a resume below
it, or below the retention, is answered with a reset. When the reader loses Redis, the
mirror's floors are raised past their heads: readers then go to Redis, which is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..broker_redis import redacted
from ..task_stop import cancel_and_wait
from . import event_metrics as metrics
from .hub import ALL_BOARDS_FACTOR, Backlog, Event, EventHub, body_json, now_ms
from .interest_redis import RedisInterest

log = logging.getLogger(__name__)

KEY_PREFIX = "syncboard:events:"
READ_BLOCK_MS = 1000
READ_COUNT = 512
OUTBOX_MAX_EVENTS = 100_000
RETRY_MAX_S = 2.0

# KEYS: board stream, board floor, global stream, global floor.
# ARGV: body (a JSON object text without seq and time), retention ms, board max events,
#       global max events, board id, event type.
_PUBLISH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retention = tonumber(ARGV[2])
local function next_seq(stream)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  local seq = now
  if #last > 0 then
    local last_seq = tonumber(string.match(last[1][1], '^(%d+)'))
    if last_seq >= seq then seq = last_seq + 1 end
  end
  return seq
end
local function trim(stream, floor, maxlen)
  local excess = redis.call('XLEN', stream) - maxlen
  if excess > 0 then
    local dropped = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    local last_id = dropped[#dropped][1]
    redis.call('SET', floor, string.match(last_id, '^(%d+)'), 'PX', 2 * retention)
    redis.call('XTRIM', stream, 'MINID', string.format('%d', tonumber(
      string.match(last_id, '^(%d+)')) + 1))
  end
  redis.call('XTRIM', stream, 'MINID', '~', string.format('%d', now - retention))
  redis.call('PEXPIRE', stream, 2 * retention)
end
local seq = next_seq(KEYS[1])
local data = '{"seq": ' .. string.format('%d', seq) .. ', "time": ' ..
  string.format('%.3f', now / 1000) .. ', ' .. string.sub(ARGV[1], 2)
redis.call('XADD', KEYS[1], string.format('%d', seq) .. '-0', 't', ARGV[6], 'd', data)
trim(KEYS[1], KEYS[2], tonumber(ARGV[3]))
local global_seq = next_seq(KEYS[3])
redis.call('XADD', KEYS[3], string.format('%d', global_seq) .. '-0', 'b', ARGV[5],
  's', string.format('%d', seq), 't', ARGV[6], 'd', data)
trim(KEYS[3], KEYS[4], tonumber(ARGV[4]))
return seq
"""


class RedisEventHub(EventHub):
    """An ``EventHub`` whose events go through Redis; see the module docstring."""

    def __init__(self, url: str, deployment: str, backlog_events: int, backlog_s: float) -> None:
        super().__init__(backlog_events, backlog_s)
        self.url = url
        self._prefix = f"{KEY_PREFIX}{deployment}:"
        self._redis: Redis | None = None
        self._script: Any = None
        self._outbox: deque[tuple[str, str, str]] = deque()
        self._outbox_ready = asyncio.Event()
        self._last_id = b"$"
        self._tasks: list[asyncio.Task] = []
        self._interest: RedisInterest | None = None

    async def start(self) -> None:
        """Connect, note where the all-boards stream ends, start reading and publishing."""
        await super().start()
        self._redis = Redis.from_url(self.url, socket_timeout=READ_BLOCK_MS / 1000 + 10,
                                     socket_connect_timeout=5)
        self._script = self._redis.register_script(_PUBLISH)
        last = await self._redis.xrevrange(self._all_key(), count=1)
        self._last_id = last[0][0] if last else b"0-0"
        self._tasks = [asyncio.create_task(self._read_forever(), name="syncboard-events-read"),
                       asyncio.create_task(self._publish_forever(),
                                           name="syncboard-events-publish")]
        self._interest = RedisInterest(self._redis, f"{self._prefix}wanted",
                                       self.locally_wanted,
                                       lambda board_id: self.on_wanted(board_id))
        await self._interest.start()

    async def close(self, timeout_s: float = 2.0) -> None:
        """Publish what is queued (for at most ``timeout_s``), stop, disconnect."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._outbox and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        if self._interest is not None:
            await self._interest.close()
        await cancel_and_wait(self._tasks)
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()
        await super().close()

    def wanted_elsewhere(self, board_id: str) -> bool:
        """Whether another process announced ``board_id`` lately (``interest_redis``)."""
        return self._interest is not None and self._interest.wanted(board_id)

    async def announce(self, board_id: str | None) -> None:
        """Tell every process now that this one wants ``board_id`` (None: all boards)."""
        if self._interest is not None:
            await self._interest.announce(board_id)

    def skipped(self, board_id: str) -> None:
        """Nothing to mark: a board goes unfollowed only when no process has wanted it for
        ``interest_redis.HOLD_S`` and every reader left over ``--events-backlog-s`` ago, so
        every id that could still resume is past the retention already (and a raised mirror
        floor would drop other processes' later events of the board from the mirror)."""

    def publish(self, board_id: str, event_type: str, fields: dict[str, Any]) -> None:
        """Queue one event for the publish task (never blocks); past ``OUTBOX_MAX_EVENTS``
        (Redis unreachable for long) the oldest are dropped, and readers will reset."""
        if len(self._outbox) >= OUTBOX_MAX_EVENTS:
            dropped = self._outbox.popleft()
            log.error("events: outbox full, dropping an event of board %s", dropped[0])
        self._outbox.append((board_id, event_type, body_json(board_id, event_type, fields)))
        self._outbox_ready.set()
        metrics.EVENTS_PUBLISHED.labels(event_type).inc()

    async def read(self, board_id: str | None, after: int,
                   live: bool = False) -> list[Event] | None:
        """From the mirror when it can answer exactly, else from the board's stream (whose
        age trimming leaves no floor: an id older than the retention resets even if live)."""
        events = await super().read(board_id, after, live)
        if events is not None or self._redis is None:
            return events
        stream = self._all_key() if board_id is None else self._board_key(board_id)
        floor_key = _floor_key(stream)
        try:
            floor = int(await self._redis.get(floor_key) or 0)
            if after < max(floor, now_ms() - int(self.backlog_s * 1000)):
                return None
            entries = await self._redis.xrange(stream, min=f"({after}-0", count=READ_COUNT)
        except (RedisError, OSError) as exc:
            log.warning("events: cannot read the backlog of %s from Redis (%s); resetting "
                        "the reader", board_id or "all boards", exc)
            return None
        return [_event(entry_id, fields, board_id) for entry_id, fields in entries]

    async def _publish_forever(self) -> None:
        retry_s = 0.05
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                board_id, event_type, body = self._outbox[0]
                board_key = self._board_key(board_id)
                try:
                    await self._script(
                        keys=[board_key, _floor_key(board_key), self._all_key(),
                              _floor_key(self._all_key())],
                        args=[body, int(self.backlog_s * 1000), self.backlog_events,
                              self.backlog_events * ALL_BOARDS_FACTOR, board_id, event_type])
                except (RedisError, OSError) as exc:
                    log.warning("events: cannot publish to Redis at %s (%s); retrying",
                                redacted(self.url), exc)
                    await asyncio.sleep(retry_s)
                    retry_s = min(retry_s * 2, RETRY_MAX_S)
                    continue
                retry_s = 0.05
                self._outbox.popleft()

    async def _read_forever(self) -> None:
        retry_s = 0.05
        assert self._redis is not None
        while True:
            try:
                answer = await self._redis.xread({self._all_key(): self._last_id},
                                                 count=READ_COUNT, block=READ_BLOCK_MS)
            except (RedisError, OSError) as exc:
                log.warning("events: lost Redis at %s (%s); feed readers resume from Redis",
                            redacted(self.url), exc)
                self._raise_floors()
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, RETRY_MAX_S)
                continue
            retry_s = 0.05
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    self._mirror(entry_id, fields)

    def _board_key(self, board_id: str) -> str:
        return f"{self._prefix}board:{board_id}"

    def _all_key(self) -> str:
        return f"{self._prefix}all"

    def _mirror(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        board_id = fields[b"b"].decode()
        global_event = _event(entry_id, fields, None)
        board_event = Event(int(fields[b"s"]), board_id, global_event.type, global_event.data,
                            global_event.at_ms)
        backlog = self.board(board_id)
        if board_event.seq > backlog.head:
            backlog.append(board_event)
        if global_event.seq > self.all.head:
            self.all.append(global_event)

    def _raise_floors(self) -> None:
        """Entries may be missed while Redis is away: make every mirror send its readers to
        Redis (exact) until newer entries arrive."""
        for backlog in [self.all, *self._boards.values()]:
            _raise_floor(backlog)


def _raise_floor(backlog: Backlog) -> None:
    backlog.raise_floor(backlog.head + 1)


def _event(entry_id: bytes, fields: dict[bytes, bytes], board_id: str | None) -> Event:
    seq = int(entry_id.split(b"-", 1)[0])
    board = fields[b"b"].decode() if b"b" in fields else board_id or ""
    return Event(seq, board, fields[b"t"].decode(), fields[b"d"].decode(), now_ms())


def _floor_key(stream: str) -> str:
    return f"{stream}:floor"
