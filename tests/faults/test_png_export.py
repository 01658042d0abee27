"""PNG exports and images cannot freeze the server (issue 18 item 4), against a real server
process: rasterising happens in worker processes with a queue bound, a time and a memory
limit; images are refused by the size their header declares, at upload and at export."""

from __future__ import annotations

import asyncio
import json
import struct
import urllib.error
import urllib.request
import zlib

import pytest

from backend.store import open_store
from tests.export_helpers import decode_png
from tests.faults.liveness import Bystanders, HealthProbe

SIDE = 2000  # a 2,000 x 2,000 export: 4 megapixels, a second or more of resvg each


def request(url: str, data: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    """``(status, headers, body)`` of one HTTP request (errors included)."""
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def make_board(server, board_id: str, elements: list[dict] | None = None) -> None:
    elements = elements if elements is not None else [
        {"id": "r1", "type": "rect", "x": 10, "y": 10, "w": SIDE - 20, "h": SIDE - 20,
         "z": "a0", "fill": "#ff0000", "stroke": "#000000", "strokeWidth": 4},
        {"id": "e1", "type": "ellipse", "x": 100, "y": 100, "w": SIDE - 200, "h": SIDE - 200,
         "z": "a1", "fill": "#0000ff"}]
    body = json.dumps({"schemaVersion": 1, "meta": {}, "elements": elements}).encode()
    status, _, answer = request(f"{server.base_url}/api/boards/{board_id}/import", body,
                                {"Content-Type": "application/json"})
    assert status == 200, answer


def export_png(server, board_id: str, side: int = SIDE, scale: float = 1) -> tuple:
    return request(f"{server.base_url}/api/boards/{board_id}/export.png"
                   f"?region=0,0,{side},{side}&scale={scale}")


@pytest.mark.slow
@pytest.mark.gen_test(timeout=300)
async def test_healthz_stays_fast_while_six_large_png_exports_run(server_process):
    server = server_process(png_workers=2, png_queue_jobs=4)
    make_board(server, "six_pngs")
    bystanders = await Bystanders(server.ws_url).start()
    with HealthProbe(server.base_url) as probe:
        exports = [asyncio.to_thread(export_png, server, "six_pngs") for _ in range(6)]
        running = asyncio.gather(*exports)
        while not running.done():
            await bystanders.check()
            await asyncio.sleep(0.2)
        results = await running
    probe.assert_fast()
    for status, _headers, body in results:
        assert status == 200, body[:200]
        width, height, _rows = decode_png(body)
        assert (width, height) == (SIDE, SIDE)
    bystanders.close()


@pytest.mark.gen_test(timeout=300)
async def test_a_full_png_queue_answers_503_with_retry_after(server_process):
    server = server_process(png_workers=1, png_queue_jobs=0)
    make_board(server, "png_queue")
    results = await asyncio.gather(*[asyncio.to_thread(export_png, server, "png_queue")
                                     for _ in range(3)])
    statuses = sorted(status for status, _, _ in results)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    refused = next(r for r in results if r[0] == 503)
    assert int(refused[1]["Retry-After"]) >= 1
    assert "PNG exports are running or queued" in json.loads(refused[2])["detail"]
    assert export_png(server, "png_queue", side=100)[0] == 200  # the queue drained


@pytest.mark.gen_test(timeout=300)
async def test_a_png_past_its_time_or_memory_limit_is_stopped_and_the_next_one_works(
        server_process):
    server = server_process(png_timeout_s=1, png_memory_bytes=300 * 1024 * 1024)
    make_board(server, "png_limits")
    bystanders = await Bystanders(server.ws_url).start()
    with HealthProbe(server.base_url) as probe:
        # 8,000 x 8,000: a 256 MB pixmap, past 300 MB of address space with Python and resvg.
        status, _, body = await asyncio.to_thread(export_png, server, "png_limits", 8000)
        await bystanders.check()
    probe.assert_fast()
    assert status == 422, body[:200]
    detail = json.loads(body)["detail"]
    assert "took longer than 1 s" in detail or "memory limit of 314572800" in detail
    status, _, body = await asyncio.to_thread(export_png, server, "png_limits", 100)
    assert status == 200 and decode_png(body)[:2] == (100, 100)
    bystanders.close()


def tiny_png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 100_000)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + crc
            + struct.pack(">I", len(idat)) + b"IDAT" + idat
            + struct.pack(">I", zlib.crc32(b"IDAT" + idat)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def webp_declaring(width: int, height: int) -> bytes:
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8X" + struct.pack("<I", 10) \
        + b"\x00" * 4 + canvas + b"VP8L" + struct.pack("<I", 0)  # and an empty image chunk


@pytest.mark.gen_test(timeout=300)
async def test_images_declaring_too_many_pixels_are_refused_at_upload_and_left_out_of_exports(
        server_process):
    server = server_process()
    make_board(server, "giant_images", elements=[])
    bystanders = await Bystanders(server.ws_url).start()
    giant_png = tiny_png_declaring(34_000, 34_000)  # 4.6 GB decoded
    giant_webp = webp_declaring(22_000, 22_000)  # 1.9 GB decoded, 38 bytes
    assert len(giant_webp) == 38
    with HealthProbe(server.base_url) as probe:
        for data in (giant_png, giant_webp):
            status, _, body = request(f"{server.base_url}/api/boards/giant_images/files", data,
                                      {"Content-Type": "application/octet-stream"})
            assert status == 413, body
            assert "over the limit of 50,000,000" in json.loads(body)["detail"]
        await bystanders.check()
    probe.assert_fast()
    # A file stored before the check existed: exports leave it out, never decode it.
    store = await open_store(server.db_url)
    try:
        await store.save_file("ab" * 32, "image/png", giant_png)
    finally:
        await store.close()
    make_board(server, "giant_images", elements=[
        {"id": "img", "type": "image", "x": 0, "y": 0, "w": 100, "h": 100, "z": "a0",
         "fileId": "ab" * 32}])
    with HealthProbe(server.base_url) as probe:
        for fmt in ("png", "svg"):
            status, headers, body = request(
                f"{server.base_url}/api/boards/giant_images/export.{fmt}")
            assert status == 200, body[:200]
            assert headers["X-Skipped-Images"].startswith("1 (first: abababababab: image is "
                                                          "34000 x 34000")
        await bystanders.check()
    probe.assert_fast()
    bystanders.close()
