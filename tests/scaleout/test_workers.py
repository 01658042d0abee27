"""``--workers N``: N forked processes on one port, relayed through Redis, one PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import urllib.request

import pytest

from tests.scaleout.conftest import board_name
from tests.scaleout.test_scaleout import close_all, converge, join
from tests.server_process import ServerProcess


def answering_workers(server: ServerProcess, attempts: int = 60,
                      want: int = 2) -> set[str]:
    """Worker pids seen in ``/metrics`` over new connections (the kernel picks a worker)."""
    seen: set[str] = set()
    for _ in range(attempts):
        with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=5) as response:
            seen.update(re.findall(r'syncboard_connections\{worker="(\d+)"\}',
                                   response.read().decode()))
        if len(seen) >= want:
            break
        time.sleep(0.02)
    return seen


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.gen_test(timeout=90)
async def test_workers_share_the_port_relay_through_redis_and_stop_together(cluster):
    (server,) = cluster(1, workers=2)
    workers = answering_workers(server)
    assert len(workers) == 2, workers
    board = board_name("workers")
    clients = [await join(server, board) for _ in range(8)]
    try:
        expected = {}
        for index, client in enumerate(clients):
            expected[f"c{index}"] = index
            await client.put(f"c{index}", index)
        await converge(clients, expected)
    finally:
        close_all(clients)
    assert server.stop() == 0
    await asyncio.sleep(0.1)
    assert not [pid for pid in workers if alive(int(pid))]


@pytest.mark.slow
@pytest.mark.gen_test(timeout=60)
async def test_a_worker_that_dies_is_started_again(cluster):
    (server,) = cluster(1, workers=2)
    workers = answering_workers(server)
    victim = int(sorted(workers)[0])
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    replaced: set[str] = set()
    while time.monotonic() < deadline and len(replaced - workers) == 0:
        replaced = answering_workers(server, attempts=20, want=3)
        await asyncio.sleep(0.1)
    assert replaced - workers, (workers, replaced)
    assert "exited with -9; starting it again" in server.log()
