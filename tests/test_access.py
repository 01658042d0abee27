"""Access control with a real server: tokens and roles, rotation, admin, origins, headers."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest
from pycrdt import Map
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.websocket import WebSocketClosedError

from backend.access import Role, TokenSigner
from backend.protocol import CloseCode
from tests.yclient import YClient

ADMIN = "admin-secret-for-tests"


async def call(server, method: str, path: str, token: str | None = None,
               body: bytes | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "POST" and body is None:
        body = b""
    try:
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{server.port}{path}",
                                                 method=method, headers=headers, body=body)
    except HTTPClientError as exc:
        response = exc.response
    return response.code, (json.loads(response.body) if response.body else {})


async def refused(url: str, headers: dict | None = None) -> tuple[int, dict]:
    """Try a WebSocket upgrade that must be refused; return the HTTP status and JSON body."""
    client = YClient(url, headers=headers)
    with pytest.raises(HTTPClientError) as info:
        await client.connect()
    return info.value.code, json.loads(info.value.response.body)


async def new_board(server) -> dict:
    code, links = await call(server, "POST", "/api/boards")
    assert code == 201
    return links


def ws(server, board_id: str, token: str | None) -> str:
    query = f"?token={token}" if token else ""
    return f"ws://127.0.0.1:{server.port}/ws/{board_id}{query}"


@pytest.mark.gen_test(timeout=30)
async def test_created_board_links_carry_tokens_in_the_fragment(sb_server):
    server = await sb_server(auth="token")
    links = await new_board(server)
    assert set(links) >= {"id", "editToken", "viewToken", "editUrl", "viewUrl"}
    assert links["editUrl"].endswith(f"/b/{links['id']}#t={links['editToken']}")
    assert links["viewUrl"].endswith(f"/b/{links['id']}#t={links['viewToken']}")
    assert links["editToken"] != links["viewToken"]


@pytest.mark.gen_test(timeout=30)
async def test_viewer_gets_live_changes_but_its_edits_never_reach_the_board(sb_server, caplog):
    server = await sb_server(auth="token")
    links = await new_board(server)
    board = links["id"]
    editor = await YClient(ws(server, board, links["editToken"])).sync()
    viewer = await YClient(ws(server, board, links["viewToken"])).sync()  # step 1 answered
    other = await YClient(ws(server, board, links["editToken"])).sync()
    try:
        await editor.put("shape", {"type": "rect"})
        await viewer.wait_for(lambda: viewer.snapshot().get("shape") == {"type": "rect"},
                              what="live change reaches the viewer")
        with caplog.at_level(logging.WARNING, logger="backend.room"):
            await viewer.put("vandal", 1)
            await viewer.put("vandal2", 2)
            await viewer.set_presence(4242, 1, {"name": "viewer"})  # presence is allowed
            await other.wait_for(lambda: 4242 in other.present(), what="viewer presence")
        room = server.registry.rooms[board]
        assert "vandal" not in room.document.doc.get("elements", type=Map).to_py()
        assert "vandal" not in other.snapshot() and "vandal2" not in other.snapshot()
        assert room.dropped_viewer_edits == 2
        assert sum("view-only peer" in r.getMessage() for r in caplog.records) == 1
        await server.writer.flush()
        assert not viewer.closed.is_set()
    finally:
        for client in (editor, viewer, other):
            client.close()


@pytest.mark.gen_test(timeout=30)
async def test_missing_forged_and_foreign_tokens_are_refused_before_upgrade(sb_server):
    server = await sb_server(auth="token")
    links = await new_board(server)
    other = await new_board(server)
    board = links["id"]
    code, body = await refused(ws(server, board, None))
    assert code == 401 and body["detail"] == "missing token"
    forged = TokenSigner(b"not-the-server-secret").issue(board, Role.EDIT, 0)
    code, body = await refused(ws(server, board, forged))
    assert code == 401 and "signature" in body["detail"]
    code, body = await refused(ws(server, board, "garbage"))
    assert code == 401
    code, body = await refused(ws(server, board, other["editToken"]))
    assert code == 403 and "another board" in body["detail"]
    # A board nobody created cannot be joined (or created) by guessing its id.
    code, body = await refused(ws(server, "made-up-board", links["editToken"]))
    assert code == 403


@pytest.mark.gen_test(timeout=30)
async def test_rotation_revokes_old_tokens_at_once_including_open_sockets(sb_server):
    server = await sb_server(auth="token")
    links = await new_board(server)
    board = links["id"]
    old_editor = await YClient(ws(server, board, links["editToken"])).sync()
    old_viewer = await YClient(ws(server, board, links["viewToken"])).sync()
    code, _ = await call(server, "POST", f"/api/boards/{board}/rotate", links["viewToken"])
    assert code == 403  # viewers cannot rotate
    code, fresh = await call(server, "POST", f"/api/boards/{board}/rotate", links["editToken"])
    assert code == 200 and fresh["editToken"] != links["editToken"]
    assert await old_editor.wait_closed() == CloseCode.WS_4403_FORBIDDEN
    assert await old_viewer.wait_closed() == CloseCode.WS_4403_FORBIDDEN
    assert old_editor.close_reason == "token revoked"
    code, body = await refused(ws(server, board, links["editToken"]))
    assert code == 403 and "revoked" in body["detail"]
    code, _ = await call(server, "GET", f"/api/boards/{board}", links["viewToken"])
    assert code == 403
    editor = await YClient(ws(server, board, fresh["editToken"])).sync()
    await editor.put("after", 1)
    editor.close()
    code, info = await call(server, "GET", f"/api/boards/{board}", fresh["viewToken"])
    assert code == 200 and info["id"] == board


@pytest.mark.gen_test(timeout=30)
async def test_admin_token_lists_and_deletes_boards(sb_server):
    server = await sb_server(auth="token", admin_token=ADMIN)
    links = await new_board(server)
    assert (await call(server, "GET", "/api/boards"))[0] == 401
    assert (await call(server, "GET", "/api/boards", links["editToken"]))[0] == 403
    code, listing = await call(server, "GET", "/api/boards", ADMIN)
    assert code == 200 and [b["id"] for b in listing["boards"]] == [links["id"]]
    editor = await YClient(ws(server, links["id"], links["editToken"])).sync()
    assert (await call(server, "DELETE", f"/api/boards/{links['id']}", links["editToken"]))[0] \
        == 403
    assert (await call(server, "DELETE", f"/api/boards/{links['id']}", ADMIN))[0] == 204
    assert await editor.wait_closed() == CloseCode.WS_4403_FORBIDDEN
    assert (await call(server, "GET", f"/api/boards/{links['id']}", ADMIN))[0] == 404


@pytest.mark.gen_test(timeout=30)
async def test_admin_api_is_off_without_an_admin_token(sb_server):
    server = await sb_server(auth="token")
    code, body = await call(server, "GET", "/api/boards", "anything")
    assert code == 403 and "--admin-token" in body["detail"]


@pytest.mark.gen_test(timeout=30)
async def test_foreign_origin_is_refused_own_and_allowed_origins_pass(sb_server):
    server = await sb_server(allowed_origin="https://board.example")
    code, body = await refused(ws(server, "origin-test", None),
                               headers={"Origin": "https://evil.example"})
    assert code == 403 and body["error"] == "origin not allowed"
    ok = await YClient(ws(server, "origin-test", None),
                       headers={"Origin": "https://board.example"}).sync()
    ok.close()
    default = await sb_server()
    own = f"http://127.0.0.1:{default.port}"
    client = await YClient(ws(default, "origin-test", None), headers={"Origin": own}).sync()
    client.close()
    code, _ = await refused(ws(default, "origin-test", None),
                            headers={"Origin": "http://127.0.0.1:1"})
    assert code == 403


@pytest.mark.gen_test(timeout=30)
async def test_auth_none_warns_at_start(sb_server, caplog):
    with caplog.at_level(logging.WARNING, logger="backend.app"):
        await sb_server(auth="none")
    assert any("--auth none" in r.getMessage() for r in caplog.records)


@pytest.mark.gen_test(timeout=30)
async def test_secret_is_generated_once_with_mode_0600_and_links_survive_a_restart(
        sb_server, tmp_path):
    data_dir = tmp_path / "persisted"
    db = f"sqlite+aiosqlite:///{tmp_path}/persisted.db"
    first = await sb_server(auth="token", data_dir=str(data_dir), db=db)
    links = await new_board(first)
    await first.stop()
    mode = stat.S_IMODE(os.stat(data_dir / "secret.key").st_mode)
    assert mode == 0o600
    second = await sb_server(auth="token", data_dir=str(data_dir), db=db)
    client = await YClient(ws(second, links["id"], links["editToken"])).sync()
    client.close()


@pytest.mark.gen_test(timeout=30)
async def test_html_pages_carry_strict_security_headers(sb_server):
    server = await sb_server()
    try:
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{server.port}/")
    except HTTPClientError as exc:  # 503 while the browser app is not built: same headers
        response = exc.response
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.gen_test(timeout=30)
async def test_writes_to_a_revoked_socket_fail(sb_server):
    server = await sb_server(auth="token")
    links = await new_board(server)
    client = await YClient(ws(server, links["id"], links["editToken"])).sync()
    await call(server, "POST", f"/api/boards/{links['id']}/rotate", links["editToken"])
    await client.wait_closed()
    with pytest.raises(WebSocketClosedError):
        await client.put("late", 1)


@pytest.mark.gen_test(timeout=30)
async def test_tokens_never_reach_the_access_log(sb_server, caplog):
    server = await sb_server(auth="token")
    links = await new_board(server)
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        client = await YClient(ws(server, links["id"], links["editToken"])).sync()
        client.close()
        await refused(ws(server, links["id"], "bogus-token-value"))
    lines = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
    assert any(f"/ws/{links['id']}" in line for line in lines)
    assert not any("token" in line for line in lines)
