"""RedisBroker against a real Redis and a real SQLite store, two brokers in one process."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from backend.broker import RemoteKind
from backend.broker_redis import STREAM_PREFIX, BrokerError, RedisBroker, redacted
from backend.store import open_store
from tests.services import redis_problem

REDIS_URL = "redis://127.0.0.1:6379/0"


needs_redis = pytest.mark.skipif(redis_problem() is not None, reason=str(redis_problem()))


class Inbox:
    """A ``deliver`` callback that records what it got."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, RemoteKind, bytes]] = []

    def __call__(self, board_id: str, kind: RemoteKind, payload: bytes) -> None:
        self.messages.append((board_id, kind, payload))

    async def wait_for(self, count: int, timeout_s: float = 5) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(self.messages) < count:
            assert asyncio.get_running_loop().time() < deadline, self.messages
            await asyncio.sleep(0.01)


def stream_length(board_id: str) -> int:
    """Entries in the board's stream, read straight from Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return client.xlen(STREAM_PREFIX + board_id)
    finally:
        client.close()


async def wait_until(predicate, what: str, timeout_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def brokers(io_loop, tmp_path):
    """Factory: ``await brokers()`` returns a started (broker, inbox); closed at teardown."""
    started = []

    async def start() -> tuple[RedisBroker, Inbox]:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/broker.db")
        broker, inbox = RedisBroker(REDIS_URL, store), Inbox()
        await broker.start(inbox)
        started.append((broker, store))
        return broker, inbox

    yield start

    async def close() -> None:
        for broker, store in started:
            await broker.close()
            await store.close()
    io_loop.run_sync(close)


@needs_redis
@pytest.mark.gen_test(timeout=30)
async def test_a_message_reaches_the_other_process_but_not_its_own(brokers):
    board = f"broker-{uuid.uuid4().hex[:8]}"
    alice, alice_inbox = await brokers()
    bob, bob_inbox = await brokers()
    await alice.subscribe(board)
    await bob.subscribe(board)
    alice.publish(board, RemoteKind.UPDATE, b"\x01\x02")
    alice.publish(board, RemoteKind.AWARENESS, b"\x03")
    await bob_inbox.wait_for(2)
    assert bob_inbox.messages == [(board, RemoteKind.UPDATE, b"\x01\x02"),
                                  (board, RemoteKind.AWARENESS, b"\x03")]
    # Alice reads the stream in order: her own entries would reach her before bob's marker.
    bob.publish(board, RemoteKind.UPDATE, b"marker")
    await alice_inbox.wait_for(1)
    assert alice_inbox.messages == [(board, RemoteKind.UPDATE, b"marker")]


@needs_redis
@pytest.mark.gen_test(timeout=30)
async def test_subscribing_replays_what_was_published_just_before(brokers):
    board = f"broker-{uuid.uuid4().hex[:8]}"
    alice, _ = await brokers()
    alice.publish(board, RemoteKind.UPDATE, b"not committed by alice yet")
    await wait_until(lambda: stream_length(board) == 1, "the entry in Redis (nobody reads it)")
    bob, bob_inbox = await brokers()
    await bob.subscribe(board)
    assert bob_inbox.messages == [(board, RemoteKind.UPDATE, b"not committed by alice yet")]
    alice.publish(board, RemoteKind.UPDATE, b"later")
    await bob_inbox.wait_for(2)
    assert bob_inbox.messages[1] == (board, RemoteKind.UPDATE, b"later")


@needs_redis
@pytest.mark.gen_test(timeout=30)
async def test_an_unsubscribed_board_is_no_longer_delivered(brokers):
    board = f"broker-{uuid.uuid4().hex[:8]}"
    alice, _ = await brokers()
    bob, bob_inbox = await brokers()
    marker_board = f"{board}-marker"
    await bob.subscribe(board)
    await bob.subscribe(marker_board)
    bob.unsubscribe(board)
    alice.publish(board, RemoteKind.UPDATE, b"x")
    alice.publish(marker_board, RemoteKind.UPDATE, b"marker")
    await wait_until(lambda: stream_length(board) == 1, "the entry in Redis")
    # Bob reads both streams in one loop: had he kept reading the first, its entry (older
    # than the marker) would be delivered no later than the marker.
    await bob_inbox.wait_for(1)
    assert bob_inbox.messages == [(marker_board, RemoteKind.UPDATE, b"marker")]


@pytest.mark.gen_test(timeout=30)
async def test_an_unreachable_redis_stops_start_up_naming_the_url(tmp_path):
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/broker.db")
    broker = RedisBroker("redis://:hunter2@127.0.0.1:1/0", store)
    try:
        with pytest.raises(BrokerError, match=r"redis://:\*\*\*@127\.0\.0\.1:1/0"):
            await broker.start(lambda *_: None)
    finally:
        await store.close()


def test_redacted_hides_only_the_password():
    assert redacted("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"
