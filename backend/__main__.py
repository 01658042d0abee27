"""``python -m backend``: parse flags into Settings, run the server, stop cleanly on signals."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from .app import SyncboardServer
from .config import load_settings
from .store import StoreError

log = logging.getLogger("backend")


async def serve(argv: list[str]) -> int:
    """Run until SIGINT/SIGTERM; return the process exit status."""
    settings = load_settings(argv)
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = SyncboardServer(settings)
    try:
        await server.start()
    except StoreError as exc:
        log.error("%s", exc)
        return 2
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        await server.stop()
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"syncboard serving on {server.url}/ (WebSocket {server.url.replace('http', 'ws')}"
          f"/ws/<board>, database {settings.db})", flush=True)
    await stop.wait()
    log.info("signal received: shutting down")
    await server.stop()
    return 0


def main() -> None:
    """Console entry point."""
    sys.exit(asyncio.run(serve(sys.argv[1:])))


if __name__ == "__main__":
    main()
