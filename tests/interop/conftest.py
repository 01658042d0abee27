"""Fixtures for the interop tests: Node y-websocket clients against a real server process."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.interop.node_client import Y_WEBSOCKET_PACKAGES, NodeClient, missing_setup

SERVER_LOG_TAIL_LINES = 60


@pytest.fixture
def node_client(io_loop):
    """Factory: ``await node_client(package="y-websocket")`` starts a Node driver process
    holding providers of that npm package (see ``Y_WEBSOCKET_PACKAGES``); all quit at teardown.
    ``node_client(time_scale=10)``: its clock runs ten times faster (``fast_clock.mjs``).

    Fails (never skips) when Node or the npm packages are missing, saying how to install them.
    """
    problem = missing_setup()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    clients: list[NodeClient] = []

    async def start(package: str = "y-websocket", time_scale: int = 1) -> NodeClient:
        client = await NodeClient.start(package=package, time_scale=time_scale)
        clients.append(client)
        return client

    yield start
    for number, client in enumerate(clients):
        io_loop.run_sync(client.quit, timeout=15)
        print(f"--- node client {number}: last events {client.events[-20:]}")
        if client.stderr_lines:
            print(f"--- node client {number} stderr:\n{client.stderr_text()}")


@pytest.fixture(params=sorted(Y_WEBSOCKET_PACKAGES))
def y_websocket(request) -> str:
    """The npm package of one y-websocket release (1.5, 2.1, 3.1): a test taking this fixture
    runs once per release."""
    return Y_WEBSOCKET_PACKAGES[request.param]


@pytest.fixture
def server(server_process):
    """One syncboard server subprocess (see ``tests/server_process.py``)."""
    return server_process()


@pytest.fixture
def board(request) -> str:
    """A board id named after the test: characters a board id cannot hold become ``_``, and
    a name over the 64-character limit is cut, keeping a hash so parametrized runs differ."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)
    if len(name) > 64:
        name = name[:55] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return name


@pytest.fixture(autouse=True)
def server_logs_on_failure(tmp_path, request):
    """After each test, print the tail of every server log under ``tmp_path`` and of the
    module's ``shared_server`` when the test used it.

    pytest shows teardown output only for a failing test, next to its traceback.
    """
    yield
    logs = sorted(tmp_path.glob("server-*.log"))
    if "shared_server" in request.fixturenames:
        logs.append(request.getfixturevalue("shared_server").log_path)
    for log_path in logs:
        lines = log_path.read_text(errors="replace").splitlines()
        print(f"--- {log_path.name} (last {SERVER_LOG_TAIL_LINES} lines)")
        print("\n".join(lines[-SERVER_LOG_TAIL_LINES:]))
