"""HTTP export of a board written by an unmodified Yjs client (y-websocket under Node) through
the server: SVG checked by parsing it, PNG by its size and pixel colours, JSON by the schema;
image upload and download; errors (400, 404, 413, 415)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from pycrdt import Array, Map, Text

from backend.board_model import validate_board_json
from tests.export_helpers import (
    BOARD_WRITER,
    CYAN_PNG,
    base_url,
    decode_png,
    every_element_board,
    fetch,
    fetch_json,
    pixel,
)

SVG = "{http://www.w3.org/2000/svg}"
MARGIN = 32


async def write_with_yjs(ws_url: str, board_id: str, board: dict) -> asyncio.subprocess.Process:
    """Write ``board`` through a Node y-websocket provider; return the still-connected process
    (closing its stdin disconnects it)."""
    if shutil.which("node") is None or not (BOARD_WRITER.parent / "node_modules" / "yjs").is_dir():
        pytest.fail("node and tests/interop/node_modules are needed: run ./scripts/test "
                    "(npm ci in tests/interop)", pytrace=False)
    proc = await asyncio.create_subprocess_exec(
        "node", str(BOARD_WRITER), ws_url, board_id, json.dumps(board),
        cwd=BOARD_WRITER.parent, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        assert json.loads(line) == {"written": len(board["elements"])}, line
        return proc
    except BaseException:
        proc.kill()
        raise


async def board_with_every_type(server, base: str, board_id: str) -> dict:
    """Create the board, upload its image, write every element through Yjs; wait until the
    server holds them. Returns the board spec."""
    code, _ = await fetch_json(f"{base}/api/boards/{board_id}/files", method="POST", body=b"x")
    assert code == 404  # the board does not exist yet
    await server.store.create_board(board_id)
    code, uploaded = await fetch_json(f"{base}/api/boards/{board_id}/files", method="POST",
                                      body=CYAN_PNG)
    assert code == 201 and uploaded["mime"] == "image/png"
    board = every_element_board(uploaded["fileId"])
    writer = await write_with_yjs(f"ws://127.0.0.1:{server.port}/ws", board_id, board)
    try:
        for _ in range(500):
            code, exported = await fetch_json(f"{base}/api/boards/{board_id}/export.json")
            if code == 200 and len(exported["elements"]) == len(board["elements"]):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the server never held every element")
    finally:
        writer.stdin.close()
        await asyncio.wait_for(writer.wait(), 10)
    return board


@pytest.mark.gen_test(timeout=60)
async def test_board_written_by_yjs_exports_every_element_type_to_svg(sb_server):
    server = await sb_server()
    base = base_url(server)
    board = await board_with_every_type(server, base, "svg_every_type")
    response = await fetch(f"{base}/api/boards/svg_every_type/export.svg")
    assert response.code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="svg_every_type.svg"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    root = ET.fromstring(response.body)
    assert root.tag == SVG + "svg"
    # Content spans about x 0..490, y 0..280: the view adds the margin around it.
    x, y, w, h = map(float, root.get("viewBox").split())
    assert x < -MARGIN and y < -MARGIN and x + w > 490 + MARGIN and y + h > 280 + MARGIN
    assert (root.get("width"), root.get("height")) == (f"{w:g}", f"{h:g}")
    background = root.find(f"{SVG}rect[@data-role='background']")
    assert background.get("fill") == "#ffffff"
    groups = {g.get("data-id"): g for g in root.iter(SVG + "g")}
    assert list(groups) == [e["id"] for e in board["elements"]]  # z order

    rect = groups["rect1"].find(SVG + "rect")
    assert (rect.get("x"), rect.get("width"), rect.get("height")) == ("0", "100", "60")
    assert rect.get("fill") == "#ff0000" and rect.get("stroke") == "#000000"
    ellipse = groups["ellipse1"].find(SVG + "ellipse")
    assert (ellipse.get("cx"), ellipse.get("cy"), ellipse.get("rx")) == ("200", "30", "50")
    path = groups["stroke1"].find(SVG + "path")
    assert path.get("d").startswith("M0 100Q") and path.get("stroke-linecap") == "round"
    assert path.get("stroke") == "#00aa00" and path.get("fill") == "none"
    assert groups["line1"].find(SVG + "path").get("d") == "M100 100L180 100"
    heads = {p.get("data-role") for p in groups["arrow1"].iter(SVG + "path")}
    assert heads == {None, "arrowhead-start", "arrowhead-end"}
    spans = [s.text for s in groups["text1"].iter(SVG + "tspan")]
    assert spans == ["Hello, board"]
    sticky = groups["sticky1"]
    assert sticky.find(SVG + "rect").get("fill") == "#ffee00"
    lines = [s.text for s in sticky.iter(SVG + "tspan")]
    assert len(lines) >= 2 and " ".join(lines) == "A sticky note with several words to wrap"
    image = groups["image1"].find(SVG + "image")
    scheme, data = image.get("href").split(",", 1)
    assert scheme == "data:image/png;base64" and base64.b64decode(data) == CYAN_PNG


@pytest.mark.gen_test(timeout=60)
async def test_png_export_has_the_scaled_size_and_the_element_colours(sb_server):
    server = await sb_server()
    base = base_url(server)
    await board_with_every_type(server, base, "png_every_type")
    svg = ET.fromstring((await fetch(f"{base}/api/boards/png_every_type/export.svg")).body)
    vx, vy, vw, vh = map(float, svg.get("viewBox").split())
    response = await fetch(f"{base}/api/boards/png_every_type/export.png?scale=2")
    assert response.code == 200 and response.headers["Content-Type"] == "image/png"
    width, height, rows = decode_png(response.body)
    assert (width, height) == (round(vw * 2), round(vh * 2))

    def at(board_x: float, board_y: float) -> tuple[int, int, int, int]:
        return pixel(rows, int((board_x - vx) * 2), int((board_y - vy) * 2))

    assert at(50, 30) == (255, 0, 0, 255)  # rect fill
    assert at(200, 30) == (0, 0, 255, 255)  # ellipse fill
    assert at(470, 20) == (0, 255, 255, 255)  # the uploaded image
    assert at(330, 270) == (255, 238, 0, 255)  # sticky fill, below its text
    assert at(vx + 2, vy + 2) == (255, 255, 255, 255)  # background

    clear = await fetch(f"{base}/api/boards/png_every_type/export.png?background=transparent")
    _, _, clear_rows = decode_png(clear.body)
    assert pixel(clear_rows, 1, 1)[3] == 0


@pytest.mark.gen_test(timeout=60)
async def test_json_export_is_valid_against_the_schema_and_keeps_every_field(sb_server):
    server = await sb_server()
    base = base_url(server)
    board = await board_with_every_type(server, base, "json_every_type")
    response = await fetch(f"{base}/api/boards/json_every_type/export.json")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    exported = json.loads(response.body)
    assert validate_board_json(exported) == []
    assert exported["meta"]["title"] == "every type"
    for sent, got in zip(board["elements"], exported["elements"], strict=True):
        assert {k: got[k] for k in sent} == sent


@pytest.mark.gen_test(timeout=30)
async def test_export_errors_are_json_404_and_400(sb_server):
    server = await sb_server()
    base = base_url(server)
    for board in ("never-made", "bad%20id"):
        code, body = await fetch_json(f"{base}/api/boards/{board}/export.svg")
        assert code == 404 and body["error"] == "not found"
    await server.store.create_board("export_errors")
    for query in ("scale=0", "scale=abc", "scale=1000", "background=red", "region=1,2,3"):
        code, body = await fetch_json(f"{base}/api/boards/export_errors/export.png?{query}")
        assert code == 400, query
        assert body["detail"]
    code = (await fetch(f"{base}/api/boards/export_errors/export.svg")).code
    assert code == 200  # an empty board exports


@pytest.mark.gen_test(timeout=30)
async def test_file_upload_checks_bytes_and_size_and_serves_them_back(sb_server):
    server = await sb_server()
    base = base_url(server)
    await server.store.create_board("files")
    url = f"{base}/api/boards/files/files"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for refused in (svg, b"<html></html>", b""):
        code, body = await fetch_json(url, method="POST", body=refused,
                                      headers={"Content-Type": "image/png"})
        assert code == 415, refused
    code, _ = await fetch_json(url, method="POST", body=b"\x89PNG\r\n\x1a\n" + bytes(10 << 20))
    assert code == 413
    code, uploaded = await fetch_json(url, method="POST", body=CYAN_PNG)
    assert code == 201 and re.fullmatch(r"[0-9a-f]{64}", uploaded["fileId"])
    response = await fetch(f"{base}/api/files/{uploaded['fileId']}")
    assert response.code == 200 and response.body == CYAN_PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for missing in ("0" * 64, "not-a-hash"):
        code, body = await fetch_json(f"{base}/api/files/{missing}")
        assert code == 404 and body["error"] == "not found"


@pytest.mark.gen_test(timeout=60)
async def test_with_tokens_export_needs_a_view_token_and_import_or_upload_an_edit_token(
        sb_server):
    server = await sb_server(auth="token")
    base = base_url(server)
    code, links = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    assert code == 201
    board = links["id"]

    def bearer(token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    body = json.dumps({"schemaVersion": 1, **every_element_board("ab" * 32)})
    for token, expected in ((None, 401), (links["viewToken"], 403), (links["editToken"], 200)):
        code, _ = await fetch_json(f"{base}/api/boards/{board}/import", method="POST",
                                   body=body, headers=bearer(token))
        assert code == expected, token
    for token, expected in ((None, 401), ("bogus.e0.x", 401), (links["viewToken"], 200)):
        response = await fetch(f"{base}/api/boards/{board}/export.json", headers=bearer(token))
        assert response.code == expected, token
    code, _ = await fetch_json(f"{base}/api/boards/{board}/files", method="POST",
                               body=CYAN_PNG, headers=bearer(links["viewToken"]))
    assert code == 403


@pytest.mark.gen_test(timeout=60)
async def test_garbage_written_by_a_client_still_exports_in_every_format(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    client = await yclient(server, "garbage")

    def scribble(doc) -> None:
        elements = doc.get("elements", type=Map)
        elements["ok"] = Map({"type": "rect", "w": 10, "h": 10, "z": "a0"})
        elements["nan"] = Map({"type": "ellipse", "x": float("nan"), "w": "x", "z": 3})
        elements["text"] = Map({"type": "text", "text": Text("<svg onload=alert(1)>"),
                                "stroke": "javascript:alert(1)", "fontSize": -5})
        elements["points"] = Map({"type": "stroke", "points": Array(["a", None, 1.0])})
        elements["alien"] = Map({"type": "hologram"})
        elements["flat"] = "not a map"
        doc.get("meta", type=Map)["background"] = {"evil": True}

    await client.edit(scribble)
    await client.wait_for(lambda: len(server.registry.rooms["garbage"].document.doc.get(
        "elements", type=Map)) == 6, what="server has the garbage")
    for fmt in ("json", "svg", "png"):
        response = await fetch(f"{base}/api/boards/garbage/export.{fmt}")
        assert response.code == 200, fmt
        assert response.headers["X-Skipped-Elements"] == "3"
    exported = json.loads((await fetch(f"{base}/api/boards/garbage/export.json")).body)
    assert validate_board_json(exported) == []
    assert [e["id"] for e in exported["elements"]] == ["nan", "text", "ok"]
    svg = ET.fromstring((await fetch(f"{base}/api/boards/garbage/export.svg")).body)
    text = svg.find(f"{SVG}g[@data-id='text']/{SVG}text")
    assert text.get("fill") == "#1e1e1e" and text.get("font-size") == "4"
    assert text.find(SVG + "tspan").text == "<svg onload=alert(1)>"


@pytest.mark.gen_test(timeout=30)
async def test_board_open_before_its_row_is_committed_exports_and_takes_uploads(
        sb_server, yclient):
    server = await sb_server(flush_delay_ms=10_000)  # the row waits for the next group commit
    base = base_url(server)
    client = await yclient(server, "uncommitted")
    await client.edit(lambda doc: doc.get("elements", type=Map).__setitem__(
        "r1", Map({"type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "z": "a0"})))
    await client.wait_for(lambda: "r1" in server.registry.rooms["uncommitted"].document.doc
                          .get("elements", type=Map), what="the server holds the element")
    assert await server.store.board_info("uncommitted") is None  # nothing committed yet
    # Every endpoint agrees that the board exists: info, export, upload.
    code, info = await fetch_json(f"{base}/api/boards/uncommitted")
    assert code == 200 and info["loaded"] is True
    code, exported = await fetch_json(f"{base}/api/boards/uncommitted/export.json")
    assert code == 200 and [e["id"] for e in exported["elements"]] == ["r1"]
    code, uploaded = await fetch_json(f"{base}/api/boards/uncommitted/files", method="POST",
                                      body=CYAN_PNG)
    assert code == 201 and uploaded["mime"] == "image/png"
    # A board neither stored nor loaded is still a 404 everywhere.
    for path in ("", "/export.json", "/export.svg"):
        code, body = await fetch_json(f"{base}/api/boards/never-opened{path}")
        assert code == 404 and body["error"] == "not found", path
    code, _ = await fetch_json(f"{base}/api/boards/never-opened/files", method="POST",
                               body=CYAN_PNG)
    assert code == 404
