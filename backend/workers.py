"""``--workers N``: N server processes on one machine sharing one listening port.

The parent binds the port, forks N workers that each run a full syncboard server on the
inherited sockets (the kernel hands each new connection to one of them), and then only
supervises: SIGTERM/SIGINT are passed on to every worker and the parent exits when they
have; a worker that dies unexpectedly (a crash, the OOM killer) is started again. A worker
that exits with status 2 (it could not start: database or broker unreachable) stops them all.

The workers share nothing in memory, so a board may be loaded by several of them: they
need ``--broker`` (Redis) to relay updates and presence, and a database they can all open.
SQLite works here (one machine; WAL, a busy timeout and ``BEGIN IMMEDIATE`` let several
processes write, one at a time); PostgreSQL scales further and is needed across machines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url
from tornado.netutil import bind_sockets

from .access import load_secret
from .config import Settings
from .http_server import LISTEN_BACKLOG

log = logging.getLogger(__name__)

STARTUP_FAILED = 2
RESTART_DELAY_S = 1.0

ServeOne = Callable[[list[socket.socket]], int]
"""Runs one worker's server on the given listening sockets; returns its exit status."""


def workers_problem(settings: Settings) -> str | None:
    """Why ``settings`` cannot run as several workers, or None if they can."""
    if settings.workers <= 1:
        return None
    if not settings.broker:
        return (f"--workers {settings.workers} needs --broker redis://HOST:6379/0: each "
                "worker holds its own copy of a board and Redis relays updates between them")
    url = make_url(settings.db)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return "--workers needs a database every worker can open (a SQLite file or PostgreSQL)"
    return None


def run_workers(settings: Settings, serve_one: ServeOne) -> int:
    """Bind the port, fork ``settings.workers`` workers running ``serve_one``, supervise them
    until a signal; return the exit status for the parent."""
    problem = workers_problem(settings)
    if problem is not None:
        log.error("%s", problem)
        return STARTUP_FAILED
    try:
        sockets = bind_sockets(settings.port, settings.host, family=socket.AF_UNSPEC,
                               backlog=LISTEN_BACKLOG)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return STARTUP_FAILED
    if settings.auth == "token" and not settings.secret:
        load_secret("", settings.data_dir)  # generated once, before workers race to do it
    children: dict[int, int] = {}
    for index in range(settings.workers):
        children[_fork(sockets, serve_one)] = index
    log.info("supervising %d workers on port %d: %s", settings.workers,
             sockets[0].getsockname()[1], " ".join(map(str, children)))
    stopping = False

    def forward(signum: int, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while children:
        pid, wait_status = os.wait()
        index = children.pop(pid, None)
        if index is None:
            continue
        code = os.waitstatus_to_exitcode(wait_status)
        if stopping:
            continue
        if code == STARTUP_FAILED:
            log.error("worker %d (pid %d) could not start; stopping the others", index, pid)
            status = STARTUP_FAILED
            forward(signal.SIGTERM, None)
            continue
        log.error("worker %d (pid %d) exited with %d; starting it again", index, pid, code)
        time.sleep(RESTART_DELAY_S)
        if not stopping:
            children[_fork(sockets, serve_one)] = index
    return status


def _fork(sockets: list[socket.socket], serve_one: ServeOne) -> int:
    pid = os.fork()
    if pid:
        return pid
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        code = serve_one(sockets)
    except Exception:
        log.exception("worker crashed")
    finally:
        logging.shutdown()
        os._exit(code)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone; os.wait() reports it
        os.kill(pid, signum)
