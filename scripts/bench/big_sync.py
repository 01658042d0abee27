#!/usr/bin/env python3
"""Big boards beside the Node reference server: a 24 MiB offline session sent in one sync
step 2, then fresh clients joining the 24 MiB board (``big_sync.mjs``), per server and run.

    scripts/bench/big_sync.py --servers syncboard,node --mib 24 --joiners 3 --runs 3

syncboard runs with its defaults (16 MiB --max-pending-bytes, 8 MiB --max-message-bytes, rate
limits on) but no tokens, as in ``run.py``. Prints one JSON line per run and a Markdown table
(medians) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_VENV_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
if _VENV_PYTHON.exists() and Path(sys.prefix).resolve() != _VENV_PYTHON.parents[1].resolve():
    os.execv(str(_VENV_PYTHON), [str(_VENV_PYTHON), __file__, *sys.argv[1:]])

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import BENCH_DIR, PeakRssSampler, RunningServer, ServerSpec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="syncboard,node")
    parser.add_argument("--mib", type=float, default=24)
    parser.add_argument("--joiners", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name in args.servers.split(","):
        runs = []
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix=f"big-{name}-") as work:
                server = RunningServer(ServerSpec(name, Path(work)))
                sampler = PeakRssSampler(server)
                try:
                    out = subprocess.run(
                        ["node", str(BENCH_DIR / "big_sync.mjs"), "--url", server.ws_url,
                         "--mib", str(args.mib), "--joiners", str(args.joiners)],
                        capture_output=True, text=True, timeout=300, check=True, cwd=BENCH_DIR)
                finally:
                    peak = sampler.stop()
                    server.stop()
                result = json.loads(out.stdout.strip().splitlines()[-1])
                result.update(server=name, run=run, peak_rss_mb=round(peak / 1e6))
                print(json.dumps(result), flush=True)
                runs.append(result)
        rows.append(_row(name, runs))
    print("\n| server | board bytes | offline session in (s) | join p50 (s) | join max (s) "
          "| closes | peak RSS (MB) |\n|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def _row(name: str, runs: list[dict]) -> str:
    joins = [ms for run in runs for ms in run["joinMs"]]
    closes = sorted({str(code) for run in runs for code in run["closes"]}) or ["none"]
    return (f"| {name} | {runs[0]['boardBytes']:,} "
            f"| {statistics.median(r['uploadMs'] for r in runs) / 1000:.2f} "
            f"| {statistics.median(joins) / 1000:.2f} | {max(joins) / 1000:.2f} "
            f"| {', '.join(closes)} | {statistics.median(r['peak_rss_mb'] for r in runs)} |")


if __name__ == "__main__":
    main()
