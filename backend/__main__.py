"""``python -m backend``: parse flags into Settings, run the server, stop cleanly on signals."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Coroutine

from .app import SyncboardServer
from .broker_redis import BrokerError
from .config import load_settings
from .logging_setup import configure_logging
from .maintenance import COMMANDS, run_command
from .memory import freeze_start_up_heap
from .store import StoreError
from .workers import run_workers

log = logging.getLogger("backend")


async def serve(argv: list[str], sockets: list[socket.socket] | None = None) -> int:
    """Run until SIGINT/SIGTERM; return the process exit status. ``sockets``: the listening
    sockets a ``--workers`` parent bound for this worker."""
    settings = load_settings(argv)
    configure_logging(settings.log_level, settings.log_format, tag_worker=sockets is not None)
    server = SyncboardServer(settings, sockets)
    try:
        await server.start()
    except (StoreError, BrokerError) as exc:
        log.error("%s", exc)
        await server.stop()
        return 2
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        await server.stop()
        return 2
    freeze_start_up_heap()  # before the first client: see memory.py
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    ws_server_url = server.url.replace("http", "ws", 1) + settings.ws_path.rstrip("/")
    print(f"syncboard serving on {server.url}/ (y-websocket server URL {ws_server_url}: "
          f"boards at {ws_server_url}/<board>; database {settings.db})", flush=True)
    await stop.wait()
    log.info("signal received: shutting down")
    if not await server.stop():
        # Everything is committed; a stage left running must not keep the process alive
        # (asyncio.run would wait for it when it cancels what is left).
        log.error("exiting now, without waiting for the stages above")
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)
    return 0


def main() -> None:
    """Console entry point."""
    argv = sys.argv[1:]
    if argv and argv[0] in COMMANDS:  # python -m backend migrate | backup
        sys.exit(run_command(argv))
    settings = load_settings(argv)
    if settings.workers > 1:
        configure_logging(settings.log_level, settings.log_format)
        sys.exit(run_workers(settings, lambda sockets: run_loop(serve(argv, sockets))))
    sys.exit(run_loop(serve(argv)))


def run_loop(main_coroutine: Coroutine[None, None, int]) -> int:
    """Run on uvloop when it is installed (less event-loop overhead per frame), else on the
    standard asyncio loop; both run Tornado unchanged."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_coroutine)
    return uvloop.run(main_coroutine)


if __name__ == "__main__":
    main()
