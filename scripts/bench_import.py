#!/usr/bin/env python3
"""How long a big valid import takes and how long /healthz waits meanwhile (the "Import of
a big board" section of BENCHMARKS.md).

    scripts/bench_import.py [--code DIR] [--elements 60000]

Starts ``python -m backend`` from ``--code`` (default: this checkout; point it at another
checkout to compare) with ``--auth none`` and a fresh SQLite file, posts a syncboard JSON
file of ``--elements`` rectangles (``tests/test_import_big.py``'s board) to
``/api/boards/big/import`` while a child process polls ``/healthz`` every 50 ms, then reads
``export.json`` back and compares it with the file. Prints the import's wall time, the peak
resident set (VmHWM) of the server and of its child processes (the import worker), the
children's peak address space (VmPeak: what ``--import-worker-memory-bytes`` caps), the
/healthz latencies (polls, median, max) and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.liveness import HealthProbe  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402
from tests.test_import_big import big_board, post  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose server to run")
    parser.add_argument("--elements", type=int, default=60_000)
    args = parser.parse_args()
    board = big_board(args.elements)
    body = json.dumps(board, separators=(",", ":")).encode()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    server = ServerProcess(f"sqlite+aiosqlite:///{folder}/bench.db",
                           {"auth": "none", "data_dir": str(folder)}, folder,
                           {**os.environ, "PYTHONPATH": args.code})
    server.start()
    try:
        pid = server.proc.pid
        print(f"{args.elements} rectangles, {len(body) / 2**20:.1f} MiB; server resident "
              f"{_peak_mib(pid):.0f} MiB")
        started = time.perf_counter()
        with HealthProbe(server.base_url) as probe:
            answer = post(server.base_url + "/api/boards/big/import", body)
        elapsed = time.perf_counter() - started
        latencies = [s * 1000 for s in probe.latencies_s]
        children = [_peak_mib(child) for child in _children(pid)]
        spaces = [_peak_mib(child, "VmPeak") for child in _children(pid)]
        print(f"import: {answer['elements']} elements in {elapsed:.1f} s; peak RSS server "
              f"{_peak_mib(pid):.0f} MiB, children {[round(c) for c in children]} MiB; "
              f"children's peak address space {[round(s) for s in spaces]} MiB; "
              f"/healthz {len(latencies)} polls, median {statistics.median(latencies):.0f} ms, "
              f"max {max(latencies):.0f} ms, failures {len(probe.failures)}; "
              f"load average {os.getloadavg()[0]:.1f}")
        with urllib.request.urlopen(server.base_url + "/api/boards/big/export.json",
                                    timeout=600) as response:
            exported = {e["id"]: e for e in json.loads(response.read())["elements"]}
        same = all({k: exported.get(e["id"], {}).get(k) for k in e} == e
                   for e in board["elements"]) and len(exported) == len(board["elements"])
        print(f"export.json equals the file: {same}")
    finally:
        server.stop()
    return 0


def _peak_mib(pid: int, field: str = "VmHWM") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


if __name__ == "__main__":
    sys.exit(main())
