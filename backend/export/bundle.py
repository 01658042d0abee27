"""The syncboard bundle: a self-contained backup of one board, images included.

One JSON file (``.syncboard.json``)::

    {"type": "syncboard-bundle", "version": 1,
     "board": {the JSON export form},
     "files": {"<fileId>": {"mime": "image/png", "data": "<base64>"}, ...}}

Why JSON and not a zip: it is read by the same parser, under the same size, nesting and
schema checks as every other import, so there is no archive format to attack (no zip bomb, no
path traversal, no entry count); the images it carries are PNG/JPEG/GIF/WebP, already
compressed, so a zip would save nothing but base64's third; and the bytes are deterministic
(files sorted by id, no timestamps), so export -> import -> export gives the same file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..board_model import BoardContent
from .json_export import render_json
from .mapping import MAX_FILES, FileLimits, ImportRefused, Incoming, accept_image

BUNDLE_TYPE = "syncboard-bundle"
BUNDLE_VERSION = 1


def is_bundle(data: Any) -> bool:
    """Whether parsed JSON is a syncboard bundle."""
    return isinstance(data, dict) and data.get("type") == BUNDLE_TYPE


def render_bundle(content: BoardContent, files: Mapping[str, tuple[str, bytes]]) -> bytes:
    """The bundle of a board: its export form and the stored bytes of every image it names
    that ``files`` holds (one file per line, sorted by id). Files no image element of
    ``content`` names are left out: a selection's or a frame's bundle carries the images it
    shows, not those of the whole board."""
    board = render_json(content).decode("utf-8").rstrip("\n")
    named = {e.get("fileId") for e in content.elements if e["type"] == "image"}
    lines = [f'  {json.dumps(file_id)}: {{"mime": {json.dumps(mime)}, "data": '
             f'"{base64.b64encode(data).decode("ascii")}"}}'
             for file_id, (mime, data) in sorted(files.items()) if file_id in named]
    body = ",\n".join(lines)
    text = (f'{{"type": "{BUNDLE_TYPE}", "version": {BUNDLE_VERSION},\n"board": {board},\n'
            f'"files": {{{chr(10) + body + chr(10) if body else ""}}}}}\n')
    return text.encode("utf-8")


def read_bundle(data: dict[str, Any], limits: FileLimits) -> Incoming:
    """The board and images of a bundle. Raises ``ImportRefused`` for another version, a
    file that is not an accepted image, over the caps, or whose bytes do not hash to its
    id."""
    if data.get("version") != BUNDLE_VERSION:
        raise ImportRefused("$.version", f"bundle version {data.get('version')!r} is not "
                                         f"{BUNDLE_VERSION}")
    board, files = data.get("board"), data.get("files", {})
    if not isinstance(board, dict):
        raise ImportRefused("$.board", "is not a board (the JSON export form)")
    if not isinstance(files, dict) or len(files) > MAX_FILES:
        raise ImportRefused("$.files", f"is not an object of at most {MAX_FILES} files")
    incoming = Incoming("bundle", board)
    for file_id, entry in files.items():
        path = f"$.files[{json.dumps(file_id[:100])}]"
        encoded = entry.get("data") if isinstance(entry, dict) else None
        if not isinstance(encoded, str):
            raise ImportRefused(path, "has no base64 \"data\" string")
        if len(encoded) // 4 * 3 > limits.max_file_bytes + 3:
            raise ImportRefused(path, f"holds about {len(encoded) // 4 * 3} bytes, over the "
                                      f"{limits.max_file_bytes}-byte image cap")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImportRefused(f"{path}.data", "is not valid base64") from None
        if hashlib.sha256(raw).hexdigest() != file_id:
            raise ImportRefused(path, "the SHA-256 of its bytes is not its id")
        incoming.files[file_id] = (accept_image(raw, path, limits), raw)
    return incoming
