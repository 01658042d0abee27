"""What every importer of a foreign file shares: the refusal, the approximation count, the
image checks and the small value mappings onto shared/board.schema.json.

An importer (``bundle``, ``excalidraw``, ``tldraw``) turns parsed JSON into the syncboard
export form plus the image bytes it references; ``incoming.read_import`` picks the importer
from the file's content. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..board_model import load_model
from ..image_header import ImageHeaderError, ImageTooLarge, check_image

MAX_POINTS_PER_ELEMENT = 100_000
"""Most points one foreign element may carry (a freehand line longer than the schema's 1000
points is split into several strokes; beyond this the file is refused)."""
MAX_FILES = 10_000
"""Most embedded images one file may carry."""
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DATA_URL = re.compile(r"data:([\w.+/-]{1,100})?((?:;[\w=.+-]{1,100}){0,4}),", re.ASCII)
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ImportRefused(ValueError):
    """The file cannot be imported: ``path`` (``$.files.abc.dataURL``) says where, the message
    what is wrong. Nothing has been written."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class ImportTooLarge(ImportRefused):
    """The file holds more than a size cap allows once unpacked (answered 413, not 400)."""


@dataclass(frozen=True)
class FileLimits:
    """Caps applied to embedded images (the server's ``--max-file-bytes`` and
    ``--max-image-pixels``) and to the scene inflated out of an Excalidraw PNG or SVG (the
    import cap, ``--max-import-bytes``)."""

    max_file_bytes: int
    max_image_pixels: int
    max_scene_bytes: int = 64 * 1024 * 1024


@dataclass
class Incoming:
    """One imported file: its kind, the board in the export form (not yet validated), the
    image bytes it embeds (``fileId -> (mime, bytes)``) and what was approximated."""

    kind: str
    board: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    approximations: Counter[str] = field(default_factory=Counter)

    def report(self) -> str:
        """One line: ``12 elements imported from an Excalidraw file, 3 hachure fills drawn
        solid``."""
        count = len(self.board.get("elements", []))
        line = f"{count} element{'' if count == 1 else 's'} imported from {KIND_NAMES[self.kind]}"
        notes = [f"{n} {what}" for what, n in sorted(self.approximations.items())]
        return ", ".join([line, *notes])


KIND_NAMES = {"syncboard": "a syncboard JSON file", "bundle": "a syncboard bundle",
              "excalidraw": "an Excalidraw file", "tldraw": "a tldraw file"}


def decode_image(value: Any, path: str, limits: FileLimits) -> tuple[str, str, bytes]:
    """``(fileId, mime, bytes)`` of a base64 ``data:`` URL holding a PNG, JPEG, GIF or WebP
    image (checked by content, never by the declared type). Raises ``ImportRefused`` for
    anything else: not a data URL, not base64, over ``max_file_bytes`` (judged from the
    length before decoding), SVG or another type, a header declaring too many pixels."""
    if not isinstance(value, str):
        raise ImportRefused(path, "is not a data: URL string")
    header = _DATA_URL.match(value, 0, 300)
    if header is None or ";base64" not in header.group(2):
        raise ImportRefused(path, "is not a base64 data: URL")
    encoded = value[header.end():]
    if len(encoded) // 4 * 3 > limits.max_file_bytes + 3:
        raise ImportRefused(path, f"holds about {len(encoded) // 4 * 3} bytes, over the "
                                  f"{limits.max_file_bytes}-byte image cap (--max-file-bytes)")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImportRefused(path, "is not valid base64") from None
    mime = accept_image(data, path, limits, header.group(1) or "no type")
    return hashlib.sha256(data).hexdigest(), mime, data


def accept_image(data: bytes, path: str, limits: FileLimits, declared: str = "") -> str:
    """The MIME type of image bytes syncboard accepts, as an upload is checked: PNG, JPEG,
    GIF or WebP by content, within ``max_file_bytes`` and ``max_image_pixels`` (read from the
    header, nothing decoded). Raises ``ImportRefused`` naming ``path`` otherwise."""
    if len(data) > limits.max_file_bytes:
        raise ImportRefused(path, f"image of {len(data)} bytes is over the "
                                  f"{limits.max_file_bytes}-byte cap (--max-file-bytes)")
    mime = sniff_image_mime(data)
    if mime is None:
        said = f" (declared {declared})" if declared else ""
        raise ImportRefused(path, f"is not a PNG, JPEG, GIF or WebP image{said}; SVG and "
                                  "other types are refused")
    try:
        check_image(data, limits.max_image_pixels)
    except (ImageHeaderError, ImageTooLarge) as exc:
        raise ImportRefused(path, f"image refused: {exc}") from None
    return mime


def sniff_image_mime(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WebP bytes, from their signature; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def data_url(mime: str, data: bytes) -> str:
    """The ``data:`` URL of image bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def z_key(index: int) -> str:
    """The ``index``-th of an increasing run of fractional-index keys (``a0`` … ``az``,
    ``b00`` …), as the ``fractional-indexing`` package orders them: one head letter giving
    the digit count, then base-62 digits."""
    digits, start = 1, 0
    while index >= start + 62 ** digits:
        start += 62 ** digits
        digits += 1
    value, out = index - start, []
    for _ in range(digits):
        value, rest = divmod(value, 62)
        out.append(_BASE62[rest])
    return chr(ord("a") + digits - 1) + "".join(reversed(out))


def keys_above(top: str | None, count: int) -> list[str]:
    """``count`` increasing keys above ``top`` (a board's highest ``z``): integer keys after
    ``top``'s integer part, so they sort above it whatever its fraction. From the start
    (``a0``) when there is no top, it is negative (``A``-``Z`` head) or not a key."""
    start = 0
    if top and "a" <= top[0] <= "z":
        digits = ord(top[0]) - ord("a") + 1
        head = top[1:1 + digits]
        if len(head) == digits and all(c in _BASE62 for c in head):
            value = 0
            for c in head:
                value = value * 62 + _BASE62.index(c)
            start = sum(62 ** d for d in range(1, digits)) + value + 1
    return [z_key(start + i) for i in range(count)]


def number(value: Any, default: float = 0.0, low: float = -1e9, high: float = 1e9) -> float:
    """A finite number clamped to ``[low, high]``; ``default`` for anything else (bools
    included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value):
        return default
    return min(max(value, low), high)


def colour(value: Any, default: str) -> str:
    """A schema colour (``#rgb`` … ``#rrggbbaa``, ``transparent``) or ``default``."""
    if isinstance(value, str) and load_model().color_pattern.fullmatch(value):
        return value
    return default


def name(value: Any) -> str | None:
    """A string used as a key or choice (a type, a style name, an id), None for anything else:
    a list or object where a name belongs must not reach a dict lookup."""
    return value if isinstance(value, str) else None


def text(value: Any, max_length: int = 100_000) -> str:
    """A string cut to ``max_length``; "" for anything else."""
    return value[:max_length] if isinstance(value, str) else ""


class IdMap:
    """Element ids of a foreign file mapped onto url-safe syncboard ids: a valid id is kept,
    another one gets ``e<n>`` (stable for one file, so bindings follow)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, foreign: Any) -> str:
        key = str(foreign)[:200]
        if key not in self._ids:
            candidate = key if _SAFE_ID.fullmatch(key) and key not in self._taken else None
            if candidate is None:
                candidate = "e" + hashlib.sha256(key.encode()).hexdigest()[:20]
                while candidate in self._taken:
                    candidate = "e" + hashlib.sha256(candidate.encode()).hexdigest()[:20]
            self._ids[key] = candidate
            self._taken.add(candidate)
        return self._ids[key]

    def known(self, foreign: Any) -> str:
        """The mapped id of an element already seen, or "" (a binding to nothing)."""
        return self._ids.get(str(foreign)[:200], "") if foreign else ""


def group_ids(values: Any) -> list[str]:
    """Foreign group ids as the schema takes them: url-safe (others get a stable ``g…`` id),
    no repeats, at most 32, innermost first."""
    out: list[str] = []
    for value in values[:32] if isinstance(values, list) else []:
        if not isinstance(value, str):
            continue
        safe = value if _SAFE_ID.fullmatch(value) else \
            "g" + hashlib.sha256(value.encode()).hexdigest()[:20]
        if safe not in out:
            out.append(safe)
    return out


def pieces_group(element_id: str) -> str:
    """The group id joining the pieces a long freehand line is split into."""
    return f"{element_id[:56]}-pieces"


def points_box(points: list[float]) -> tuple[float, float, float, float]:
    """``(min_x, min_y, width, height)`` of flat ``[x0, y0, x1, y1, …]`` points."""
    xs, ys = points[0::2], points[1::2]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def split_points(points: list[float], max_numbers: int) -> list[list[float]]:
    """A long point list as consecutive pieces of at most ``max_numbers`` numbers, each
    starting where the last one ended (so the line stays unbroken)."""
    if len(points) <= max_numbers:
        return [points]
    step = max_numbers - 2
    return [points[i:i + max_numbers] for i in range(0, len(points) - 2, step)]


def max_point_numbers() -> int:
    """The schema's cap on the numbers in one element's ``points``."""
    rule = next(r for r in load_model().rules_for("stroke") if r.name == "points")
    return rule.max_items or 2000
