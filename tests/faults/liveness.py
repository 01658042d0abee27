"""Proof that an attack hurt nobody else: ``/healthz`` latency and a board that keeps syncing.

``HealthProbe`` polls ``/healthz`` from a child process (so the test's own work, busy
building hostile frames, cannot slow the measurement) and records every answer's latency.
``Bystanders`` are two clients on another board; ``check()`` proves an edit of one still
reaches the other.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys

from tests.yclient import YClient

HEALTH_BUDGET_S = 0.2
"""Slowest ``/healthz`` answer allowed while an attack runs (issue 18)."""


class HealthProbe:
    """Poll ``base_url/healthz`` every ``interval_s`` from a child process until ``stop()``
    (the test's own work, such as masking a 6 MiB frame, holds this process's GIL and would
    delay a thread); a failed request counts as an answer slower than any budget."""

    def __init__(self, base_url: str, interval_s: float = 0.05) -> None:
        self.url = base_url + "/healthz"
        self.interval_s = interval_s
        self.latencies_s: list[float] = []
        self.failures: list[str] = []
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> HealthProbe:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PROBE, self.url, str(self.interval_s)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "started"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> HealthProbe:
        """``async with``: for a server in this process's event loop, which has to keep
        turning while the probe starts (its first request) and stops (its last)."""
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        """Stop polling and collect the results."""
        if self._proc is None:
            return
        out, _ = self._proc.communicate("stop\n", timeout=30)
        self._proc = None
        result = json.loads(out)
        self.latencies_s, self.failures = result["latencies"], result["failures"]

    @property
    def slowest_s(self) -> float:
        return max(self.latencies_s, default=0.0) if not self.failures else float("inf")

    def assert_fast(self, budget_s: float = HEALTH_BUDGET_S) -> None:
        """Fail unless every answer came within ``budget_s`` (and there were some)."""
        self.stop()
        assert self.latencies_s, "the probe never got an answer"
        assert not self.failures, f"/healthz failed: {self.failures[:3]}"
        print("healthz latencies ms:", [round(x * 1000) for x in self.latencies_s])
        assert self.slowest_s < budget_s, \
            f"/healthz took {self.slowest_s * 1000:.0f} ms (budget {budget_s * 1000:.0f} ms) " \
            f"over {len(self.latencies_s)} polls"


_PROBE = """
import json, sys, threading, time, urllib.request
url, interval = sys.argv[1], float(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
latencies, failures = [], []
urllib.request.urlopen(url, timeout=30).read()  # warm up: the first request sets up urllib
print("started", flush=True)
while True:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
        latencies.append(time.perf_counter() - started)
    except OSError as exc:
        failures.append(repr(exc))
    if stop.wait(interval):
        break
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


class Bystanders:
    """Two well-behaved clients on ``board_id``, a board the attacker does not touch."""

    def __init__(self, ws_url: str, board_id: str = "bystanders") -> None:
        self.alice = YClient(f"{ws_url}/{board_id}")
        self.bob = YClient(f"{ws_url}/{board_id}")
        self._counter = itertools.count()

    async def start(self) -> Bystanders:
        await self.alice.sync()
        await self.bob.sync()
        return self

    async def check(self, timeout_s: float = 10) -> None:
        """One edit of alice reaches bob; both are still connected."""
        key = f"edit-{next(self._counter)}"
        await self.alice.put(key, key)
        await self.bob.wait_for(lambda: self.bob.elements.get(key) == key, timeout_s,
                                what=f"bob to receive {key}")
        assert not self.alice.closed.is_set() and not self.bob.closed.is_set()

    def close(self) -> None:
        self.alice.close()
        self.bob.close()
