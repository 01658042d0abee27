"""cancel_and_wait (backend/task_stop.py): tasks whose cancellation is lost still end.

The last test is the reproduction of the redis-py 8.1 fault behind it, against the real
Redis: loops of XREAD (blocking 1 s) and PUBLISH, as the broker and the change feed run
them, cancelled at varied moments. With a single ``task.cancel()`` some of them never end
(the command returns normally and the loop goes on); ``cancel_and_wait`` ends them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from redis.asyncio import Redis

from backend.task_stop import cancel_and_wait
from tests.services import redis_problem

REDIS_URL = "redis://127.0.0.1:6379/0"


async def swallows_one_cancel(forever: asyncio.Event) -> None:
    """What redis-py sometimes does: the first cancellation is lost, the loop goes on."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(3600)
    await forever.wait()


@pytest.mark.gen_test(timeout=30)
async def test_a_task_that_loses_its_cancellation_still_ends():
    forever = asyncio.Event()
    once = asyncio.ensure_future(swallows_one_cancel(forever))
    await asyncio.sleep(0)
    once.cancel()  # what the server did before
    done, _ = await asyncio.wait({once}, timeout=0.3)
    assert not done, "a single cancel ended it: the test no longer shows the fault"
    again = asyncio.ensure_future(swallows_one_cancel(forever))
    await asyncio.sleep(0)
    assert await cancel_and_wait([once, again], timeout_s=5)
    assert once.cancelled() and again.cancelled()


@pytest.mark.gen_test(timeout=30)
async def test_a_task_that_never_ends_is_reported_after_the_timeout():
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue
    task = asyncio.ensure_future(stubborn())
    await asyncio.sleep(0)
    assert not await cancel_and_wait([task], timeout_s=0.2)
    assert not task.done()
    released.set()
    task.cancel()
    await asyncio.wait({task})


@pytest.mark.skipif(redis_problem() is not None, reason=str(redis_problem()))
@pytest.mark.gen_test(timeout=120)
async def test_redis_read_and_publish_loops_cancelled_mid_command_all_end():
    redis = Redis.from_url(REDIS_URL, socket_timeout=11, socket_connect_timeout=5)
    rng = random.Random(7)

    async def read_forever() -> None:
        while True:
            await redis.xread({"syncboard:test:task-stop:none": b"$"}, count=10, block=1000)

    async def publish_forever() -> None:
        while True:
            await redis.publish("syncboard:test:task-stop", "x")
            await asyncio.sleep(0.001)
    try:
        for attempt in range(30):
            tasks = [asyncio.ensure_future(read_forever()),
                     asyncio.ensure_future(publish_forever())]
            await asyncio.sleep(rng.uniform(0.01, 0.3))
            assert await cancel_and_wait(tasks, timeout_s=5), f"attempt {attempt}: a loop ran on"
    finally:
        await redis.aclose()
