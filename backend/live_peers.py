"""How many people are on each board right now, over every process (the space page's counts).

A WebSocket lives in one process, so each process knows only its own peers. ``LivePeers`` is
the single-process answer: the peers of this process's rooms. With ``--broker`` (several
processes on one Redis) ``RedisLivePeers`` also reports this process's counts to Redis and
adds those the other live processes reported:

- every ``REPORT_INTERVAL_S`` it reads the peer count of each loaded room (never on the sync
  path: nothing is added to joins and leaves) and, when they changed or every
  ``REFRESH_S``, replaces the hash ``syncboard:live:<origin>`` (board -> peers) in one
  transaction, expiring ``TTL_S`` later, and scores the hash's key in the sorted set
  ``syncboard:live`` with that expiry;
- a listing asks the set for the keys of live processes (a process that died stops counting
  ``TTL_S`` after its last report; one that stops cleanly deletes its hash), reads its boards
  from each with ``HMGET`` in one pipeline, and adds this process's own counts (fresher than
  its last report).

Redis down or slow (over ``READ_TIMEOUT_S``): a listing counts this process's peers only and
the reporter retries at its next round; both log once per outage.
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
        self._failing = {"report": False, "read": False}

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
        now = time.time()
        if counts == self._reported and now - self._reported_at < REFRESH_S:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            if counts:
                pipe.hset(self.key, mapping=counts)
            pipe.expire(self.key, int(TTL_S))
            pipe.zadd(PROCESSES_KEY, {self.key: now + TTL_S})
            pipe.zremrangebyscore(PROCESSES_KEY, "-inf", now)
            await pipe.execute()
        self._reported, self._reported_at = counts, now

    async def _others(self, board_ids: Sequence[str]) -> dict[str, int]:
        keys = [key for key in await self._redis.zrangebyscore(PROCESSES_KEY, time.time(), "+inf")
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
            else:
                self._recovered("report")
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
