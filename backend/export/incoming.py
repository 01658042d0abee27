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
from typing import Any

from ..board_model import load_model, validate_board_json
from .bundle import is_bundle, read_bundle
from .excalidraw import is_excalidraw, read_excalidraw
from .mapping import FileLimits, ImportRefused, Incoming
from .tldraw import is_tldraw, read_tldraw

MAX_IMPORT_DEPTH = 64
"""Deepest nesting of arrays and objects in an import file (a board needs 4, a tldraw rich
text a dozen)."""


def read_import(raw: bytes | str, limits: FileLimits) -> Incoming:
    """The board, images and approximations of an import file. Raises ``ImportRefused``
    naming the JSON path and what is wrong (nothing has been written anywhere)."""
    data = parse_json(raw)
    depth = nesting_depth(data)
    if depth > MAX_IMPORT_DEPTH:
        raise ImportRefused("$", f"nested deeper than {MAX_IMPORT_DEPTH} levels")
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
        raise ImportRefused("$", "not a board file: expected a syncboard export "
                                 "(\"schemaVersion\"), a syncboard bundle, an Excalidraw "
                                 "scene (\"type\": \"excalidraw\") or a tldraw file "
                                 "(\"tldrawFileFormatVersion\")")
    violations = validate_board_json(incoming.board)
    if violations:
        where = "" if incoming.kind == "syncboard" else \
            f" (in the board made from {incoming.kind} content)"
        first = violations[0]
        path = "$.board" + first.path[1:] if incoming.kind == "bundle" else first.path
        raise ImportRefused(path, first.message + where)
    return incoming


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


def nesting_depth(value: Any) -> int:
    """How deep arrays and objects nest in parsed JSON, counted up to just past
    ``MAX_IMPORT_DEPTH`` (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if depth > MAX_IMPORT_DEPTH:
                break
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
