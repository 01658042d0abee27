"""``Monitor``: another process asking a server's ``/healthz`` every 50 ms and sampling its
RSS, for the hostile-update tests (tests/faults/test_hostile_updates.py).

It lives apart from the tests so that the spawned process imports only this module (the
standard library and psutil), not the test module's Hypothesis, pycrdt and SQLAlchemy: that
import took seconds of each test's set-up on a loaded machine.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import urllib.request

import psutil

HEALTH_LIMIT_S = 0.2
RSS_LIMIT_BYTES = 600 * 1024 * 1024
"""The server process stays under this while every hostile shape arrives (it starts at about
80 MB; the quadratic apply alone took 2.7-5.9 GB before the check)."""


class Monitor:
    """Another process asking ``/healthz`` every 50 ms and sampling the server's RSS (a
    thread here would wait for the GIL while Hypothesis builds an update, and time that)."""

    def __init__(self, server) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        ready = context.Event()
        self._results = context.Queue()
        self._process = context.Process(target=_monitor, daemon=True, args=(
            server.base_url, server.proc.pid, self._stop, ready, self._results))
        self._process.start()
        assert ready.wait(60), "the monitor process did not start"
        self.slowest_s = self.slowest_raw_s = 0.0
        self.max_rss = 0
        self.failures: list[str] = []
        self.probes = 0

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self.probes, self.slowest_s, self.slowest_raw_s, self.max_rss, self.failures = \
                self._results.get(timeout=30)
            self._process.join(10)

    def check(self) -> None:
        assert self.probes > 0
        assert not self.failures, self.failures[:3]
        assert self.slowest_s < HEALTH_LIMIT_S, f"/healthz took {self.slowest_s * 1000:.0f} ms"
        assert self.max_rss < RSS_LIMIT_BYTES, f"RSS reached {self.max_rss / 2**20:.0f} MiB"


def _cpu_s(process: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return times.user + times.system
    return 0.0


def _monitor(base_url: str, pid: int, stop, ready, results) -> None:
    process = psutil.Process(pid)
    slowest, slowest_raw, max_rss, probes, failures = 0.0, 0.0, 0, 0, []
    while not stop.is_set():
        started = time.monotonic()
        cpu_before = _cpu_s(process)
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=5) as response:
                response.read()
        except OSError as exc:
            failures.append(f"/healthz failed: {exc}")
        took = time.monotonic() - started
        slowest_raw = max(slowest_raw, took)
        # The machine is shared (two cores, many test runs): a probe can wait for a CPU
        # while the server is idle. A frozen event loop is one that was slow *and* busy:
        # count a slow probe only if the server spent most of it on the CPU.
        if _cpu_s(process) - cpu_before >= min(took, HEALTH_LIMIT_S) / 2:
            slowest = max(slowest, took)
        probes += 1
        ready.set()
        with contextlib.suppress(psutil.Error):
            max_rss = max(max_rss, process.memory_info().rss)
        stop.wait(0.05)
    results.put((probes, slowest, slowest_raw, max_rss, failures))
