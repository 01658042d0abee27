"""The browser app says why the server refuses its socket (issue 19.9), and recovers."""

from __future__ import annotations

import base64
import os
import socket

import pytest

from .conftest import wait_connected

pytestmark = pytest.mark.browser


def hold_websocket(port: int, board_id: str) -> socket.socket:
    """A raw WebSocket upgrade from 127.0.0.1 that stays open (counted by the server)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/{board_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 101"), "upgrade refused"
    return sock


def test_a_refused_socket_shows_the_servers_reason_and_connects_once_a_slot_frees(
        server_process, open_board):
    server = server_process(max_connections_per_ip=2)
    held = [hold_websocket(server.port, "crowded") for _ in range(2)]
    try:
        page = open_board(server, "crowded", "Ann", wait_synced=False)
        page.wait_for_function(
            "() => window.syncboard && window.syncboard.connectionState() === 'busy'",
            timeout=20000)
        status = page.locator(".status-text").inner_text()
        assert "too many connections from your address (limit 2)" in status, status
        held.pop().close()
        wait_connected(page, timeout_ms=45000)  # the slowed retry gets in
        assert "too many" not in page.locator(".status-text").inner_text()
    finally:
        for sock in held:
            sock.close()
