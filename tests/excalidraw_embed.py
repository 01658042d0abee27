"""Excalidraw "embed scene" PNG and SVG files, built the way Excalidraw builds them, for the
import tests (backend/export/embedded.py) and the fixtures made from them.

Provenance: written from Excalidraw's sources (excalidraw/excalidraw,
``packages/excalidraw/data/encode.ts``: ``encode`` = ``{version: "1", encoding: "bstring",
compressed, encoded}`` with ``encoded`` pako's zlib ``deflate`` of the scene as a byte string;
``data/image.ts``: the PNG's ``tEXt`` chunk, in newer versions an uncompressed ``iTXt`` chunk,
keyed ``application/vnd.excalidraw+json`` and inserted before ``IEND``, holding
``JSON.stringify(encode(scene))``; ``scene/export.ts``: the SVG's ``<metadata>`` comments
``payload-type``, ``payload-version:2``, ``payload-start``, base64 of that JSON as a byte
string, ``payload-end``). No code was copied; the base image is a 4x4 PNG made by pypng.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import struct
import zlib

import png

KEYWORD = b"application/vnd.excalidraw+json"


def wrapper(scene: str, compressed: bool = True) -> str:
    """``JSON.stringify(encode({text: scene}))``: the byte string kept one character a byte."""
    data = zlib.compress(scene.encode("utf-8")) if compressed else scene.encode("utf-8")
    return json.dumps({"version": "1", "encoding": "bstring", "compressed": compressed,
                       "encoded": data.decode("latin-1")}, ensure_ascii=False,
                      separators=(",", ":"))


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data))


def itxt(text: str, compress_text: bool = False) -> bytes:
    """An iTXt chunk keyed as Excalidraw keys it (no language, no translated keyword)."""
    body = text.encode("utf-8")
    flag = b"\x01\x00" if compress_text else b"\x00\x00"
    return chunk(b"iTXt", KEYWORD + b"\0" + flag + b"\0\0" +
                 (zlib.compress(body) if compress_text else body))


def text_chunk(text: str) -> bytes:
    """A tEXt chunk (Latin-1 text), as older Excalidraw versions wrote."""
    return chunk(b"tEXt", KEYWORD + b"\0" + text.encode("latin-1"))


def base_png() -> bytes:
    """A 4x4 light grey PNG (the picture part of the export)."""
    out = io.BytesIO()
    png.Writer(4, 4, greyscale=False).write(out, [[230, 230, 230] * 4] * 4)
    return out.getvalue()


def with_chunks(picture: bytes, *chunks: bytes) -> bytes:
    """``picture`` with ``chunks`` inserted before its IEND chunk (the last 12 bytes)."""
    assert picture[-8:-4] == b"IEND"
    return picture[:-12] + b"".join(chunks) + picture[-12:]


def scene_png(scene: str, *, legacy_text: bool = False) -> bytes:
    """An ``.excalidraw.png``: the compressed wrapper in an iTXt chunk (current Excalidraw), or
    in a tEXt chunk with ``legacy_text``."""
    text = wrapper(scene)
    return with_chunks(base_png(), text_chunk(text) if legacy_text else itxt(text))


def scene_svg(scene: str, payload: str | None = None, version: int = 2) -> str:
    """An ``.excalidraw.svg`` as Excalidraw writes it; ``payload``: the base64 text to put
    between the comments instead of the scene's (hostile variants)."""
    if payload is None:
        text = wrapper(scene)
        raw = text.encode("latin-1") if version == 2 else text.encode("utf-8")
        payload = base64.b64encode(raw).decode("ascii")
    return ('<svg version="1.1" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" '
            'width="120" height="80"><!-- svg-source:excalidraw --><metadata>'
            '<!-- payload-type:application/vnd.excalidraw+json -->'
            f'<!-- payload-version:{version} --><!-- payload-start -->{payload}'
            '<!-- payload-end --></metadata><defs><style class="style-fonts"></style></defs>'
            '<rect x="0" y="0" width="120" height="80" fill="#ffffff"/></svg>')


@functools.cache
def bomb(inflated_bytes: int) -> bytes:
    """zlib data of ``inflated_bytes`` spaces (about 1/1000 the size), made a MiB at a time."""
    deflater = zlib.compressobj(9)
    piece = b" " * (1024 * 1024)
    return b"".join([*(deflater.compress(piece) for _ in range(inflated_bytes // len(piece))),
                     deflater.flush()])


def bomb_wrapper(inflated_bytes: int) -> str:
    """Excalidraw's wrapper around a decompression bomb."""
    return json.dumps({"version": "1", "encoding": "bstring", "compressed": True,
                       "encoded": bomb(inflated_bytes).decode("latin-1")}, ensure_ascii=False)
