"""Fixtures for the interop tests: Node y-websocket clients against a real server process."""

from __future__ import annotations

import pytest

from tests.interop.node_client import NodeClient, missing_setup

SERVER_LOG_TAIL_LINES = 60


@pytest.fixture
def node_client(io_loop):
    """Factory: ``await node_client()`` starts a Node driver process; all quit at teardown.
    ``node_client(time_scale=10)``: its clock runs ten times faster (``fast_clock.mjs``).

    Fails (never skips) when Node or the npm packages are missing, saying how to install them.
    """
    problem = missing_setup()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    clients: list[NodeClient] = []

    async def start(time_scale: int = 1) -> NodeClient:
        client = await NodeClient.start(time_scale=time_scale)
        clients.append(client)
        return client

    yield start
    for number, client in enumerate(clients):
        io_loop.run_sync(client.quit, timeout=15)
        print(f"--- node client {number}: last events {client.events[-20:]}")
        if client.stderr_lines:
            print(f"--- node client {number} stderr:\n{client.stderr_text()}")


@pytest.fixture
def server(server_process):
    """One syncboard server subprocess (see ``tests/server_process.py``)."""
    return server_process()


@pytest.fixture
def board(request) -> str:
    """A board id named after the test (cut to the 64-character id limit)."""
    return request.node.name[:64]


@pytest.fixture(autouse=True)
def server_logs_on_failure(tmp_path):
    """After each test, print the tail of every server log under ``tmp_path``.

    pytest shows teardown output only for a failing test, next to its traceback.
    """
    yield
    for log_path in sorted(tmp_path.glob("server-*.log")):
        lines = log_path.read_text(errors="replace").splitlines()
        print(f"--- {log_path.name} (last {SERVER_LOG_TAIL_LINES} lines)")
        print("\n".join(lines[-SERVER_LOG_TAIL_LINES:]))
