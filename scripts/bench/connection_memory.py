"""Server memory and descriptors per idle WebSocket connection (sizes --max-connections-per-ip).

Starts ``python -m backend`` on a fresh SQLite file, opens 20 boards, then N more connections
spread over them (100 at a time), and prints the server's RSS and open descriptors before and
after. Usage: ``.venv/bin/python scripts/bench/connection_memory.py [N]`` (default 1000).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import psutil
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.server_process import ServerProcess  # noqa: E402

BOARDS = 20


async def measure(count: int) -> None:
    folder = Path(tempfile.mkdtemp())
    server = ServerProcess(f"sqlite+aiosqlite:///{folder}/bench.db",
                           {"auth": "none", "data_dir": str(folder), "log_level": "WARNING",
                            "max_connections_per_ip": count + BOARDS,
                            "max_sockets_per_ip": count + BOARDS + 100},
                           folder, {**os.environ, "PYTHONPATH": str(ROOT)})
    server.start()
    process = psutil.Process(server.proc.pid)
    sockets = [await websocket_connect(f"{server.ws_url}/mem_{i}") for i in range(BOARDS)]
    await asyncio.sleep(1)
    before, fds_before = process.memory_info().rss, process.num_fds()
    for start in range(0, count, 100):
        sockets += await asyncio.gather(*(websocket_connect(f"{server.ws_url}/mem_{i % BOARDS}")
                                          for i in range(start, min(count, start + 100))))
    await asyncio.sleep(2)
    after, fds_after = process.memory_info().rss, process.num_fds()
    print(f"{count} idle connections over {BOARDS} boards: RSS {before / 2**20:.1f} -> "
          f"{after / 2**20:.1f} MiB ({(after - before) / count / 1024:.1f} KiB each), "
          f"descriptors {fds_before} -> {fds_after}")
    for ws in sockets:
        ws.close()
    server.stop()


if __name__ == "__main__":
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
