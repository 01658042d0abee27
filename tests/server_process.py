"""ServerProcess: ``python -m backend`` as a real subprocess on a free loopback port."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def wait_answering(url: str, timeout_s: float = 60) -> None:
    """Return once ``url`` answers (a server started by a script); raise ``TimeoutError``
    after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A syncboard server process that tests can start, kill -9, stop and restart."""

    def __init__(self, db_url: str, options: dict, log_dir: Path, env: dict,
                 rlimit_nofile: int | None = None) -> None:
        """``rlimit_nofile``: the process's open-file limit (soft and hard), e.g. 1024."""
        self.db_url = db_url
        self.rlimit_nofile = rlimit_nofile
        self.options = options
        self.port = options.pop("port", None) or free_port()
        self.env = env
        self.log_path = log_dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout_s: float = 60) -> None:
        """Start the process and wait until ``/healthz`` answers (it usually takes a second;
        on a machine loaded by parallel test workers and other jobs, starts of 20 s were seen,
        so the bound is generous: the wait ends as soon as the server answers)."""
        args = [sys.executable, "-m", "backend", "--host", "127.0.0.1",
                "--port", str(self.port), "--db", self.db_url]
        for key, value in self.options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:  # an on/off option is a bare flag
                args.append(flag)
            elif value is not False:
                args += [flag, str(value)]
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"--- start {self.starts}: {' '.join(args)}\n")
            log.flush()
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                         cwd=self.env.get("PYTHONPATH"),
                                         preexec_fn=self._limit_descriptors
                                         if self.rlimit_nofile else None)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()  # a caller whose start raised has nothing to stop: leave no server behind
        raise RuntimeError(f"server did not answer /healthz in {timeout_s} s:\n{self.log()}")

    def _limit_descriptors(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.rlimit_nofile, self.rlimit_nofile))

    def health(self) -> dict:
        """The parsed ``/healthz`` answer."""
        with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as response:
            return json.loads(response.read())

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` with ``labels`` in ``/metrics``."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(self.base_url + "/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(sample.value for family in text_string_to_metric_families(text)
                   for sample in family.samples
                   if sample.name == name and all(sample.labels.get(k) == v
                                                  for k, v in labels.items()))

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 30) -> int | None:
        """SIGTERM and wait; returns the exit status (SIGKILL after ``timeout_s``)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            print(f"server on port {self.port} ignored SIGTERM for {timeout_s} s; its log "
                  f"ends:\n{self.log()[-4000:]}", file=sys.stderr)
            raise

    def restart(self) -> None:
        """Stop (SIGTERM) and start again on the same port and database."""
        self.stop()
        self.start()

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text() if self.log_path.exists() else ""
