"""RedisInterest: which boards feed readers and hooks on other processes follow.

A process reports a board's changes only while someone wants them (``feed.py``): that saves
the shadow copy of every board nobody follows. With ``--broker redis`` the one who wants them
may be on another process, so every process announces what it follows on a Redis pub/sub
channel (``syncboard:events:<deployment>:wanted``): at once when a feed reader or a board's
hook appears here, and all of it again every ``ANNOUNCE_S``. An announcement holds for
``HOLD_S``; a board announced by another process is wanted here until then, and a loaded
board's feed starts following as soon as the first announcement arrives. A process that
starts asks the others to announce at once.

What is left open: a change made on another process in the moment between a reader's
announcement and its arrival there (one Redis round trip) is not reported to that reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

ANNOUNCE_S = 5.0
HOLD_S = 3 * ANNOUNCE_S
MAX_IDS_PER_MESSAGE = 1000
RETRY_MAX_S = 2.0

LocallyWanted = Callable[[], tuple[set[str], bool]]
"""What this process follows now: (board ids, whether it follows all boards)."""


class RedisInterest:
    """Announces this process's wanted boards and hears the others'; see the module
    docstring."""

    def __init__(self, redis: Redis, channel: str, locally_wanted: LocallyWanted,
                 on_wanted: Callable[[str | None], None]) -> None:
        """``on_wanted(board_id)`` (None: all boards) runs when another process starts
        wanting what nobody wanted here before."""
        self._redis = redis
        self._channel = channel
        self._locally_wanted = locally_wanted
        self._on_wanted = on_wanted
        self._me = f"{os.getpid()}:{secrets.token_hex(4)}"
        self._until: dict[str, float] = {}  # board id -> monotonic time its want ends
        self._all_until = 0.0
        self._tasks: list[asyncio.Task] = []

    def wanted(self, board_id: str) -> bool:
        """Whether another process announced ``board_id`` (or all boards) lately."""
        now = time.monotonic()
        return self._all_until > now or self._until.get(board_id, 0.0) > now

    async def start(self) -> None:
        """Subscribe, ask the others to announce, start announcing."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._tasks = [asyncio.create_task(self._listen_forever(pubsub),
                                           name="syncboard-events-interest"),
                       asyncio.create_task(self._announce_forever(),
                                           name="syncboard-events-announce")]
        await self._send({"ask": True})

    async def close(self) -> None:
        """Stop listening and announcing."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def announce(self, board_id: str | None) -> None:
        """Tell the others now that this process wants ``board_id`` (None: all boards)."""
        await self._send({"all": True} if board_id is None else {"ids": [board_id]})

    async def _announce_all(self) -> None:
        ids, all_boards = self._locally_wanted()
        if all_boards:
            await self._send({"all": True})
        ordered = sorted(ids)
        for start in range(0, len(ordered), MAX_IDS_PER_MESSAGE):
            await self._send({"ids": ordered[start:start + MAX_IDS_PER_MESSAGE]})

    async def _send(self, message: dict) -> None:
        try:
            await self._redis.publish(self._channel, json.dumps({"from": self._me, **message}))
        except (RedisError, OSError) as exc:
            log.warning("events: cannot announce the followed boards (%s)", exc)

    async def _announce_forever(self) -> None:
        while True:
            await asyncio.sleep(ANNOUNCE_S)
            await self._announce_all()
            now = time.monotonic()
            for board_id in [b for b, until in self._until.items() if until <= now]:
                del self._until[board_id]

    async def _listen_forever(self, pubsub) -> None:
        retry_s = 0.05
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=1.0)
                except (RedisError, OSError) as exc:
                    log.warning("events: lost the announcements of followed boards (%s)", exc)
                    await asyncio.sleep(retry_s)
                    retry_s = min(retry_s * 2, RETRY_MAX_S)
                    with contextlib.suppress(RedisError, OSError):
                        await pubsub.subscribe(self._channel)
                    continue
                retry_s = 0.05
                if message is not None:
                    await self._heard(message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _heard(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("from") == self._me:
            return
        if message.get("ask"):
            await self._announce_all()
            return
        now = time.monotonic()
        until = now + HOLD_S
        if message.get("all") is True:
            was = self._all_until > now
            self._all_until = until
            if not was:
                self._on_wanted(None)
        ids = message.get("ids")
        for board_id in ids if isinstance(ids, list) else ():
            if not isinstance(board_id, str):
                continue
            was = self._until.get(board_id, 0.0) > now
            self._until[board_id] = until
            if not was:
                self._on_wanted(board_id)
