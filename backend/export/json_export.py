"""JSON export: the board in the schema's export form, elements in paint order, connectors
with their geometry as drawn (``routing.with_routed_geometry``; shared/BOARD.md, "JSON export
form")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..board_model import BoardContent
from .routing import CONNECTOR_TYPES, with_routed_geometry

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
"""One encoder for every piece: ``json.dumps`` with options builds a new one per call."""


def render_json(board: BoardContent) -> bytes:
    """UTF-8 JSON with one element per line (diff-friendly), keys in schema order.

    Each piece goes through the C encoder (``indent`` would force the pure-Python one, about
    ten times slower on a 10,000-element board).
    """
    dump = _ENCODER.encode
    kept = board.lines
    if kept is None:
        lines = ",\n".join(["  " + dump(element)
                            for element in with_routed_geometry(board.elements)])
    else:
        lines = ",\n".join([_line(element, kept, dump)
                            for element in with_routed_geometry(board.elements)])
    body = f"\n{lines}\n" if lines else ""
    comments = ""
    if board.comments:  # one thread per line, as elements
        threads = ",\n".join("  " + dump(thread) for thread in board.comments)
        comments = f',\n "comments": [\n{threads}\n]'
    text = (f'{{"schemaVersion": {dump(board.version)},\n "meta": {dump(board.meta)},\n'
            f' "elements": [{body}]{comments}}}\n')
    return text.encode("utf-8")


def _line(element: dict[str, Any], kept: dict[str, tuple[dict[str, Any], str]],
          dump: Callable[[Any], str]) -> str:
    """One element's line, from ``kept`` if it was rendered from this very dictionary
    (``BoardContent.lines``); kept for next time unless the id has a line already. A
    connector's line depends on its targets: never kept."""
    if element["type"] in CONNECTOR_TYPES:
        return "  " + dump(element)
    found = kept.get(element["id"])
    if found is not None and found[0] is element:
        return found[1]
    line = "  " + dump(element)
    if found is None:
        kept[element["id"]] = (element, line)
    return line
