"""Every importer's entry: ``read_import(raw, limits)`` recognises a file by its content,
whatever it is called, and maps it onto the syncboard export form.

Recognised (first match wins): a syncboard bundle (``"type": "syncboard-bundle"``), an
Excalidraw scene (``"type": "excalidraw"``, or its clipboard form), a tldraw file
(``tldrawFileFormatVersion`` and ``records``), a syncboard JSON export form
(``schemaVersion``). The result is validated against shared/board.schema.json like any
import; its images are checked as uploads are. Used by ``POST /api/boards/<id>/import``
(``export_handlers``) and ``import_board.py``; pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pycrdt import Doc, Map

from ..board_model import load_model, validate_board_json
from .bundle import is_bundle, read_bundle
from .excalidraw import is_excalidraw, read_excalidraw
from .mapping import FileLimits, ImportRefused, Incoming, keys_above
from .tldraw import is_tldraw, read_tldraw

MAX_IMPORT_DEPTH = 64
"""Deepest nesting of arrays and objects in an import file (a board needs 4, a tldraw rich
text a dozen)."""


MAX_CONTAINERS = 1_000_000
"""Most arrays and objects one import file may hold (Excalidraw's points are one array each):
each costs about 100 bytes once parsed, so this bounds what a small file of
``[[0,0],[0,0],...]`` makes the parser allocate (a board of 200,000 elements has 400,000)."""
MAX_VALUES = 2_000_000
"""Most values (numbers, strings, ...) one import file may hold: a value costs about 32 bytes
once parsed and, inside a schema violation, up to about 100 more while the validator prints
it; this bounds the worst 64 MiB body to about 350 MiB of memory (BENCHMARKS.md). A board of
100,000 shapes or 1,000 strokes of 1,000 points fits."""
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{},")


def read_import(raw: bytes | str, limits: FileLimits) -> Incoming:
    """The board, images and approximations of an import file. Raises ``ImportRefused``
    naming the JSON path and what is wrong (nothing has been written anywhere)."""
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    check_structure(raw)
    data = parse_json(raw)
    version = load_model().version
    if is_bundle(data):
        incoming = read_bundle(data, limits)
    elif is_excalidraw(data):
        incoming = read_excalidraw(data, limits, version)
    elif is_tldraw(data):
        incoming = read_tldraw(data, limits, version)
    elif isinstance(data, dict) and "schemaVersion" in data:
        incoming = Incoming("syncboard", data)
    else:
        raise ImportRefused("$", "expected a syncboard export "
                                 "(\"schemaVersion\"), a syncboard bundle, an Excalidraw "
                                 "scene (\"type\": \"excalidraw\") or a tldraw file "
                                 "(\"tldrawFileFormatVersion\")")
    violations = validate_board_json(incoming.board)
    if violations:
        where = "" if incoming.kind == "syncboard" else \
            f" (in the board made from {incoming.kind} content)"
        first = violations[0]
        path = "$.board" + first.path[1:] if incoming.kind == "bundle" else first.path
        message = first.message if len(first.message) <= 300 else \
            first.message[:300] + "..."  # the validator quotes the value it refuses, whole
        raise ImportRefused(path, message + where)
    return incoming


FOREIGN_KINDS = frozenset({"excalidraw", "tldraw"})
"""Kinds drawn elsewhere: their elements go on top of what the board holds (``restack``)."""


def restack(incoming: Incoming, board_update: bytes | None) -> None:
    """Give a foreign drawing's elements ``z`` keys above the board's top element, keeping
    their order (a syncboard file or bundle keeps its own keys). ``board_update``: the board's
    current state (the server's own snapshot, already checked)."""
    if incoming.kind not in FOREIGN_KINDS or not board_update:
        return
    doc = Doc()
    doc.apply_update(board_update)
    top = None
    elements = doc.get("elements", type=Map)
    for element in elements.values():
        z = element.get("z") if isinstance(element, Map) else None
        if isinstance(z, str) and (top is None or z > top):
            top = z
    keys = keys_above(top, len(incoming.board["elements"]))
    for element, key in zip(incoming.board["elements"], keys, strict=True):
        element["z"] = key


def parse_json(raw: bytes | str) -> Any:
    """Parsed JSON. Raises ``ImportRefused`` for bytes that are not JSON, NaN/Infinity, or
    nesting past what the parser takes without recursing too deep."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ImportRefused("$", "invalid JSON: nested too deep (more than about 1,000 "
                                 f"levels; boards need at most {MAX_IMPORT_DEPTH})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused("$", f"invalid JSON: {exc}") from None


def check_structure(raw: bytes) -> None:
    """Refuse, before parsing, a file nested deeper than ``MAX_IMPORT_DEPTH`` or holding more
    than ``MAX_CONTAINERS`` arrays and objects or ``MAX_VALUES`` values. Runs at C speed on
    the raw bytes: strings are cut out, brackets and commas kept, and innermost pairs removed
    one level per round."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    containers = brackets.count(b"[") + brackets.count(b"{")
    if containers > MAX_CONTAINERS:
        raise ImportRefused("$", f"holds {containers} arrays and objects, over the "
                                 f"{MAX_CONTAINERS} limit")
    values = brackets.count(b",") + containers  # a value is followed by "," or a closing bracket
    if values > MAX_VALUES:
        raise ImportRefused("$", f"holds about {values} values, over the {MAX_VALUES} limit")
    brackets = brackets.translate(None, b",")
    for _ in range(MAX_IMPORT_DEPTH):
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return  # unbalanced leftovers are the parser's to report
        brackets = shorter
    if b"[]" in brackets or b"{}" in brackets:
        raise ImportRefused("$", f"nested deeper than {MAX_IMPORT_DEPTH} levels")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
