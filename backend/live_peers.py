"""How many people are on each board right now, over every process (the space page's counts).

A WebSocket lives in one process, so each process knows only its own peers. ``LivePeers`` is
the single-process answer: the peers of this process's rooms. With ``--broker`` (several
processes on one Redis) ``RedisLivePeers`` also reports this process's counts to Redis and
adds those the other live processes reported:

- every ``REPORT_INTERVAL_S`` it reads the peer count of each loaded room (never on the sync
  path: nothing is added to joins and leaves) and, when they changed or every
  ``REFRESH_S``, replaces the hash ``syncboard:live:<origin>`` (board -> peers) in one
  script, expiring ``TTL_S`` later, and lists the hash's key in the sorted set
  ``syncboard:live``, scored with that expiry by Redis's own clock (``TIME``); the same
  script drops the keys whose expiry passed;
- a listing reads the boards asked for from every listed hash with ``HMGET`` in one pipeline
  and adds this process's own counts (fresher than its last report). A process that died
  stops counting when its hash expires, ``TTL_S`` after its last report (one that stops
  cleanly deletes its hash); Redis expires it, so no host's clock decides liveness.

Redis down or slow (over ``READ_TIMEOUT_S``): a listing counts this process's peers only and
the reporter retries at its next round; both log once per outage. Any other failure of a
report is logged with its traceback and retried at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .registry import BoardRegistry
from .task_stop import cancel_and_wait

log = logging.getLogger(__name__)

PROCESSES_KEY = "syncboard:live"
HASH_PREFIX = "syncboard:live:"
REPORT_INTERVAL_S = 0.5
REFRESH_S = 5.0
TTL_S = 15.0
READ_TIMEOUT_S = 1.0
HSET_PAIRS_PER_CALL = 500
"""Board/count pairs per ``HSET`` inside the report script (Lua's ``unpack`` has a limit)."""

# KEYS: this process's hash, the set of hashes. ARGV: TTL in seconds, then board, count, ...
REPORT_SCRIPT = """
redis.call('DEL', KEYS[1])
local step = 2 * tonumber(ARGV[2])
for first = 3, #ARGV, step do
  redis.call('HSET', KEYS[1], unpack(ARGV, first, math.min(first + step - 1, #ARGV)))
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return 1
"""


class LivePeers:
    """The peers of this process's rooms (a single process)."""

    def __init__(self, registry: BoardRegistry) -> None:
        self.registry = registry

    def start(self) -> None:
        """Nothing to report to."""

    async def close(self) -> None:
        """Nothing reported."""

    def local_counts(self) -> dict[str, int]:
        """Peers of each room loaded here that has any."""
        return {board_id: len(room.peers) for board_id, room in self.registry.rooms.items()
                if room.peers}

    async def counts(self, board_ids: Sequence[str]) -> dict[str, int]:
        """People on each of ``board_ids`` now (a board nobody is on is left out)."""
        rooms = self.registry.rooms
        return {board_id: len(rooms[board_id].peers) for board_id in board_ids
                if board_id in rooms and rooms[board_id].peers}


class RedisLivePeers(LivePeers):
    """``LivePeers`` over every process sharing one Redis (see the module docstring)."""

    def __init__(self, registry: BoardRegistry, url: str, origin: str) -> None:
        super().__init__(registry)
        self.key = HASH_PREFIX + origin
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._task: asyncio.Task | None = None
        self._reported: dict[str, int] | None = None
        self._reported_at = 0.0
        self._failing = {"report": False, "read": False, "other": False}
        self._report_script = self._redis.register_script(REPORT_SCRIPT)

    def start(self) -> None:
        self._task = asyncio.create_task(self._report_forever(), name="syncboard-live-peers")

    async def close(self) -> None:
        """Stop reporting and take this process's counts out at once (bounded)."""
        if self._task is not None:
            await cancel_and_wait([self._task])
        with contextlib.suppress(RedisError, OSError):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self.key)
                pipe.zrem(PROCESSES_KEY, self.key)
                await asyncio.wait_for(pipe.execute(), READ_TIMEOUT_S)
        with contextlib.suppress(RedisError, OSError):
            await asyncio.wait_for(self._redis.aclose(), READ_TIMEOUT_S)

    async def counts(self, board_ids: Sequence[str]) -> dict[str, int]:
        totals = await super().counts(board_ids)
        if not board_ids:
            return totals
        try:
            others = await asyncio.wait_for(self._others(board_ids), READ_TIMEOUT_S)
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            self._outage("read", exc)
            return totals
        self._recovered("read")
        for board_id, peers in others.items():
            totals[board_id] = totals.get(board_id, 0) + peers
        return totals

    async def report(self) -> None:
        """Write this process's counts if they changed or the last report is getting old.
        Raises ``RedisError`` / ``OSError`` when Redis fails."""
        counts = self.local_counts()
        now = time.monotonic()
        if counts == self._reported and now - self._reported_at < REFRESH_S:
            return
        pairs = [part for board_id, peers in counts.items() for part in (board_id, peers)]
        await self._report_script(keys=[self.key, PROCESSES_KEY],
                                  args=[int(TTL_S), HSET_PAIRS_PER_CALL, *pairs])
        self._reported, self._reported_at = counts, now

    async def _others(self, board_ids: Sequence[str]) -> dict[str, int]:
        keys = [key for key in await self._redis.zrange(PROCESSES_KEY, 0, -1)
                if key.decode() != self.key]
        if not keys:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(key, list(board_ids))
            replies = await pipe.execute()
        totals: dict[str, int] = {}
        for values in replies:
            for board_id, value in zip(board_ids, values, strict=True):
                if value is not None and value.isdigit():
                    totals[board_id] = totals.get(board_id, 0) + int(value)
        return totals

    async def _report_forever(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.report(), READ_TIMEOUT_S * 5)
            except (RedisError, OSError) as exc:
                self._outage("report", exc)
            except Exception:  # a bug must not end the counts for good: log once, go on
                if not self._failing["other"]:
                    log.exception("live peer counts: a report failed; retrying every round")
                self._failing["other"] = True
            else:
                self._recovered("report")
                self._failing["other"] = False
            await asyncio.sleep(REPORT_INTERVAL_S)

    def _outage(self, what: str, exc: Exception) -> None:
        if not self._failing[what]:
            log.warning("live peer counts: cannot %s through Redis (%s); counting this "
                        "process's peers only until it answers", what, exc or type(exc).__name__)
        self._failing[what] = True

    def _recovered(self, what: str) -> None:
        if self._failing[what]:
            log.info("live peer counts: Redis answers again (%s)", what)
        self._failing[what] = False
