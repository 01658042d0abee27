#!/usr/bin/env python3
"""How long /healthz takes while six large PNG exports run (the "PNG export and the event
loop" section of BENCHMARKS.md).

    scripts/bench_png_healthz.py [--code DIR] [--side 2000] [--exports 6] [--option KEY=VALUE]

Starts ``python -m backend`` from ``--code`` (default: this checkout; point it at another
checkout to compare) with ``--auth none`` and a fresh SQLite file, imports a board of two large
shapes, then fires ``--exports`` concurrent ``export.png?region=0,0,SIDE,SIDE`` requests while
a child process polls ``/healthz`` every 50 ms. Prints the statuses, the wall time and the
/healthz latencies (polls, median, max). ``--option png_workers=2`` passes server options.
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

from tests.faults.liveness import HealthProbe  # noqa: E402
from tests.faults.test_png_export import export_png, make_board  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose server to run")
    parser.add_argument("--side", type=int, default=2000, help="export side in pixels")
    parser.add_argument("--exports", type=int, default=6)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    options = dict(option.split("=", 1) for option in args.option)
    folder = Path(tempfile.mkdtemp(prefix="bench-png-"))
    server = ServerProcess(f"sqlite+aiosqlite:///{folder}/bench.db",
                           {"auth": "none", "data_dir": str(folder), **options}, folder,
                           {**os.environ, "PYTHONPATH": args.code})
    server.start()
    try:
        make_board(server, "bench")
        asyncio.run(_measure(server, args))
    finally:
        server.stop()
    return 0


async def _measure(server: ServerProcess, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    with HealthProbe(server.base_url) as probe:
        results = await asyncio.gather(*[asyncio.to_thread(export_png, server, "bench",
                                                           args.side)
                                         for _ in range(args.exports)])
    latencies = [s * 1000 for s in probe.latencies_s]
    print(f"code {args.code} options {args.option}: statuses "
          f"{sorted(status for status, _, _ in results)}, wall "
          f"{time.perf_counter() - started:.1f} s; /healthz: {len(latencies)} polls, median "
          f"{statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms, "
          f"{len(probe.failures)} failures")


if __name__ == "__main__":
    sys.exit(main())
