"""The servers under benchmark: how to start each on a free loopback port with a fresh database,
and a sampler for its CPU seconds and peak RSS (psutil, process plus children)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent.parent
NODE_SERVER_JS = BENCH_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
FLOOR_SERVER_JS = BENCH_DIR / "floor_server.mjs"
SERVER_NAMES = ("syncboard", "node", "pycrdt", "floor")
# The competitors check no tokens and cap nothing per address, and every simulated client comes
# from 127.0.0.1: syncboard runs without tokens and with room for C1's 5,000 connections from one
# address. Its per-connection rate limits stay at their defaults.
SYNCBOARD_BENCH_OPTIONS = {
    "auth": "none",
    "max_connections": "20000",
    "max_connections_per_ip": "20000",
    "max_sockets_per_ip": "20000",  # capped at half the open-file limit by the server
}


@dataclass
class ServerSpec:
    """One server to launch: its name, extra options and a scratch folder for its database."""

    name: str
    work_dir: Path
    syncboard_options: dict[str, str] = field(default_factory=dict)
    node_persistence: bool = False


class RunningServer:
    """A started server process; ``ws_url`` is the y-websocket prefix clients connect to."""

    def __init__(self, spec: ServerSpec, start_timeout_s: float = 30) -> None:
        self.spec = spec
        self.port = _free_port()
        self.log_path = spec.work_dir / f"{spec.name}-{self.port}.log"
        args, env = _command(spec, self.port)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=REPO_DIR)
        self.process = psutil.Process(self.proc.pid)
        _wait_listening(self.proc, self.port, start_timeout_s, self.log_path)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server and its children so far."""
        total = 0.0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def rss_bytes(self) -> int:
        """Resident memory of the server and its children."""
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def kill(self) -> None:
        """SIGKILL the server and its children (what is not on disk by now is lost)."""
        for proc in [*self.process.children(recursive=True), self.process]:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                continue
        self.proc.wait(10)

    def stop(self, timeout_s: float = 20) -> None:
        """SIGTERM, then SIGKILL if it does not exit within ``timeout_s``."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


class PeakRssSampler:
    """Samples a server's RSS every ``interval_s`` in a thread; ``peak_bytes`` is the maximum."""

    def __init__(self, server: RunningServer, interval_s: float = 0.1) -> None:
        self._server = server
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_bytes = server.rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.peak_bytes = max(self.peak_bytes, self._server.rss_bytes())
            except psutil.NoSuchProcess:
                return

    def stop(self) -> int:
        """Stop sampling; returns the peak in bytes."""
        self._stop.set()
        self._thread.join(5)
        return self.peak_bytes


def _command(spec: ServerSpec, port: int) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.pop("YPERSISTENCE", None)
    if spec.name == "syncboard":
        db_url = f"sqlite+aiosqlite:///{spec.work_dir / 'syncboard.db'}"
        args = [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port),
                "--db", db_url, "--log-level", "WARNING", "--data-dir", str(spec.work_dir)]
        for key, value in (SYNCBOARD_BENCH_OPTIONS | spec.syncboard_options).items():
            args += ["--" + key.replace("_", "-"), value]
        return args, env
    if spec.name == "node":
        env.update(HOST="127.0.0.1", PORT=str(port))
        if spec.node_persistence:
            env["YPERSISTENCE"] = str(spec.work_dir / "leveldb")
        return ["node", str(NODE_SERVER_JS)], env
    if spec.name == "floor":  # the transport floor: a relay that keeps nothing
        env.update(HOST="127.0.0.1", PORT=str(port))
        return ["node", str(FLOOR_SERVER_JS)], env
    if spec.name == "pycrdt":
        return [sys.executable, str(BENCH_DIR / "pycrdt_server.py"), "--port", str(port),
                "--db", str(spec.work_dir / "pycrdt.db")], env
    raise ValueError(f"unknown server {spec.name!r}; choose from {', '.join(SERVER_NAMES)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server did not listen on {port} within {timeout_s} s: {log_path}")
