#!/usr/bin/env python3
"""What a big sync step 2 of many small structs costs the rest of the server (the "Big sync
step 2" section of BENCHMARKS.md; issues 18/19).

    scripts/bench_big_step2.py [--code DIR] [--elements 20000] [--moves 5] [--runs 1]

Starts ``python -m backend`` from ``--code`` (default: this checkout; point it at another
checkout to compare) with ``--auth none`` and a fresh SQLite file. A pycrdt client holding an
offline session (``tests/offline_session.py``: ``--elements`` rectangles moved ``--moves``
times) connects to board ``big`` and answers the server's step 1 with its whole session,
while a child process polls ``/healthz`` every 50 ms, two clients on another board keep
exchanging edits and a watcher on ``big`` waits for the session. Prints per run: the step 2's
size, the longest ``/healthz`` answer (and median, polls), the slowest bystander round trip,
the time until the watcher has every element, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.liveness import Bystanders, HealthProbe  # noqa: E402
from tests.offline_session import offline_session  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402
from tests.yclient import YClient  # noqa: E402


async def one_run(server: ServerProcess, board_id: str, elements: int, moves: int) -> None:
    """Send one session to ``board_id`` and print what it cost the others."""
    session = offline_session(elements, moves)
    size = len(session.get_update())
    bystanders = await Bystanders(server.ws_url, f"{board_id}-bystanders").start()
    watcher = await YClient(f"{server.ws_url}/{board_id}").sync()
    round_trips: list[float] = []
    with HealthProbe(server.base_url) as probe:
        started = time.perf_counter()
        sender = await YClient(f"{server.ws_url}/{board_id}", session).connect(timeout_s=60)
        while len(watcher.elements) < elements:
            began = time.perf_counter()
            await bystanders.check(timeout_s=120)
            round_trips.append(time.perf_counter() - began)
            if time.perf_counter() - started > 600:
                raise SystemExit("the watcher did not get the session within 600 s")
        seen_s = time.perf_counter() - started
    latencies = [s * 1000 for s in probe.latencies_s]
    print(f"{elements} elements x {moves} moves, step 2 {size / 2**20:.1f} MiB: watcher has "
          f"it after {seen_s:.2f} s; /healthz {len(latencies)} polls, median "
          f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms, failures "
          f"{len(probe.failures)}; bystander round trips {len(round_trips)}, max "
          f"{max(round_trips) * 1000:.0f} ms; sender closed: {sender.close_code}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    sender.close()
    watcher.close()
    bystanders.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose server to run")
    parser.add_argument("--elements", type=int, default=20_000)
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-step2-"))
    server = ServerProcess(f"sqlite+aiosqlite:///{folder}/bench.db",
                           {"auth": "none", "data_dir": str(folder)}, folder,
                           {**os.environ, "PYTHONPATH": args.code})
    server.start()
    try:
        for run in range(args.runs):
            asyncio.run(one_run(server, f"big{run}", args.elements, args.moves))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
