"""Hostile import files against a real server process: each gets a clear 400/413 naming
what is wrong, nothing is written, and the server's peak resident memory stays under a
documented bound (BENCHMARKS.md, "Import of hostile files")."""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
import time

MIB = 1024 * 1024
RSS_GROWTH_BOUND_MIB = 450
"""Most the server's peak RSS (VmHWM) may grow over all the files below, the 64 MiB
streamed one and the largest file the value cap lets through included (measured +340 MiB:
see BENCHMARKS.md, "Import of hostile files")."""


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def scene(elements: list | None = None, files: dict | None = None) -> bytes:
    return json.dumps({"type": "excalidraw", "version": 2, "elements": elements or [],
                       "files": files or {}}).encode()


def image_element(file_id: str) -> dict:
    return {"id": "img", "type": "image", "x": 0, "y": 0, "width": 10, "height": 10,
            "fileId": file_id}


def post(port: int, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/api/boards/hostile/import", body=body,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def stream_until_answered(port: int, total_bytes: int) -> tuple[int, dict, int]:
    """POST a chunked body of a data URL with ``total_bytes`` of base64, 64 KiB per chunk,
    looking for an answer before each chunk (the server closes the connection once it has
    answered; data still unsent then would reset it); returns the answer's status and JSON
    and how many bytes were sent by then."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sent, answer = 0, b""
    try:
        sock.sendall(b"POST /api/boards/hostile/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        head = b'{"type": "excalidraw", "elements": [], "files": {"f": {"dataURL": ' \
               b'"data:image/png;base64,'
        chunk = b"A" * (64 * 1024)
        pieces = [head] + [chunk] * (total_bytes // len(chunk))
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            try:  # the server closes the connection after answering
                data = sock.recv(65536)
            except ConnectionResetError:  # what arrived before the reset is still read above
                break
            if not data:
                break
            answer += data
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[:int(size, 16)]
    return int(head.split()[1]), json.loads(body), sent


def test_hostile_files_are_refused_by_name_and_memory_stays_bounded(server_process):
    server = server_process()
    pid = server.proc.pid
    before = peak_rss_mib(pid)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    cases = [
        (b'{"type": "excalidraw", "elements": [', 400, "$", "invalid JSON"),
        (scene([image_element("f1")], {"f1": {"dataURL": "data:image/png;base64," +
                                              base64.b64encode(b"<html>hi</html>").decode()}}),
         400, '$.files["f1"].dataURL', "is not a PNG, JPEG, GIF or WebP image"),
        (scene([image_element("f1")], {"f1": {"dataURL": "data:image/svg+xml;base64," +
                                              base64.b64encode(svg).decode()}}),
         400, '$.files["f1"].dataURL', "declared image/svg+xml"),
        (scene([image_element("f1")], {"f1": {"dataURL": "data:image/png;base64," +
                                              "A" * (16 * MIB)}}),
         400, '$.files["f1"].dataURL', "over the 10485760-byte image cap"),
        (b'{"type": "excalidraw", "elements": [{"id": "d", "type": "freedraw", "points": ['
         + b"[12.5,7.25]," * 999_999 + b"[1,2]]}]}",
         400, "$", "holds 1000004 arrays and objects, over the 1000000 limit"),
        (b'{"type": "excalidraw", "elements": [{"id": "d", "type": "freedraw", "points": ['
         + b"[12.5,7.25]," * 149_999 + b"[1,2]]}]}",
         400, "$.elements[0].points", "has 150000 points, over the 100000-point limit"),
        (b'{"type": "excalidraw", "elements": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
         400, "$", "nested deeper than 64 levels"),
        # The worst a body under the caps can do: the most values the pre-check lets through,
        # in one field the schema refuses (its validator prints the value it refuses).
        (b'{"schemaVersion": 1, "meta": {}, "elements": [], "x": [' + b"0.1234567," * 1_999_990
         + b"1]}", 400, "$", "Additional properties are not allowed ('x' was unexpected)"),
        (b'{"schemaVersion": 1, "meta": {}, "elements": [], "x": [' + b"0.1," * 2_000_000
         + b"1]}", 400, "$", "holds about 2000007 values, over the 2000000 limit"),
        (json.dumps({"tldrawFileFormatVersion": 1, "records": [
            {"typeName": "shape", "id": "shape:a", "type": "draw", "props": {"segments": [
                {"points": [{"x": i, "y": i} for i in range(100_001)]}]}}]}).encode(),
         400, "$.records[0].props.segments", "more than 100000 points"),
    ]
    for body, status, path, words in cases:
        started = time.monotonic()
        code, answer = post(server.port, body)
        print(f"{len(body) / MIB:6.1f} MiB -> {code} in {time.monotonic() - started:.2f} s, "
              f"peak RSS {peak_rss_mib(pid):.0f} MiB: {answer.get('detail', '')[:70]}")
        assert (code, answer.get("path")) == (status, path), answer
        assert words in answer["detail"], answer
    # 1 GiB of base64 streamed without a length: cut off at --max-import-bytes (64 MiB).
    code, answer, sent = stream_until_answered(server.port, 1024 * MIB)
    print(f"1 GiB streamed: answered {code} after {sent / MIB:.0f} MiB, peak RSS "
          f"{peak_rss_mib(pid):.0f} MiB: {answer['detail']}")
    assert code == 413 and "over the 67108864-byte cap" in answer["detail"], answer
    assert sent < 200 * MIB
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/api/boards/hostile/export.json")
    assert conn.getresponse().status == 404  # nothing was written, not even the board
    conn.close()
    growth = peak_rss_mib(pid) - before
    print(f"peak RSS {before:.0f} MiB -> {before + growth:.0f} MiB (+{growth:.0f} MiB)")
    assert growth < RSS_GROWTH_BOUND_MIB
