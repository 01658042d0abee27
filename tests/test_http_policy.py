"""What every request must pass and every response carries (issue 18, items 15, 16, 17).

Host names (DNS rebinding), cross-site POSTs, security headers, token-free logs, and the
requests that used to answer 500: a non-ASCII token, deeply nested import JSON, a tiny or
huge export region.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import subprocess
import urllib.request

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from backend.http_policy import (
    LOGGED_MESSAGE_CHARS,
    LOGGED_URI_CHARS,
    allowed_host_names,
    cut_for_log,
    loggable_uri,
    redact_uri,
)
from tests.hostile_http import HealthWatch, bystander_syncs, post_chunked

EMPTY_BOARD = json.dumps({"schemaVersion": 1, "meta": {}, "elements": []})


async def fetch(url: str, **kwargs) -> tuple[int, dict, bytes]:
    """Status, headers and body; never raises for an HTTP status."""
    try:
        response = await AsyncHTTPClient().fetch(url, request_timeout=30, **kwargs)
    except HTTPClientError as exc:
        assert exc.response is not None, exc
        response = exc.response
    return response.code, dict(response.headers), response.body


def test_allowed_hosts_default_to_loopback_names_only_when_listening_on_loopback():
    assert allowed_host_names("", "127.0.0.1", False) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_host_names("", "::1", False) == {"localhost", "127.0.0.1", "::1"}
    assert allowed_host_names("", "0.0.0.0", False) is None  # exposed: set --allowed-hosts
    assert allowed_host_names("", "127.0.0.1", True) is None  # the proxy routes by name
    assert allowed_host_names("Board.Example, [::1]", "0.0.0.0", False) == \
        {"board.example", "::1"}
    assert allowed_host_names("*", "127.0.0.1", False) is None


def test_a_loggable_uri_is_redacted_first_then_cut():
    long = "/api/boards/b/export.svg?ids=" + "a," * 30_000 + "a&token=SECRET"
    cut = loggable_uri(long)
    assert "SECRET" not in cut and cut.endswith(f"... ({len(redact_uri(long))} characters)")
    assert cut.startswith(redact_uri(long)[:LOGGED_URI_CHARS]) and len(cut) < LOGGED_URI_CHARS + 30
    assert loggable_uri("/api/boards?token=x") == "/api/boards?token=***"
    assert cut_for_log("abc", 3) == "abc" and cut_for_log("abcd", 3) == "abc... (4 characters)"


def test_redact_uri_hides_token_values_and_keeps_the_rest():
    assert redact_uri("/ws/b1?token=b1.e0.SECRET&x=1") == "/ws/b1?token=***&x=1"
    assert redact_uri("/api/boards") == "/api/boards"
    assert "SECRET" not in redact_uri("/p?access_token=SECRET")


@pytest.mark.gen_test(timeout=30)
async def test_a_foreign_host_name_is_refused_with_421_before_any_handler(sb_server):
    server = await sb_server()
    port = server.port
    base = f"http://127.0.0.1:{port}"
    for host in (f"evil.example:{port}", "rebind.attacker.test"):
        code, _headers, body = await fetch(f"{base}/api/boards/x/export.json",
                                          headers={"Host": host})
        assert code == 421 and "allowed-hosts" in json.loads(body)["detail"]
    with pytest.raises(HTTPClientError) as refused:  # a rebinding page's WebSocket
        await websocket_connect(HTTPRequest(
            f"ws://127.0.0.1:{port}/ws/board", headers={
                "Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}))
    assert refused.value.code == 421
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert (await fetch(f"{base}/healthz", headers={"Host": host}))[0] == 200
    named = await sb_server(allowed_hosts="board.example")
    named_base = f"http://127.0.0.1:{named.port}"
    assert (await fetch(f"{named_base}/healthz", headers={"Host": "board.example"}))[0] == 200
    assert (await fetch(f"{named_base}/healthz"))[0] == 421


@pytest.mark.gen_test(timeout=30)
async def test_cross_site_simple_posts_cannot_overwrite_a_board_with_auth_none(sb_server):
    server = await sb_server()
    base = f"http://127.0.0.1:{server.port}"
    url = f"{base}/api/boards/victim/import"
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x"):
        code, _, body = await fetch(url, method="POST", body=EMPTY_BOARD,
                                    headers={"Content-Type": content_type})
        assert code == 415 and "application/json" in json.loads(body)["detail"]
    assert await server.store.board_info("victim") is None  # nothing was written
    code, _, _ = await fetch(url, method="POST", body=EMPTY_BOARD,
                             headers={"Content-Type": "application/json"})
    assert code == 200
    code, _, _ = await fetch(url, method="POST", body=EMPTY_BOARD,  # custom header: preflight
                             headers={"Content-Type": "text/plain", "X-Requested-With": "x"})
    assert code == 200
    code, _, _ = await fetch(f"{base}/api/boards/victim/files", method="POST",
                             body=b"--x\r\n\r\n--x--\r\n",
                             headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert code == 415
    # An empty POST (create a board, rotate links) carries nothing to smuggle.
    code, _, _ = await fetch(f"{base}/api/boards", method="POST", body=b"")
    assert code == 201


@pytest.mark.gen_test(timeout=30)
async def test_non_ascii_tokens_are_401_and_logs_never_carry_a_token(sb_server, caplog):
    server = await sb_server(auth="token")
    base = f"http://127.0.0.1:{server.port}"
    _, _, body = await fetch(f"{base}/api/boards", method="POST", body=b"")
    board = json.loads(body)["id"]
    for token in (f"{board}.e0.\u00e9\u00e9", f"{board}.e0.\U0001f600", "\u00e9.\u00e9.\u00e9"):
        headers = {"Authorization": "Bearer " + token}
        code, _, _ = await fetch(f"{base}/api/boards/{board}",
                                 headers={k: v.encode().decode("latin-1")
                                          for k, v in headers.items()})
        assert code == 401, token
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(f"ws://127.0.0.1:{server.port}/ws/{board}?token="
                                    + urllib.request.quote(token))
        assert refused.value.code == 401
    # A bug (here a failing store, injected) logs the request with its token redacted.

    async def broken(_board_id):
        raise RuntimeError("injected store failure")
    server.registry.store.board_info = broken
    caplog.set_level(logging.INFO)
    code, _, _ = await fetch(f"{base}/api/boards/{board}/export.json?token=SECRET-TOKEN&scale=1",
                             headers={"Authorization": "Bearer SECRET-BEARER"})
    assert code == 500
    assert "injected store failure" in caplog.text and "token=***" in caplog.text
    assert "SECRET" not in caplog.text


LOG_LINE_BOUND_CHARS = LOGGED_URI_CHARS + LOGGED_MESSAGE_CHARS + 200
"""Longest a log line about one refused request may be: the cut URI and reason, and the rest
of the line (status, method, address, the words around them)."""


@pytest.mark.gen_test(timeout=60)
async def test_refusals_of_64_kib_urls_write_bounded_log_lines(sb_server, caplog):
    server = await sb_server()
    base = f"http://127.0.0.1:{server.port}"
    code, _, _ = await fetch(f"{base}/api/boards/longurl/import", method="POST",
                             body=EMPTY_BOARD, headers={"Content-Type": "application/json"})
    assert code == 200
    ids = ",".join(f"element-{i:022d}" for i in range(2001))  # 63 KiB, one id too many
    caplog.set_level(logging.INFO)
    cases = [  # (URL, status): ids, a region quoting 60,000 characters, a long path
        (f"{base}/api/boards/longurl/export.svg?ids={ids}&token=SECRET", 400),
        (f"{base}/api/boards/longurl/export.svg?region={'9' * 60_000}", 400),
        (f"{base}/api/boards/{'b' * 60_000}/export.svg", 404),
    ]
    for url, status in cases:
        caplog.clear()
        code, _, _ = await fetch(url)
        assert code == status, url[:100]
        lines = [record.getMessage() for record in caplog.records]
        assert any("characters)" in line for line in lines), lines
        longest = max(lines, key=len)
        assert len(longest) <= LOG_LINE_BOUND_CHARS, (len(longest), longest[:300])
        assert "SECRET" not in caplog.text
    # A WebSocket for a board name of 60,000 characters (closed with 4400), and a request
    # for a host name as long (421).
    caplog.clear()
    socket = await websocket_connect(f"ws://127.0.0.1:{server.port}/ws/{'w' * 60_000}")
    while await socket.read_message() is not None:
        pass
    assert socket.close_code == 4400
    code, _, _ = await fetch(f"{base}/api/boards/longurl",
                             headers={"Host": "h" * 60_000})
    assert code == 421
    lines = [record.getMessage() for record in caplog.records]
    assert sum("characters)" in line for line in lines) >= 3, [line[:300] for line in lines]
    assert max(map(len, lines)) <= LOG_LINE_BOUND_CHARS, [line[:300] for line in lines]


@pytest.mark.slow
@pytest.mark.gen_test(timeout=60)
async def test_deep_import_json_and_bad_regions_are_400_with_a_reason(sb_server):
    server = await sb_server()
    base = f"http://127.0.0.1:{server.port}"
    json_type = {"Content-Type": "application/json"}
    for body in (b"[" * 100_000 + b"]" * 100_000,  # past Python's recursion limit
                 ('{"schemaVersion": 1, "meta": {"x": ' + "[" * 500 + "]" * 500
                  + '}, "elements": []}').encode()):
        code, _, answer = await fetch(f"{base}/api/boards/deep/import", method="POST",
                                      body=body, headers=json_type)
        detail = json.loads(answer)["detail"]
        assert code == 400 and ("recursion" in detail or "nested" in detail), detail
    await fetch(f"{base}/api/boards/regions/import", method="POST", body=EMPTY_BOARD,
                headers=json_type)
    for region in ("0,0,1e-300,1e-300", "0,0,1e-9,1", "0,0,1e300,1e300", "1e12,0,10,10"):
        for fmt in ("svg", "png"):
            code, _, answer = await fetch(
                f"{base}/api/boards/regions/export.{fmt}?region={region}")
            assert code == 400 and "region" in json.loads(answer)["detail"], (region, fmt)
    for fmt in ("svg", "png"):  # the largest region allowed still renders
        code, _, _ = await fetch(f"{base}/api/boards/regions/export.{fmt}?region="
                                 "-1e9,-1e9,2e9,2e9")
        assert code == 200


@pytest.mark.gen_test(timeout=60)
async def test_every_response_has_nosniff_and_no_version_and_https_adds_hsts(sb_server,
                                                                            tmp_path):
    server = await sb_server()
    base = f"http://127.0.0.1:{server.port}"
    for path in ("/healthz", "/api/boards/none", "/no/such/route", "/metrics", "/"):
        _, headers, _ = await fetch(base + path)
        assert headers["Server"] == "syncboard" and "6." not in headers["Server"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "Strict-Transport-Security" not in headers
    _, page, _ = await fetch(base + "/")
    if "Content-Security-Policy" in page:  # the built app (503 text without it)
        assert f"ws://127.0.0.1:{server.port}" in page["Content-Security-Policy"]
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    tls = await sb_server(certfile=str(cert), keyfile=str(key))
    context = ssl.create_default_context(cafile=str(cert))
    for path in ("/healthz", "/b/some_board"):
        _code, headers, _ = await fetch(f"https://127.0.0.1:{tls.port}{path}",
                                       ssl_options=context)
        assert headers["Strict-Transport-Security"].startswith("max-age="), path
        csp = headers.get("Content-Security-Policy", "")
        assert "ws://" not in csp and "'unsafe" not in csp


@pytest.mark.gen_test(timeout=60)
async def test_hostile_small_requests_leave_the_server_up_and_others_syncing(server_process):
    server = server_process()
    base = server.base_url
    requests = [
        ("GET", "/healthz", {"Host": "evil.example"}, None),
        ("POST", "/api/boards/h/import", {"Content-Type": "text/plain"}, EMPTY_BOARD),
        ("POST", "/api/boards/h/import", {"Content-Type": "application/json"},
         "[" * 50_000 + "]" * 50_000),
        ("GET", "/api/boards/h/export.png?region=0,0,1e300,1e300", {}, None),
        ("GET", "/api/boards/h/export.svg?region=0,0,1e-300,1e-300", {}, None),
    ]
    with HealthWatch(server.port) as watch:
        for _ in range(5):
            for method, path, headers, body in requests:
                code, _, _ = await fetch(base + path, method=method, headers=headers,
                                         body=body, allow_nonstandard_methods=True)
                assert 400 <= code < 500, (path, code)
        await bystander_syncs(server.ws_url)
    watch.assert_healthy()
    assert "Traceback" not in server.log()


MIB = 1024 * 1024


@pytest.mark.slow
@pytest.mark.gen_test(timeout=240)
async def test_chunked_bodies_past_their_cap_get_a_413_with_the_reason(server_process):
    server = server_process(max_import_bytes=str(16 * MIB))
    request = urllib.request.Request(f"{server.base_url}/api/boards/chunks/import",
                                     data=EMPTY_BOARD.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    export, upload = "/api/boards/chunks/export.svg", "/api/boards/chunks/files"
    importing = "/api/boards/chunks/import"
    cases = [  # (path, MiB sent, read while sending, one chunk, what the reason names)
        (export, 20, False, False, f"over the {16 * MIB}-byte cap"),
        (export, 20, True, False, f"over the {16 * MIB}-byte cap"),
        (export, 1024, True, True, f"over the {16 * MIB}-byte cap"),
        (importing, 20, False, False, f"over the {16 * MIB}-byte cap (--max-import-bytes)"),
        (importing, 1024, True, False, "--max-import-bytes"),
        (upload, 12, False, False, f"over the {10 * MIB + 64 * 1024}-byte cap"),
    ]
    loop = asyncio.get_running_loop()
    with HealthWatch(server.port) as watch:
        for path, mib, read_while_sending, one_chunk, reason in cases:
            status, body, sent = await loop.run_in_executor(
                None, post_chunked, server.port, path, mib * MIB, read_while_sending,
                one_chunk)
            print(f"{path} {mib} MiB chunked (read while sending: {read_while_sending}, one "
                  f"chunk: {one_chunk}): {status} after {sent / MIB:.1f} MiB sent: {body!r}")
            assert status == 413, (path, mib, body)
            assert json.loads(body)["error"] == "payload too large"
            assert reason in json.loads(body)["detail"], body
            if read_while_sending:  # answered once the cap was passed, not at the end
                assert sent < 40 * MIB, sent
        # Past the cap and what is read after it (REFUSED_BODY_DRAIN_BYTES), the connection
        # is closed: a body without end is not read for ever.
        _, _, sent = await loop.run_in_executor(
            None, post_chunked, server.port, export, (16 + 64 + 16) * MIB, False)
        assert sent < (16 + 64 + 16) * MIB
        await bystander_syncs(server.ws_url)
    watch.assert_healthy()
    with urllib.request.urlopen(f"{server.base_url}/api/boards/chunks/export.json",
                                timeout=30) as response:
        assert json.loads(response.read())["elements"] == []  # nothing was written
    assert "Traceback" not in server.log()
