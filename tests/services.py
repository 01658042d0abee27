"""Whether the local services some tests use (PostgreSQL, Redis) can really be used.

A listening port is not enough: a PostgreSQL that wants a password, or a Redis that wants
AUTH, accepts the TCP connection and then refuses the client. ``postgres_problem()`` and
``redis_problem()`` log in as the tests do and return why they cannot (None when they can),
for ``pytest.skip``; each is asked once per test process.

What the tests need: PostgreSQL on 127.0.0.1:5432 letting the role ``postgres`` in without a
password (``trust`` for host 127.0.0.1 in pg_hba.conf) and create databases; Redis on
127.0.0.1:6379 without a password. ``./scripts/test`` starts both when they are installed.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN_TIMEOUT_S = 5.0


def reachable(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@functools.cache
def postgres_problem(dsn: str = PG_ADMIN_DSN) -> str | None:
    """Why the PostgreSQL tests cannot run (unreachable, login refused, no CREATEDB), or None."""
    async def login() -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=LOGIN_TIMEOUT_S)
        try:
            if not await conn.fetchval("SELECT rolcreatedb OR rolsuper FROM pg_roles "
                                       "WHERE rolname = current_user"):
                raise PermissionError("role postgres may not create databases")
        finally:
            await conn.close()

    problem = _in_own_loop(login)
    if problem is None:
        return None
    return (f"PostgreSQL at {dsn} is not usable ({problem}); the tests need role "
            "postgres with trust authentication on 127.0.0.1:5432 and CREATEDB "
            "(./scripts/test starts a local one when it is installed)")


@functools.cache
def redis_problem(url: str = REDIS_URL) -> str | None:
    """Why the Redis tests cannot run (unreachable, AUTH required, ...), or None."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=LOGIN_TIMEOUT_S,
                                  socket_connect_timeout=LOGIN_TIMEOUT_S)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return (f"Redis at {url} is not usable ({type(exc).__name__}: {exc}); "
                "./scripts/test starts one when redis-server is installed")
    finally:
        client.close()
    return None


def _in_own_loop(login) -> str | None:
    """Run ``login()`` on a fresh event loop in a thread (the caller may be inside one);
    return the exception it raised as one line, or None."""
    problem: list[str] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(login(), LOGIN_TIMEOUT_S * 2))
        except Exception as exc:  # any failure to log in is a reason to skip, said in full
            problem.append(f"{type(exc).__name__}: {exc}".strip())

    thread = threading.Thread(target=run, name="service-probe")
    thread.start()
    thread.join()
    return problem[0] if problem else None
