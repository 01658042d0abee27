"""Fixtures for scale-out tests: one Redis, one PostgreSQL database per test, and a factory
starting several syncboard processes that share both.

Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, user postgres, trust auth) are started
by ``./scripts/test`` when installed; when either cannot be logged in to, these tests skip and
say why (tests/services.py).
"""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.server_process import ServerProcess
from tests.services import postgres_problem, redis_problem

REDIS_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def redis_url() -> str:
    """The shared Redis; boards in these tests have unique names, so tests never collide."""
    problem = redis_problem()
    if problem is not None:
        pytest.skip(problem)
    return REDIS_URL


@pytest.fixture
def pg_url(io_loop):
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(problem)
    import asyncpg

    name = f"syncboard_scaleout_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    io_loop.run_sync(lambda: admin(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    io_loop.run_sync(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def cluster(redis_url, pg_url, server_process):
    """Factory: ``cluster(count, **options)`` starts ``count`` syncboard processes on one
    PostgreSQL database and one Redis; they are stopped at teardown, before the database
    is dropped."""
    started: list[ServerProcess] = []

    def start(count: int, **options) -> list[ServerProcess]:
        options = {"flush_delay_ms": 20, "broker": redis_url, **options}
        processes = [server_process(db=pg_url, **options) for _ in range(count)]
        started.extend(processes)
        return processes

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def redis_admin(redis_url):
    """A plain Redis client for the test itself (cutting connections, reading streams)."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def board_name(test_name: str) -> str:
    """A board id unique to this run (streams in the shared Redis outlive a test)."""
    return f"{test_name[:40]}-{uuid.uuid4().hex[:8]}"
