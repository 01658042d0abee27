"""GuardedHTTPServer and the body caps against a real server process (issue 18, items 8, 9).

Every attack runs while ``HealthWatch`` polls /healthz from 127.0.0.1 and a bystander board
keeps syncing; attackers connect from 127.0.0.2 (loopback too) so that the per-address limit
they hit is theirs, not the watcher's.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import time
import urllib.request

import psutil
import pytest

from backend.http_server import ConnectionGuard, LogThrottle
from tests.hostile_http import HealthWatch, bystander_syncs

ATTACKER = "127.0.0.2"
MIB = 1024 * 1024


def open_socket(port: int, source: str = ATTACKER, timeout_s: float = 5) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s,
                                    source_address=(source, 0))
    return sock


def send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # closed by the server: a refused connection
        sock.sendall(data)


def status_of(sock: socket.socket, timeout_s: float = 5) -> int | None:
    """The status code of the response on ``sock`` (None if it closed without one)."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else None


def closed_by_server(socks: list[socket.socket], want: int, timeout_s: float) -> int:
    """Wait until at least ``want`` of ``socks`` are closed by the server; return how many."""
    closed: set[socket.socket] = set()
    with selectors.DefaultSelector() as selector:  # epoll: select() stops at fd 1024
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        while len(closed) < want and time.monotonic() < deadline:
            for key, _ in selector.select(0.2):
                sock = key.fileobj
                try:
                    ended = sock.recv(65536) == b""
                except OSError:
                    ended = True
                if ended:
                    closed.add(sock)
                    selector.unregister(sock)
    return len(closed)


def create_board(server) -> dict:
    request = urllib.request.Request(server.base_url + "/api/boards", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_log_throttle_lets_one_line_through_per_period_and_counts_the_rest():
    throttle = LogThrottle(every_s=10)
    assert throttle.allow(0.0) == 0
    assert [throttle.allow(t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert throttle.allow(10.0) == 3
    assert throttle.allow(10.5, key=401) == 0  # another key has its own period
    assert throttle.allow(11.0, key=401) is None and throttle.allow(20.6, key=401) == 1


def test_connection_guard_keeps_one_address_to_half_the_descriptor_budget():
    websockets = {"10.0.0.1": 0}
    guard = ConnectionGuard(1100, 1024, lambda a: websockets.get(a, 0),
                            lambda: sum(websockets.values()))
    assert guard.budget == 1024 - 128 and guard.max_per_address == 448
    for _ in range(448):
        assert guard.refusal("10.0.0.1") is None
        guard.opened("10.0.0.1")
    assert "from this address" in guard.refusal("10.0.0.1")
    assert guard.refusal("10.0.0.2") is None
    guard.closed("10.0.0.1")
    websockets["10.0.0.1"] = 1  # an upgraded socket still counts for its address
    assert guard.refusal("10.0.0.1") is not None
    behind_proxy = ConnectionGuard(None, 1024, lambda a: 0, lambda: 0)
    for _ in range(896):
        assert behind_proxy.refusal("proxy") is None
        behind_proxy.opened("proxy")
    assert "descriptor budget" in behind_proxy.refusal("anyone")


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_1100_half_sent_heads_from_one_address_leave_healthz_answering_at_1024_fds(
        server_process):
    server = server_process(rlimit_nofile=1024, header_timeout_s=3)
    heads: list[socket.socket] = []
    with HealthWatch(server.port) as watch:
        try:
            for _ in range(1100):
                try:
                    sock = open_socket(server.port)
                except OSError:
                    continue  # the accept queue was full for a moment: the server is refusing
                heads.append(sock)
                send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            assert len(heads) >= 1000
            held = ConnectionGuard(1100, 1024, lambda a: 0, lambda: 0).max_per_address
            # Beyond the address's 448, connections are closed at once ...
            assert closed_by_server(heads, len(heads) - held, 10) >= len(heads) - held
            await bystander_syncs(server.ws_url)
            # ... and the 448 held heads are dropped after the header timeout.
            assert closed_by_server(heads, len(heads), 20) == len(heads)
        finally:
            for sock in heads:
                sock.close()
    watch.assert_healthy()
    refusal_lines = [line for line in server.log().splitlines()
                     if "refused a connection from 127.0.0.2" in line]
    assert 1 <= len(refusal_lines) <= 3, refusal_lines  # one line per 10 s, with a count
    assert server.proc.poll() is None


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_huge_bodies_are_refused_before_they_are_read_and_slow_ones_time_out(
        server_process):
    server = server_process(auth="token", body_timeout_s=1, max_import_bytes=1 * MIB)
    links = create_board(server)
    board, token = links["id"], links["editToken"]
    rss_before = psutil.Process(server.proc.pid).memory_info().rss
    big = 95 * MIB
    cases = [  # (head, expected status)
        (f"POST /api/boards/{board}/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         f"Content-Type: application/json\r\nContent-Length: {big}\r\n\r\n", 413),
        (f"POST /api/boards/{board}/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         f"Content-Type: image/png\r\nAuthorization: Bearer {token}\r\n"
         f"Content-Length: {big}\r\n\r\n", 413),
        (f"POST /api/boards/{board}/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no token
         f"Content-Type: image/png\r\nContent-Length: {5 * MIB}\r\n\r\n", 401),
        (f"POST /api/boards HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         f"Content-Type: application/json\r\nContent-Length: {big}\r\n\r\n", 400),
        (f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {big}\r\n\r\n", 400),
    ]
    with HealthWatch(server.port) as watch:
        held = []
        for _ in range(2):  # eight or more 95 MiB bodies held open at once
            for head, expected in cases:
                sock = open_socket(server.port)
                held.append(sock)
                send_quietly(sock, head.encode() + bytes(64 * 1024))
                assert status_of(sock) == expected, head
                assert closed_by_server([sock], 1, 5) == 1  # not waiting for the body
        # A body that trickles in is dropped after --body-timeout-s.
        slow = open_socket(server.port)
        send_quietly(slow, f"POST /api/boards/{board}/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Content-Type: application/json\r\nAuthorization: Bearer {token}"
                           f"\r\nContent-Length: 1000\r\n\r\n{{".encode())
        assert closed_by_server([slow], 1, 10) == 1
        await bystander_syncs(server.ws_url, server.base_url)
        rss_after = psutil.Process(server.proc.pid).memory_info().rss
        for sock in [*held, slow]:
            sock.close()
    watch.assert_healthy()
    assert rss_after - rss_before < 40 * MIB, (rss_before, rss_after)
    # Exactly at the import cap is accepted (and parsed); one byte more is refused.
    body = json.dumps({"schemaVersion": 1, "meta": {}, "elements": []}).encode()
    at_cap = body + b" " * (1 * MIB - len(body))
    for payload, expected in ((at_cap, 200), (at_cap + b" ", 413)):
        request = urllib.request.Request(
            f"{server.base_url}/api/boards/{board}/import", data=payload, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == expected
        except urllib.error.HTTPError as exc:
            assert exc.code == expected
            assert "cap" in json.loads(exc.read())["detail"]
