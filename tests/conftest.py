"""Shared fixtures: a real syncboard server in-process or as a subprocess, and Yjs clients.

- ``sb_server`` (in-process, on pytest-tornado's ``io_loop``): a factory
  ``await sb_server(**settings)`` returning a started ``SyncboardServer`` on 127.0.0.1 port 0 with
  its own SQLite file; use it from ``@pytest.mark.gen_test`` tests.
- ``yclient`` (in-process tests): ``await yclient(server, board_id)`` returns a synced
  ``YClient``; all are closed at teardown.
- ``server_process``: a factory starting ``python -m backend`` as a real subprocess (for
  kill -9, restart, Node clients); see ``tests/server_process.py``.
- ``shared_server``: one such subprocess per module, for tests that each use their own board
  and need no options of their own (a server start costs about a CPU-second, several seconds
  of wall time on a loaded machine).

``./scripts/test`` runs the suite on pytest-xdist workers (``-n 2 --dist loadgroup``). That
works because every test gets its own loopback port (port 0 or ``free_port()``), its own
``tmp_path`` (SQLite files, data dirs), its own PostgreSQL database (random name) and Redis
board ids unique per run (``tests/scaleout/conftest.py`` ``board_name``; a stream key is
``syncboard:board:<id>``); keep new tests that way. Tests that must share one process go in
one unit of ``tests/xdist_scheduling.py`` (``keeps_together`` below: a browser module, or a
module with a costly module-scoped fixture, which each worker would otherwise build). Mark a
test that takes 10 s or more on a loaded machine ``@pytest.mark.slow``: xdist starts it early.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from backend.app import SyncboardServer
from backend.config import Settings
from tests.server_process import ServerProcess
from tests.worker_processes import NewChildren
from tests.yclient import YClient

ROOT = Path(__file__).resolve().parent.parent
BROWSER_TESTS = ROOT / "tests" / "browser"


MODULES_KEPT_TOGETHER = ("tests/test_packaging.py", "tests/test_export_script.py")
"""Non-browser modules whose costly module-scoped fixture (a built and installed wheel, a
filled database) all their tests share: each runs on one worker."""


def keeps_together(module: str) -> bool:
    """Whether the tests of ``module`` (a path relative to the checkout) go to one worker:
    a browser module (its ``shared_server``; the package-scoped Chromium is started once
    per worker, as the browser tests are dealt out first) or one of ``MODULES_KEPT_TOGETHER``."""
    return module.startswith("tests/browser/") or module in MODULES_KEPT_TOGETHER


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (``./scripts/test``): ``tests/xdist_scheduling.py``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_scheduling import SuiteScheduling

    return SuiteScheduling(config, log, keeps_together)


def pytest_collection_modifyitems(config, items) -> None:
    """On an xdist worker, the order units are dealt out in: the browser tests first (in
    their order, a module after another, so each worker's Chromium and each module's server
    start once), then the ``slow`` tests, then the rest. Serial runs keep collection order."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: 0 if BROWSER_TESTS in item.path.parents
                   else 1 if item.get_closest_marker("slow") else 2)


@pytest.fixture
def new_children() -> NewChildren:
    """``new_children()``: the worker processes (spawn children) started during this test."""
    return NewChildren()


@pytest.fixture
def sb_server(io_loop, tmp_path):
    """Factory for in-process servers; each gets a fresh SQLite file unless ``db`` is given."""
    servers: list[SyncboardServer] = []

    async def start(**overrides) -> SyncboardServer:
        # Tests about sync run with --auth none; access-control tests turn tokens on.
        options = {"host": "127.0.0.1", "port": 0,
                   "db": f"sqlite+aiosqlite:///{tmp_path}/board-{len(servers)}.db",
                   "data_dir": str(tmp_path / "data"), "auth": "none", "log_level": "INFO"}
        options.update(overrides)
        server = SyncboardServer(Settings(**options))
        servers.append(server)
        await server.start()
        return server

    yield start
    for server in servers:
        io_loop.run_sync(server.stop, timeout=30)


@pytest.fixture
def yclient(io_loop):
    """``await yclient(server, board_id, sync=True)``: a connected YClient, closed at teardown."""
    clients: list[YClient] = []

    async def connect(server: SyncboardServer, board_id: str, sync: bool = True) -> YClient:
        client = YClient(f"ws://127.0.0.1:{server.port}/ws/{board_id}")
        clients.append(client)
        return await (client.sync() if sync else client.connect())

    yield connect
    for client in clients:
        client.close()

    async def settle() -> None:
        await asyncio.sleep(0.05)
    io_loop.run_sync(settle)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One ``python -m backend`` subprocess (default options, ``--auth none``) for a whole test
    module whose tests each use their own board and neither restart it nor read its totals
    (``/healthz`` counts, metrics, the whole log): it saves a server start per test. The
    browser modules take it directly; a module can hand it out as its ``server`` fixture."""
    tmp = tmp_path_factory.mktemp("shared-server")
    process = ServerProcess(
        db_url=f"sqlite+aiosqlite:///{tmp}/server.db",
        options={"auth": "none", "data_dir": str(tmp / "data")},
        log_dir=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def server_process(tmp_path):
    """Factory: ``server_process(**cli_options)`` starts ``python -m backend`` on a free
    loopback port with its own SQLite file; every process is stopped at teardown. ``env``:
    environment variables to add (``TMPDIR``, ...)."""
    processes: list[ServerProcess] = []

    def start(**options) -> ServerProcess:
        db = options.pop("db", f"sqlite+aiosqlite:///{tmp_path}/server-{len(processes)}.db")
        options.setdefault("auth", "none")  # access-control tests pass auth="token"
        options.setdefault("data_dir", str(tmp_path / "data"))
        rlimit_nofile = options.pop("rlimit_nofile", None)
        env = {**os.environ, "PYTHONPATH": str(ROOT), **options.pop("env", {})}
        process = ServerProcess(db_url=db, options=options, log_dir=tmp_path, env=env,
                                rlimit_nofile=rlimit_nofile)
        processes.append(process)
        process.start()
        return process

    yield start
    for process in processes:
        process.stop()
