"""HTTP API: health, board creation and metadata, JSON errors, the app page."""

from __future__ import annotations

import json
import re

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tests.yclient import state_vector


async def fetch_json(url: str, **kwargs) -> tuple[int, dict]:
    try:
        response = await AsyncHTTPClient().fetch(url, **kwargs)
    except HTTPClientError as exc:
        response = exc.response
    return response.code, json.loads(response.body)


@pytest.mark.gen_test(timeout=30)
async def test_healthz_reports_boards_and_connections(sb_server, yclient):
    server = await sb_server()
    await yclient(server, "health")
    code, body = await fetch_json(f"http://127.0.0.1:{server.port}/healthz")
    assert code == 200
    assert body["status"] == "ok" and body["boards_loaded"] == 1 and body["connections"] == 1


@pytest.mark.gen_test(timeout=30)
async def test_create_board_returns_an_unguessable_id_and_metadata(sb_server, yclient):
    server = await sb_server()
    base = f"http://127.0.0.1:{server.port}"
    code, created = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    assert code == 201
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", created["id"])
    _, other = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    assert other["id"] != created["id"]
    client = await yclient(server, created["id"])
    await client.put("a", 1)
    room = server.registry.rooms[created["id"]]
    await client.wait_for(lambda: state_vector(room.document.doc) == state_vector(client.doc),
                          what="the server applied the update")
    await server.writer.flush()
    code, info = await fetch_json(f"{base}/api/boards/{created['id']}")
    assert code == 200
    assert info["update_count"] == 1 and info["stored_bytes"] > 0
    assert info["created_at"] <= info["updated_at"]


@pytest.mark.gen_test(timeout=30)
async def test_unknown_board_is_a_404_json_error(sb_server):
    server = await sb_server()
    for board in ("does-not-exist", "bad%20id"):
        code, body = await fetch_json(f"http://127.0.0.1:{server.port}/api/boards/{board}")
        assert code == 404 and body["error"] == "not found"


@pytest.mark.gen_test(timeout=30)
async def test_board_opened_before_its_row_is_written_answers_from_memory(sb_server, yclient):
    server = await sb_server(flush_delay_ms=10_000)  # the row waits for the next group commit
    client = await yclient(server, "fresh-board")
    url = f"http://127.0.0.1:{server.port}/api/boards/fresh-board"
    code, info = await fetch_json(url)
    assert code == 200
    assert info["loaded"] is True and info["connections"] == 1
    assert info["created_at"] is None and info["update_count"] == 0
    await server.writer.flush()
    code, info = await fetch_json(url)
    assert code == 200 and info["created_at"] is not None
    client.close()
