#!/usr/bin/env python3
"""Run the sync benchmarks against syncboard, the Node reference server and pycrdt-websocket.

For each server, scenario and run: start the server on a free loopback port with a fresh
database, drive it with loadgen.mjs, sample its CPU seconds and peak RSS, stop it. Writes
scripts/bench/results/<time>.json and the "Sync benchmarks" section of BENCHMARKS.md
(median of the runs). Example:

    scripts/bench/run.py --servers syncboard,node,pycrdt --scenarios S1,S2,S3 \
        --runs 3 --duration-s 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]),
                str(Path(__file__).resolve().parents[1] / "lib")]
from project_venv import ensure_node_packages, use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt", "scripts/bench/requirements.txt")

import report  # noqa: E402
import stats  # noqa: E402
from committed import count_elements  # noqa: E402
from feed_readers import FeedReaders, feed_batch_samples  # noqa: E402
from profile_summary import top_frames  # noqa: E402
from scenarios import SCENARIOS, Scenario, summarise  # noqa: E402
from servers import (  # noqa: E402
    BENCH_DIR,
    REPO_DIR,
    SERVER_NAMES,
    PeakRssSampler,
    RunningServer,
    ServerSpec,
)

from backend.cli_args import ArgumentParser  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
CHARTS_DIR = REPO_DIR / "docs" / "bench"  # a PNG per scenario, embedded in BENCHMARKS.md
SETTLE_AFTER_CONNECT_S = 2.0
KILL_AFTER_S = 1.0  # P1: SIGKILL the server this long after the last update was sent


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run every (server, scenario, run), write JSON and the markdown section."""
    args = _parse_args(argv)
    ensure_node_packages("scripts/bench")  # the load generator and the Node server
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    raw: list[dict] = []
    rows: list[dict] = []
    for scenario_name in args.scenarios:
        scenario = SCENARIOS[scenario_name]
        for server_name in args.servers:
            runs = []
            for run_index in range(args.runs):
                print(f"[{datetime.now(UTC):%H:%M:%S}] {scenario.name} on {server_name}, "
                      f"run {run_index + 1}/{args.runs}", flush=True)
                record = _run_once(scenario, server_name, run_index, args, stamp)
                raw.append(record)
                if record.get("row") is not None:
                    runs.append(record["row"])
                    print("   ", _headline(record["row"]), flush=True)
                else:
                    print("    failed:", record["error"], flush=True)
            if runs:
                rows.append({"scenario": scenario.name, "server": server_name,
                             "runs": len(runs), **stats.median_of_runs(runs)})
            else:
                rows.append({"scenario": scenario.name, "server": server_name, "runs": 0,
                             "error": raw[-1]["error"]})
    command = "scripts/bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out_path = RESULTS_DIR / f"{stamp}.json"
    out_path.write_text(json.dumps({"command": command, "started": started.isoformat(),
                                    "rows": rows, "runs": raw}, indent=1))
    charts_dir = RESULTS_DIR if args.no_write else CHARTS_DIR
    images = report.chart_images({"rows": rows, "runs": raw}, charts_dir, stamp, REPO_DIR)
    markdown = _section(command, started, args, rows, images)
    print(markdown)
    if not args.no_write:
        report.write_section(REPO_DIR / "BENCHMARKS.md", markdown)
    print(f"raw results: {out_path}")
    return 0


def _run_once(scenario: Scenario, server_name: str, run_index: int, args: argparse.Namespace,
              stamp: str) -> dict:
    record: dict = {"scenario": scenario.name, "server": server_name, "run": run_index}
    with tempfile.TemporaryDirectory(prefix=f"bench-{server_name}-") as work_dir:
        spec = ServerSpec(server_name, Path(work_dir),
                          dict(scenario.syncboard_options) | args.syncboard_options,
                          scenario.node_persistence)
        try:
            server = RunningServer(spec)
        except RuntimeError as exc:
            return record | {"error": str(exc), "row": None}
        profiler = _start_py_spy(server, scenario, run_index, stamp) if args.py_spy else None
        try:
            load_before = os.getloadavg()[0]
            result, samples = _drive(scenario, server, args)
            # the machine's 1-minute load average, mean of before and after the run
            load = (load_before + os.getloadavg()[0]) / 2
            record |= {"loadgen": result, "server_samples": samples,
                       "row": summarise(scenario, result, samples) | {"load_avg": load}}
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
            record |= {"error": f"{type(exc).__name__}: {exc}", "row": None,
                       "server_log_tail": server.log_path.read_text()[-2000:]}
        finally:
            server.stop()
            if profiler is not None:
                record["profile"] = _stop_py_spy(*profiler)
    return record


def _drive(scenario: Scenario, server: RunningServer,
           args: argparse.Namespace) -> tuple[dict, dict]:
    """Run the load generator against ``server``; returns its JSON and the server samples."""
    loadgen_args = dict(scenario.loadgen_args)
    if scenario.uses_duration:
        loadgen_args["duration-s"] = str(args.duration_s)
    loadgen_args |= {"quiet-max-s": str(args.quiet_max_s),
                     "connect-timeout-s": str(args.connect_timeout_s),
                     "board-prefix": f"{scenario.name.lower()}-{int(time.time() * 1000)}"}
    command = ["node", str(BENCH_DIR / "loadgen.mjs"), "--url", server.ws_url,
               "--mode", scenario.kind]
    readers = None
    if args.feed_readers and server.spec.name == "syncboard":
        boards = int(loadgen_args.get("boards", "1"))
        readers = FeedReaders(server.ws_url.replace("ws://", "http://").rsplit("/ws", 1)[0],
                              [f"{loadgen_args['board-prefix']}-{i}" for i in range(boards)])
        readers.start()
    for key, value in loadgen_args.items():
        command += [f"--{key}", value]
    timeout_s = args.duration_s + 6 * args.quiet_max_s + args.connect_timeout_s + 120
    samples = {"rss_before_bytes": server.rss_bytes()}
    sampler = PeakRssSampler(server)
    cpu_before = server.cpu_s()
    with tempfile.TemporaryFile() as stdout:
        loadgen = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True,
                                   cwd=BENCH_DIR)
        watchdog = threading.Timer(timeout_s, loadgen.kill)
        watchdog.start()
        try:
            events = _follow_events(loadgen, server, samples, scenario.kind == "persist")
            loadgen.wait()
        finally:
            watchdog.cancel()
        if readers is not None:
            samples |= readers.stop()
        samples["cpu_s"] = samples.pop("cpu_s_at_kill", None) or server.cpu_s()
        samples["cpu_s"] -= cpu_before
        if server.spec.name == "syncboard" and server.proc.poll() is None:
            samples |= feed_batch_samples(
                server.ws_url.replace("ws://", "http://").rsplit("/ws", 1)[0])
        samples["peak_rss_bytes"] = sampler.stop()
        if scenario.kind == "persist":
            samples["kill_after_s"] = KILL_AFTER_S
            samples["committed_elements"] = sum(count_elements(server.spec).values())
        stdout.seek(0)
        output = stdout.read().decode()
    if loadgen.returncode != 0 or not output.strip():
        raise RuntimeError(f"loadgen exited with {loadgen.returncode}: {events[-5:]}")
    return json.loads(output), samples


def _follow_events(loadgen: subprocess.Popen, server: RunningServer, samples: dict,
                   kill_when_done: bool) -> list[str]:
    """Read the load generator's stderr; sample server RSS shortly after all clients connected;
    with ``kill_when_done``, SIGKILL the server ``KILL_AFTER_S`` after the last edit was sent."""
    lines = []
    assert loadgen.stderr is not None
    for line in loadgen.stderr:
        lines.append(line.strip())
        if '"event":"connected"' in line and "rss_connected_bytes" not in samples:
            time.sleep(SETTLE_AFTER_CONNECT_S)
            if server.proc.poll() is None:
                samples["rss_connected_bytes"] = server.rss_bytes()
        if kill_when_done and '"event":"edits-done"' in line:
            time.sleep(KILL_AFTER_S)
            samples["server_exit_code"] = server.proc.poll()
            samples["cpu_s_at_kill"] = server.cpu_s()
            server.kill()
    samples.setdefault("server_exit_code", server.proc.poll())
    return lines


def _start_py_spy(server: RunningServer, scenario: Scenario, run_index: int,
                  stamp: str) -> tuple[subprocess.Popen, Path] | None:
    if server.spec.name in ("node", "floor"):
        return None
    path = RESULTS_DIR / f"{stamp}-{scenario.name}-{server.spec.name}-{run_index}.pyspy.txt"
    py_spy = _py_spy_path()
    proc = subprocess.Popen([py_spy, "record", "--pid", str(server.proc.pid), "--rate", "100",
                             "--format", "raw", "--output", str(path), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, path


def _py_spy_path() -> str:
    """py-spy of the project venv (``scripts/bench/setup``), else the first on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--py-spy: no py-spy in the venv or on the PATH (scripts/bench/setup)")
    return found


def _stop_py_spy(proc: subprocess.Popen, path: Path) -> dict:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    if not path.exists():
        return {"file": str(path), "error": "py-spy wrote nothing"}
    return {"file": str(path), "top": top_frames(path.read_text())}


def _headline(row: dict) -> str:
    keys = ("delivered", "expected", "p99_ms", "converged", "server_cpu_s", "join_ms",
            "kib_per_connection", "loadgen_cpu_s")
    return ", ".join(f"{key}={_short(row[key])}" for key in keys if key in row)


def _short(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _section(command: str, started: datetime, args: argparse.Namespace, rows: list[dict],
             images: str) -> str:
    scenario_lines = "\n".join(f"- **{name}**: {SCENARIOS[name].title}" for name in args.scenarios)
    targets = report.targets(rows)
    round_two = report.round_two_targets(rows)
    return "\n\n".join(part for part in (
        f"Measured {started:%Y-%m-%d %H:%M} UTC with:\n\n```\n{command}\n```",
        "Machine: 2 cores **shared with other developers running tests at the same time**, so "
        "absolute figures are noisy (the Load column: the machine's 1-minute load average "
        "during the run, median of the runs); servers ran one at a time, each on a fresh "
        "database. "
        f"Median of {args.runs} run(s). See `scripts/bench/README.md` for what each column means.",
        scenario_lines,
        report.tables(rows),
        images,
        "Targets of issue 6 (syncboard against the Node reference server):\n\n" + targets
        if targets else "",
        "Targets of issue 16, and syncboard against the transport floor:\n\n" + round_two
        if round_two else "",
    ) if part)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVER_NAMES),
                        help=f"comma-separated, from {', '.join(SERVER_NAMES)}")
    parser.add_argument("--scenarios", default="S1,S2,S3",
                        help=f"comma-separated, from {', '.join(SCENARIOS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario and server")
    parser.add_argument("--duration-s", type=float, default=30, help="editing time of S1-S3")
    parser.add_argument("--quiet-max-s", type=float, default=20,
                        help="longest wait for deliveries after the edits stop")
    parser.add_argument("--connect-timeout-s", type=float, default=60,
                        help="longest wait for all clients of a scenario to sync")
    parser.add_argument("--py-spy", action="store_true",
                        help="profile the Python servers with py-spy (results/*.pyspy.txt)")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--syncboard-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra syncboard option, e.g. events_window_ms=0 (repeatable)")
    parser.add_argument("--feed-readers", action="store_true",
                        help="syncboard: one change-feed reader per board (feed_readers.py)")
    args = parser.parse_args(argv)
    args.syncboard_options = dict(option.split("=", 1) for option in args.syncboard_option)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    args.scenarios = [name.strip().upper() for name in args.scenarios.split(",") if name.strip()]
    unknown = [n for n in args.servers if n not in SERVER_NAMES] + \
        [n for n in args.scenarios if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown server or scenario: {', '.join(unknown)}")
    return args


if __name__ == "__main__":
    sys.exit(main())
