"""RedisInterest: which boards feed readers and hooks on other processes follow.

A process reports a board's changes only while someone wants them (``feed.py``): that saves
the shadow copy of every board nobody follows. With ``--broker redis`` the one who wants them
may be on another process, so every process announces what it follows on a Redis pub/sub
channel (``syncboard:events:<deployment>:wanted``): at once when a feed reader or a board's
hook appears here, and all of it again every ``ANNOUNCE_S``. An announcement holds for
``HOLD_S``; a board announced by another process is wanted here until then, and a loaded
board's feed starts following as soon as the first announcement arrives. A process that
starts asks the others to announce at once.

No change slips through while an announcement travels: every process keeps itself in the
hash ``...:alive`` (its id, and until when it counts as alive; refreshed every
``ANNOUNCE_S``, removed when it stops), and whoever announces a new reader or hook, or asks
at start, waits until each live process answers that it heard (at most ``ACK_TIMEOUT_S``;
a process that stays silent is logged). A process answers only after its feeds started
following, so by the time a reader gets its ``ready`` event every process reports the
board's changes. A process subscribes before it enters the hash, so one that a waiter does
not know of yet hears the announcement itself, or gets it in the answers to its own ask.
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

from ..task_stop import cancel_and_wait

log = logging.getLogger(__name__)

ANNOUNCE_S = 5.0
HOLD_S = 3 * ANNOUNCE_S
ACK_TIMEOUT_S = 1.0
MAX_IDS_PER_MESSAGE = 1000
RETRY_MAX_S = 2.0

LocallyWanted = Callable[[], tuple[set[str], bool]]
"""What this process follows now: (board ids, whether it follows all boards)."""


class RedisInterest:
    """Announces this process's wanted boards and hears the others'; see the module
    docstring."""

    def __init__(self, redis: Redis, channel: str, locally_wanted: LocallyWanted,
                 on_wanted: Callable[[str | None], None],
                 ack_timeout_s: float = ACK_TIMEOUT_S) -> None:
        """``on_wanted(board_id)`` (None: all boards) runs when another process starts
        wanting what nobody wanted here before; an announcement waits at most
        ``ack_timeout_s`` for the other processes' answers."""
        self._redis = redis
        self._channel = channel
        self._locally_wanted = locally_wanted
        self._on_wanted = on_wanted
        self._alive_key = f"{channel}:alive"
        self._me = f"{os.getpid()}:{secrets.token_hex(4)}"
        self._until: dict[str, float] = {}  # board id -> monotonic time its want ends
        self._all_until = 0.0
        self._tasks: list[asyncio.Task] = []
        self._ack_timeout_s = ack_timeout_s
        self._waiting: dict[str, tuple[set[str], asyncio.Event]] = {}  # nonce -> who, done

    def wanted(self, board_id: str) -> bool:
        """Whether another process announced ``board_id`` (or all boards) lately."""
        now = time.monotonic()
        return self._all_until > now or self._until.get(board_id, 0.0) > now

    async def start(self) -> None:
        """Subscribe, join the live processes, ask the others to announce and wait for
        their answers, start announcing."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._tasks = [asyncio.create_task(self._listen_forever(pubsub),
                                           name="syncboard-events-interest")]
        await self._stay_alive()
        await self._acknowledged({"ask": True}, "the announcements asked for at start")
        self._tasks.append(asyncio.create_task(self._announce_forever(),
                                               name="syncboard-events-announce"))

    async def close(self) -> None:
        """Stop listening and announcing, leave the live processes."""
        await cancel_and_wait(self._tasks)
        with contextlib.suppress(RedisError, OSError):
            await self._redis.hdel(self._alive_key, self._me)

    async def announce(self, board_id: str | None) -> None:
        """Tell the others now that this process wants ``board_id`` (None: all boards), and
        return once every live process follows it (or the answers' timeout passed)."""
        await self._acknowledged({"all": True} if board_id is None else {"ids": [board_id]},
                                 f"the announcement of board {board_id or '(all)'}")

    async def _acknowledged(self, message: dict, what: str) -> None:
        """Send ``message`` and wait until every other live process answered it."""
        others = await self._live_others()
        nonce = secrets.token_hex(8)
        done = asyncio.Event()
        if others:
            self._waiting[nonce] = (others, done)
        try:
            await self._send({**message, "nonce": nonce})
            if others:
                await asyncio.wait_for(done.wait(), self._ack_timeout_s)
        except TimeoutError:
            log.warning("events: %d process(es) did not answer %s within %.1f s: %s",
                        len(others), what, self._ack_timeout_s, ", ".join(sorted(others)))
        finally:
            self._waiting.pop(nonce, None)

    async def _live_others(self) -> set[str]:
        """The other processes that were alive at their last refresh."""
        try:
            entries = await self._redis.hgetall(self._alive_key)
        except (RedisError, OSError) as exc:
            log.warning("events: cannot read which processes are alive (%s)", exc)
            return set()
        now = time.time()
        return {key.decode() for key, until in entries.items()
                if not _expired(until, now)} - {self._me}

    async def _stay_alive(self) -> None:
        """Refresh this process's entry in the live hash and drop expired ones."""
        try:
            await self._redis.hset(self._alive_key, self._me, f"{time.time() + HOLD_S:.3f}")
            entries = await self._redis.hgetall(self._alive_key)
            now = time.time()
            expired = [key for key, until in entries.items() if _expired(until, now)]
            if expired:
                await self._redis.hdel(self._alive_key, *expired)
        except (RedisError, OSError) as exc:
            log.warning("events: cannot refresh this process's liveness (%s)", exc)

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
            await self._stay_alive()
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
        if "ack" in message:
            self._acked(message)
            return
        if message.get("ask"):
            await self._announce_all()
        else:
            self._note_wanted(message)
        nonce = message.get("nonce")
        if isinstance(nonce, str):  # after the feeds started following: answer
            await self._send({"ack": nonce, "to": message.get("from")})

    def _acked(self, message: dict) -> None:
        if message.get("to") != self._me:
            return
        waiting = self._waiting.get(message["ack"]) if isinstance(message["ack"], str) \
            else None
        if waiting is None:
            return
        others, done = waiting
        others.discard(message.get("from"))
        if not others:
            done.set()

    def _note_wanted(self, message: dict) -> None:
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


def _expired(raw_until: bytes, now: float) -> bool:
    try:
        return float(raw_until) <= now
    except ValueError:
        return True
