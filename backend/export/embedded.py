"""Excalidraw scenes embedded in its PNG and SVG exports ("Embed scene": ``.excalidraw.png``,
``.excalidraw.svg``): ``embedded_scene(raw, max_bytes)`` finds the scene and returns its JSON,
which is then read as any ``.excalidraw`` file (``incoming.read_import``).

The format, as Excalidraw writes and reads it (``packages/excalidraw/data/image.ts``,
``encode.ts``, ``scene/export.ts`` in excalidraw/excalidraw):

- **PNG**: a ``tEXt`` chunk (keyword, NUL, Latin-1 text) or, in newer versions, an ``iTXt``
  chunk (keyword, NUL, compression flag, compression method, language, NUL, translated
  keyword, NUL, UTF-8 text, zlib-compressed when the flag is 1), inserted before ``IEND``, its
  keyword ``application/vnd.excalidraw+json``. An ``iTXt`` chunk is preferred to a ``tEXt``.
- **SVG**: ``<!-- payload-type:application/vnd.excalidraw+json --><!-- payload-version:2 -->
  <!-- payload-start -->BASE64<!-- payload-end -->`` inside its ``<metadata>``. Version 1's
  base64 decodes to UTF-8 text, version 2's to a byte string (one character per byte).
- **The text** is JSON: either the scene itself (older files) or a wrapper ``{"version": "1",
  "encoding": "bstring", "compressed": bool, "encoded": byte string}``, where ``encoded`` is
  the scene's UTF-8 bytes, zlib-deflated (pako's ``deflate``) when ``compressed``.

Hostile input is bounded before the expensive step: at most ``MAX_PNG_CHUNKS`` chunks are
walked (without copying image data), every chunk must lie inside the file, the wrapper's
structure is checked before it is parsed, and zlib output is counted a MiB at a time and
kept only once it is known to fit ``max_bytes`` (the import cap), so a decompression bomb costs
about a MiB of memory and is refused with ``ImportTooLarge``. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from typing import Any

from .jsonread import check_structure, parse_json
from .mapping import ImportRefused, ImportTooLarge

SCENE_KEYWORD = b"application/vnd.excalidraw+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_CHUNKS = 20_000
"""Most chunks walked in one PNG (a 64 MiB image in libpng's 8 KiB IDAT chunks has 8,192)."""
INFLATE_PIECE = 1024 * 1024
"""zlib output is counted this many bytes at a time before any of it is kept."""
_TEXT_CHUNKS = (b"iTXt", b"tEXt")
_SVG_TYPE = b"<!-- payload-type:" + SCENE_KEYWORD + b" -->"
_SVG_START = b"<!-- payload-start -->"
_SVG_END = b"<!-- payload-end -->"
_SVG_VERSION = re.compile(rb"<!-- payload-version:(\d{1,3}) -->")
_LEADING = b"\xef\xbb\xbf \t\r\n"
"""What may come before an SVG's first ``<`` (a UTF-8 byte order mark and white space)."""


def embedded_scene(raw: bytes, max_bytes: int) -> bytes | None:
    """The scene JSON (UTF-8) embedded in an Excalidraw PNG or SVG export, or None when
    ``raw`` is neither a PNG nor markup (a JSON file: read as it is). Raises
    ``ImportRefused`` naming what is wrong (a PNG or SVG without a scene, a broken chunk or
    payload), ``ImportTooLarge`` for a scene that inflates past ``max_bytes``."""
    if raw.startswith(PNG_SIGNATURE):
        return _unwrap(_png_text(raw, max_bytes), "$.png", max_bytes)
    if raw[:1024].lstrip(_LEADING).startswith(b"<"):
        return _unwrap(_svg_text(raw), "$.svg", max_bytes)
    return None


def _png_text(raw: bytes, max_bytes: int) -> str:
    """The text of the PNG's scene chunk (``iTXt`` first, else ``tEXt``)."""
    view = memoryview(raw)
    found: dict[bytes, tuple[int, int]] = {}
    pos, chunks = len(PNG_SIGNATURE), 0
    while pos < len(raw):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImportRefused("$.png", f"more than {MAX_PNG_CHUNKS} chunks; nothing was "
                                         "written")
        if pos + 12 > len(raw):
            raise ImportRefused("$.png", f"truncated chunk header at byte {pos}")
        length = int.from_bytes(view[pos:pos + 4], "big")
        kind = bytes(view[pos + 4:pos + 8])
        end = pos + 12 + length
        if end > len(raw):
            raise ImportRefused("$.png", f"chunk {kind!r} at byte {pos} declares {length} "
                                         f"bytes, past the end of the file")
        if kind in _TEXT_CHUNKS and kind not in found and \
                raw.startswith(SCENE_KEYWORD + b"\0", pos + 8):
            crc = int.from_bytes(view[end - 4:end], "big")
            if zlib.crc32(view[pos + 4:end - 4]) != crc:
                raise ImportRefused(f"$.png.{kind.decode()}", "the chunk's CRC does not match "
                                                              "its bytes (a damaged file)")
            found[kind] = (pos + 8 + len(SCENE_KEYWORD) + 1, end - 4)
        if kind == b"IEND":
            break
        pos = end
    if b"iTXt" in found:
        start, stop = found[b"iTXt"]
        return _itxt_text(view[start:stop], max_bytes)
    if b"tEXt" in found:
        start, stop = found[b"tEXt"]
        return bytes(view[start:stop]).decode("latin-1")
    raise ImportRefused("$.png", "this PNG holds no Excalidraw scene (no tEXt or iTXt chunk "
                                 "keyed application/vnd.excalidraw+json): export it from "
                                 "Excalidraw with \"Embed scene\" on")


def _itxt_text(body: memoryview, max_bytes: int) -> str:
    """The text of an iTXt chunk after its keyword: flag, method, language, translated
    keyword, text."""
    path = "$.png.iTXt"
    if len(body) < 2 or body[0] not in (0, 1) or body[1] != 0:
        raise ImportRefused(path, "compression flag must be 0 or 1 and method 0")
    rest = bytes(body[2:])
    language_end = rest.find(b"\0")
    translated_end = rest.find(b"\0", language_end + 1) if language_end >= 0 else -1
    if translated_end < 0:
        raise ImportRefused(path, "language tag or translated keyword not NUL-terminated")
    text = rest[translated_end + 1:]
    if body[0] == 1:
        text = inflate_capped(text, max_bytes, path)
    return _utf8(text, path)


def _svg_text(raw: bytes) -> str:
    """The text in an Excalidraw SVG's payload comments."""
    if _SVG_TYPE not in raw:
        raise ImportRefused("$.svg", "this SVG (or other markup) holds no Excalidraw scene (no "
                                     "payload-type:application/vnd.excalidraw+json comment): "
                                     "export it from Excalidraw with \"Embed scene\" on")
    start = raw.find(_SVG_START)
    end = raw.find(_SVG_END, start + len(_SVG_START)) if start >= 0 else -1
    if end < 0:
        raise ImportRefused("$.svg", "payload-start or payload-end comment missing")
    version = _SVG_VERSION.search(raw)
    try:
        data = base64.b64decode(raw[start + len(_SVG_START):end].strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImportRefused("$.svg.payload", f"not base64: {exc}") from None
    if version is None or version.group(1) == b"1":
        return _utf8(data, "$.svg.payload")
    return data.decode("latin-1")  # version 2: a byte string, one character per byte


def _unwrap(text: str, path: str, max_bytes: int) -> bytes:
    """The scene's UTF-8 JSON from the embedded text: the wrapper decoded, or the text itself
    when it is the scene (older files)."""
    encoded = text.encode("utf-8")
    check_structure(encoded)
    data = parse_json(encoded)
    if not isinstance(data, dict):
        raise ImportRefused(path, "the embedded payload is not a JSON object")
    if "encoded" not in data:
        if data.get("type") != "excalidraw":
            raise ImportRefused(path, "the embedded payload is neither an Excalidraw scene nor "
                                      "its encoded form (\"encoded\")")
        return encoded
    return _decoded(data, path, max_bytes)


def _decoded(wrapper: dict[str, Any], path: str, max_bytes: int) -> bytes:
    if wrapper.get("encoding") != "bstring":
        raise ImportRefused(f"{path}.encoding", f"unknown encoding "
                                                f"{str(wrapper.get('encoding'))[:40]!r} "
                                                "(Excalidraw writes \"bstring\")")
    encoded = wrapper["encoded"]
    if not isinstance(encoded, str):
        raise ImportRefused(f"{path}.encoded", "must be a string")
    try:
        data = encoded.encode("latin-1")
    except UnicodeEncodeError:
        raise ImportRefused(f"{path}.encoded", "not a byte string (a character above "
                                               "U+00FF)") from None
    if wrapper.get("compressed") is True:
        return inflate_capped(data, max_bytes, f"{path}.encoded")
    return data


def inflate_capped(data: bytes, max_bytes: int, path: str) -> bytes:
    """zlib ``data`` inflated, once it is known to inflate to at most ``max_bytes`` (counted
    first, ``INFLATE_PIECE`` at a time, so a decompression bomb costs one piece of memory and
    is refused with ``ImportTooLarge``); ``ImportRefused`` for data that is not whole zlib
    data."""
    counter = zlib.decompressobj()
    size, pending = 0, data
    try:
        while not counter.eof:
            piece = len(counter.decompress(pending, INFLATE_PIECE))
            size += piece
            if size > max_bytes:
                raise ImportTooLarge(path, f"inflates past {max_bytes} bytes, the import cap "
                                           "(--max-import-bytes); nothing was written")
            if not pending and not piece and not counter.eof:  # no input left, no progress
                raise ImportRefused(path, "zlib data is truncated")
            pending = counter.unconsumed_tail
    except zlib.error as exc:
        raise ImportRefused(path, f"not zlib data: {exc}") from None
    return zlib.decompressobj().decompress(data, max_bytes)


def _utf8(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRefused(path, f"text is not UTF-8: {exc}") from None
