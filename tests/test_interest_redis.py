"""RedisInterest against a real Redis, several instances in one process: an announcement
returns only once every live process has heard it (so no change slips through while it
travels), a silent process costs a bounded wait, and a stopped one leaves the live hash."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from redis.asyncio import Redis

from backend.events.interest_redis import RedisInterest
from tests.services import redis_problem

REDIS_URL = "redis://127.0.0.1:6379/0"

needs_redis = pytest.mark.skipif(redis_problem() is not None, reason=str(redis_problem()))


class SlowInterest(RedisInterest):
    """A process whose network is slow: it takes what it hears in only when the test opens
    ``gate``, and it records what arrived and what it sent."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.gate.set()
        self.arrived: list[bytes] = []
        self.sent: list[dict] = []

    async def _heard(self, data: bytes) -> None:
        self.arrived.append(data)
        await self.gate.wait()
        await super()._heard(data)

    async def _send(self, message: dict) -> None:
        await super()._send(message)
        self.sent.append(message)


async def wait_until(predicate, what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def interests(io_loop):
    """Factory: ``await interests(on_wanted, wants, **options)`` starts a ``SlowInterest``
    on a channel of this test's own (``wants``: the boards it follows itself); all are
    closed at teardown."""
    channel = f"syncboard:events:test-{uuid.uuid4().hex[:8]}:wanted"
    redis = Redis.from_url(REDIS_URL)
    started: list[SlowInterest] = []

    async def start(on_wanted=lambda _board_id: None, wants: frozenset[str] = frozenset(),
                    **options) -> SlowInterest:
        interest = SlowInterest(redis, channel, lambda: (set(wants), False), on_wanted,
                                **options)
        await interest.start()
        started.append(interest)
        return interest

    start.channel = channel
    start.redis = redis
    yield start

    async def close() -> None:
        for interest in started:
            await interest.close()
        await redis.delete(f"{channel}:alive")
        await redis.aclose()
    io_loop.run_sync(close)


@needs_redis
@pytest.mark.gen_test(timeout=60)
async def test_an_announcement_returns_only_after_every_live_process_took_it_in(interests):
    woken: list[str | None] = []
    board_process = await interests(woken.append)
    reader_process = await interests(ack_timeout_s=30)
    board_process.gate.clear()  # from now on the board's process hears late

    announcing = asyncio.ensure_future(reader_process.announce("board-1"))
    await wait_until(lambda: any(b'"board-1"' in data for data in board_process.arrived)
                     and any(m.get("ids") == ["board-1"] for m in reader_process.sent),
                     "the announcement sent and arrived, not yet taken in")
    assert not announcing.done(), "announce returned before the board's process heard it"
    assert woken == []
    board_process.gate.set()
    await announcing
    assert woken == ["board-1"]
    assert board_process.wanted("board-1")


@needs_redis
@pytest.mark.gen_test(timeout=60)
async def test_a_process_starting_takes_in_what_the_others_want_before_start_returns(
        interests):
    await interests(wants=frozenset({"board-2"}))
    late = await interests()
    assert late.wanted("board-2")


@needs_redis
@pytest.mark.gen_test(timeout=60)
async def test_a_silent_process_delays_an_announcement_by_the_timeout_only(interests, caplog):
    silent = await interests()
    silent.gate.clear()  # alive in the hash, never answers
    reader_process = await interests(ack_timeout_s=0.3)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="backend.events.interest_redis"):
        await reader_process.announce("board-3")
    assert time.monotonic() - started < 10
    assert any("did not answer" in record.getMessage() for record in caplog.records)


@needs_redis
@pytest.mark.gen_test(timeout=60)
async def test_a_closed_process_leaves_the_live_hash(interests):
    woken: list[str | None] = []
    first = await interests()
    await interests(woken.append)
    alive_key = f"{interests.channel}:alive"
    assert len(await interests.redis.hgetall(alive_key)) == 2
    await first.close()
    assert len(await interests.redis.hgetall(alive_key)) == 1
    third = await interests(ack_timeout_s=30)
    # answered by the second alone: waiting for the closed one would take the 30 s
    await asyncio.wait_for(third.announce("board-4"), 10)
    assert woken == ["board-4"]
