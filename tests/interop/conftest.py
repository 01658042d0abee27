"""Fixtures for the interop tests: Node y-websocket clients against a real server process."""

from __future__ import annotations

import pytest

from tests.interop.node_client import NodeClient, missing_setup


@pytest.fixture
def node_client(io_loop):
    """Factory: ``await node_client()`` starts a Node driver process; all quit at teardown.

    Fails (never skips) when Node or the npm packages are missing, saying how to install them.
    """
    problem = missing_setup()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    clients: list[NodeClient] = []

    async def start() -> NodeClient:
        client = await NodeClient.start()
        clients.append(client)
        return client

    yield start
    for client in clients:
        io_loop.run_sync(client.quit, timeout=15)


@pytest.fixture
def server(server_process):
    """One syncboard server subprocess (see ``tests/server_process.py``)."""
    return server_process()
