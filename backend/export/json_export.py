"""JSON export: the board in the schema's export form, elements in paint order."""

from __future__ import annotations

import json

from ..board_model import BoardContent


def render_json(board: BoardContent) -> bytes:
    """UTF-8 JSON, two-space indented, keys in schema order (stable across exports)."""
    return (json.dumps(board.to_json(), ensure_ascii=False, indent=2, allow_nan=False)
            + "\n").encode("utf-8")
