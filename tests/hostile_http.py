"""Helpers for attack tests against a real server: a /healthz watch and a syncing bystander.

``HealthWatch`` polls ``/healthz`` from its own process (so the attacking test cannot delay
it) on a fresh connection each time, from 127.0.0.1, and records the slowest
answer and every failure. ``bystander_syncs`` checks that two other clients on another board
still exchange an edit. ``post_chunked`` streams a body without a length from a raw socket.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import subprocess
import sys
import urllib.request
import uuid

from tests.yclient import YClient

HEALTH_BOUND_S = 0.2


_WATCH_SCRIPT = r"""
import http.client, sys, time
port, interval_s = int(sys.argv[1]), float(sys.argv[2])
while True:
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        conn.close()
        result = "ok" if response.status == 200 else f"status {response.status}"
    except OSError as exc:
        result = repr(exc)
    print(f"{time.monotonic() - started:.4f} {result}", flush=True)
    time.sleep(interval_s)
"""


class HealthWatch:
    """``with HealthWatch(port) as watch: ...attack...``; then ``watch.assert_healthy()``.

    The polling runs in a process of its own: a thread of the test process would wait for the
    test's own GIL and event loop, and report the test's slowness as the server's."""

    def __init__(self, port: int, interval_s: float = 0.05) -> None:
        self.port = port
        self.interval_s = interval_s
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> HealthWatch:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WATCH_SCRIPT, str(self.port), str(self.interval_s)],
            stdout=subprocess.PIPE, text=True)
        self._record(self._proc.stdout.readline())  # polling has begun
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._proc is not None
        self._proc.terminate()
        output, _ = self._proc.communicate(timeout=10)
        for line in output.splitlines():
            self._record(line)

    def _record(self, line: str) -> None:
        latency, _, result = line.strip().partition(" ")
        if latency:
            self.latencies.append(float(latency))
            if result != "ok":
                self.failures.append(result)

    def assert_healthy(self, bound_s: float = HEALTH_BOUND_S) -> None:
        assert self.latencies, "no /healthz answer was measured"
        assert not self.failures, self.failures[:5]
        assert max(self.latencies) < bound_s, \
            f"slowest /healthz {max(self.latencies) * 1000:.0f} ms of {len(self.latencies)}: " \
            f"{[round(latency * 1000) for latency in self.latencies]}"


async def bystander_syncs(ws_url: str, token_server: str | None = None) -> None:
    """Two clients on a fresh board exchange one edit (raises if they cannot).
    ``token_server``: the base URL of a ``--auth token`` server to create the board on."""
    board, query = "bystander_" + uuid.uuid4().hex[:8], ""
    if token_server is not None:
        request = urllib.request.Request(token_server + "/api/boards", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            links = json.loads(response.read())
        board, query = links["id"], f"?token={links['editToken']}"
    alice = await YClient(f"{ws_url}/{board}{query}").sync()
    bob = await YClient(f"{ws_url}/{board}{query}").sync()
    try:
        await alice.put("still", "syncing")
        await bob.wait_for(lambda: bob.snapshot().get("still") == "syncing",
                           what="bystander edit")
    finally:
        alice.close()
        bob.close()


def post_chunked(port: int, path: str, total_bytes: int, read_while_sending: bool,
                 one_chunk: bool = False) -> tuple[int, bytes, int]:
    """POST ``total_bytes`` of JSON white space to ``path`` with ``Transfer-Encoding:
    chunked`` (no length), from a raw socket on loopback, in pieces of 64 KiB: each its own
    chunk, or (``one_chunk``) all of them one chunk declared ``total_bytes`` long.

    ``read_while_sending`` looks for an answer before each piece and stops sending once one
    came (as curl does); otherwise the whole body is sent first (as urllib does; a reset
    stops it early). Returns the answer's status (0 for none), its body (unchunked) and the
    bytes sent."""
    piece = b" " * (64 * 1024)
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sent, answer = 0, b""
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        if one_chunk:
            sock.sendall(b"%x\r\n" % total_bytes)
        while sent < total_bytes:
            if read_while_sending and select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(piece if one_chunk else b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"\r\n0\r\n\r\n" if one_chunk else b"0\r\n\r\n")
        answer = _read_answer(sock)
    finally:
        sock.close()
    return (*_parse_answer(answer), sent)


def _read_answer(sock: socket.socket) -> bytes:
    """What the server sent, up to the end of its first answer or the connection's end
    (data that arrived before a reset included)."""
    answer = b""
    while True:
        head, found, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head) if found else None
        if length and len(body) >= int(length.group(1)):
            return answer
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return answer
        if not data:
            return answer
        answer += data


def _parse_answer(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if status is None:
        return 0, answer[:200]
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[:int(size, 16)]
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return int(status.group(1)), body[:int(length.group(1))] if length else body
