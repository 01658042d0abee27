"""Helpers for the export/import tests: HTTP calls, a known board with every element type, PNG
decoding, and where an export draws lines and arrows."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import png
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPResponse

from backend.app import SyncboardServer

ROOT = Path(__file__).resolve().parent.parent
BOARD_WRITER = ROOT / "tests" / "interop" / "board_writer.mjs"
SVG_NS = "{http://www.w3.org/2000/svg}"

# A 4x4 solid cyan PNG (made by pypng, decoded back in the tests).
_buffer = io.BytesIO()
png.Writer(4, 4, greyscale=False).write(_buffer, [[0, 255, 255] * 4] * 4)
CYAN_PNG = _buffer.getvalue()


def every_element_board(image_file_id: str) -> dict[str, Any]:
    """A board in the JSON export form with one element of every type at known places."""
    return {"meta": {"title": "every type", "background": "#ffffff"}, "elements": [
        {"id": "rect1", "type": "rect", "x": 0, "y": 0, "w": 100, "h": 60, "z": "a0",
         "fill": "#ff0000", "stroke": "#000000", "strokeWidth": 2},
        {"id": "ellipse1", "type": "ellipse", "x": 150, "y": 0, "w": 100, "h": 60, "z": "a1",
         "fill": "#0000ff", "stroke": "#000000", "strokeWidth": 2},
        {"id": "stroke1", "type": "stroke", "x": 0, "y": 100, "z": "a2", "stroke": "#00aa00",
         "strokeWidth": 6, "points": [0, 0, 20, 20, 40, 0, 60, 20]},
        {"id": "line1", "type": "line", "x": 100, "y": 100, "z": "a3",
         "points": [0, 0, 80, 0]},
        {"id": "arrow1", "type": "arrow", "x": 200, "y": 100, "z": "a4",
         "points": [0, 0, 80, 40], "arrowStart": True, "arrowEnd": True},
        {"id": "text1", "type": "text", "x": 0, "y": 160, "w": 200, "h": 25, "z": "a5",
         "text": "Hello, board", "fontSize": 20},
        {"id": "sticky1", "type": "sticky", "x": 250, "y": 160, "w": 160, "h": 120, "z": "a6",
         "fill": "#ffee00", "text": "A sticky note with several words to wrap",
         "fontSize": 16},
        {"id": "image1", "type": "image", "x": 450, "y": 0, "w": 40, "h": 40, "z": "a7",
         "fileId": image_file_id},
    ]}


def base_url(server: SyncboardServer) -> str:
    """The HTTP base URL of an in-process server."""
    return f"http://127.0.0.1:{server.port}"


async def fetch(url: str, **kwargs: Any) -> HTTPResponse:
    """An HTTP response, error statuses included (never raises for 4xx/5xx). A POST without
    a Content-Type says ``application/octet-stream`` as scripts do (Tornado's client would
    say form-urlencoded, which the server refuses as a possible cross-site request)."""
    if kwargs.get("method") == "POST":
        kwargs["headers"] = {"Content-Type": "application/octet-stream",
                             **(kwargs.get("headers") or {})}
    try:
        return await AsyncHTTPClient().fetch(url, request_timeout=60, **kwargs)
    except HTTPClientError as exc:
        assert exc.response is not None
        return exc.response


async def fetch_json(url: str, **kwargs: Any) -> tuple[int, dict]:
    """Status and parsed JSON body."""
    response = await fetch(url, **kwargs)
    return response.code, json.loads(response.body)


def decode_png(data: bytes) -> tuple[int, int, list[bytearray]]:
    """Width, height and RGBA rows of a PNG."""
    width, height, rows, _info = png.Reader(bytes=data).asRGBA8()
    return width, height, [bytearray(row) for row in rows]


def pixel(rows: list[bytearray], x: int, y: int) -> tuple[int, int, int, int]:
    """The RGBA value at pixel (x, y)."""
    r, g, b, a = rows[y][4 * x:4 * x + 4]
    return r, g, b, a


async def run_script(script: str, *args: str, stdin: bytes | None = None,
                     timeout_s: float = 60) -> tuple[int, bytes, str]:
    """Run ``scripts/<script>`` without blocking the loop: (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scripts" / script), *args, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout_s)
    return proc.returncode, out, err.decode()


def load_import_script() -> ModuleType:
    """``scripts/import_board.py`` as a module (to call its ``main`` in-process)."""
    spec = importlib.util.spec_from_file_location("import_board",
                                                  ROOT / "scripts" / "import_board.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drawn_points(element: dict[str, Any]) -> list[tuple[float, float]]:
    """A line's or arrow's points in board units, from its exported ``x, y, angle, points``
    (the angle turns them about their box's centre, shared/BOARD.md)."""
    p = element["points"]
    pts = [(element["x"] + p[i], element["y"] + p[i + 1]) for i in range(0, len(p) - 1, 2)]
    return turned_about_box(pts, element["angle"])


def turned_about_box(points: list[tuple[float, float]],
                     angle: float) -> list[tuple[float, float]]:
    """``points`` turned by ``angle`` about the centre of their box (how an element's angle
    applies, shared/BOARD.md)."""
    if not angle:
        return points
    cx = (min(x for x, _ in points) + max(x for x, _ in points)) / 2
    cy = (min(y for _, y in points) + max(y for _, y in points)) / 2
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)
            for x, y in points]


def svg_arrow_paths(svg: bytes) -> dict[str, list[tuple[float, float]]]:
    """Each arrow's drawn line in an exported SVG (its ``M x y L x y ...`` path), by id."""
    root = ET.fromstring(svg.split(b"\n", 1)[1])
    out = {}
    for group in root.iter(SVG_NS + "g"):
        if group.get("data-type") == "arrow":
            path = group.find(SVG_NS + "path")
            assert path is not None
            out[group.get("data-id") or ""] = [
                (float(x), float(y)) for x, y in
                (part.split() for part in path.get("d", "").replace("M", "L").split("L")
                 if part.strip())]
    return out


def assert_near(got: list[tuple[float, float]], want: list, tolerance: float,
                what: str) -> None:
    """Same number of points, each within ``tolerance`` on both axes."""
    assert len(got) == len(want), (what, got, want)
    for (x, y), (wx, wy) in zip(got, want, strict=True):
        assert abs(x - wx) <= tolerance and abs(y - wy) <= tolerance, (what, got, want)
