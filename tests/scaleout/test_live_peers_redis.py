"""``RedisLivePeers`` against the real Redis: liveness does not depend on any host's clock,
and a report that fails for a reason other than Redis is retried, not the end of the counts.

The registry handed in is a plain stand-in holding rooms and their peers: what is under test
is how the counts travel through Redis (backend/live_peers.py), not the rooms.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from types import SimpleNamespace

import pytest
import redis.asyncio

from backend import live_peers
from backend.live_peers import RedisLivePeers

WAIT_S = 10.0


def registry_with(counts: dict[str, int]) -> SimpleNamespace:
    """A stand-in registry whose rooms hold ``counts`` peers each."""
    return SimpleNamespace(rooms={board_id: SimpleNamespace(peers=set(range(peers)))
                                  for board_id, peers in counts.items()})


class RoomsFailingOnce:
    """A stand-in registry whose first read of ``rooms`` raises (a bug, not a Redis error)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self._rooms = registry_with(counts).rooms
        self.failed = False

    @property
    def rooms(self) -> dict:
        if not self.failed:
            self.failed = True
            raise RuntimeError("a bug in reading the rooms")
        return self._rooms


async def until_counted(reader: RedisLivePeers, board_id: str, peers: int | None) -> None:
    """Wait (bounded) until ``reader`` counts ``peers`` on ``board_id`` (None: not counted)."""
    deadline = time.monotonic() + WAIT_S
    while (await reader.counts([board_id])).get(board_id) != peers:
        assert time.monotonic() < deadline, f"{board_id} never counted {peers} peers"
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=60)
async def test_a_process_whose_clock_is_behind_still_counts_and_its_expiry_is_redis_time(
        redis_url, monkeypatch):
    board_id = f"live-{uuid.uuid4().hex[:12]}"
    reporter = RedisLivePeers(registry_with({board_id: 3}), redis_url, uuid.uuid4().hex)
    reader = RedisLivePeers(registry_with({}), redis_url, uuid.uuid4().hex)
    plain = redis.asyncio.Redis.from_url(redis_url)
    try:
        real_time = time.time
        with monkeypatch.context() as patched:  # this host's clock is an hour behind
            patched.setattr(live_peers.time, "time", lambda: real_time() - 3600)
            await reporter.report()
        assert await reader.counts([board_id]) == {board_id: 3}
        seconds, micros = await plain.time()
        score = await plain.zscore(live_peers.PROCESSES_KEY, reporter.key)
        assert abs(score - (seconds + micros / 1e6 + live_peers.TTL_S)) < 2.0
    finally:
        await reporter.close()
        await reader.close()
        await plain.aclose()


@pytest.mark.gen_test(timeout=60)
async def test_a_report_failing_for_another_reason_is_logged_once_and_retried(
        redis_url, caplog):
    board_id = f"live-{uuid.uuid4().hex[:12]}"
    rooms = RoomsFailingOnce({board_id: 2})
    reporter = RedisLivePeers(rooms, redis_url, uuid.uuid4().hex)
    reader = RedisLivePeers(registry_with({}), redis_url, uuid.uuid4().hex)
    caplog.set_level(logging.WARNING, logger=live_peers.__name__)
    try:
        reporter.start()
        await until_counted(reader, board_id, 2)
        assert rooms.failed
        failures = [r for r in caplog.records if "a report failed" in r.getMessage()]
        assert len(failures) == 1 and failures[0].exc_info is not None
    finally:
        await reporter.close()
        await reader.close()


@pytest.mark.gen_test(timeout=60)
async def test_a_process_that_stops_reporting_stops_counting_after_its_ttl(
        redis_url, monkeypatch):
    monkeypatch.setattr(live_peers, "TTL_S", 1.0)
    board_id = f"live-{uuid.uuid4().hex[:12]}"
    reporter = RedisLivePeers(registry_with({board_id: 1}), redis_url, uuid.uuid4().hex)
    reader = RedisLivePeers(registry_with({}), redis_url, uuid.uuid4().hex)
    try:
        await reporter.report()  # once, then silent as a killed process is
        assert await reader.counts([board_id]) == {board_id: 1}
        await until_counted(reader, board_id, None)
    finally:
        await reporter.close()
        await reader.close()
