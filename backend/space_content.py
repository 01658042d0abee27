"""What a space reads from and writes into a board's content: the searchable text, a title
change, the thumbnail's view.

Pure functions of the board model (``board_model.BoardContent``) and of Yjs updates; the
space indexer runs them in a thread, off the sync path.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from .board_model import BoardContent
from .export import ExportOptions
from .export.svg import fit_view
from .update_check import check_update

MAX_TITLE_CHARS = 200
"""As ``meta.title`` in shared/board.schema.json."""
_TEXT_FIELDS = ("text", "label", "name")  # notes and text elements, labels, frame names
THUMBNAIL_ASPECT = 5 / 8
THUMBNAIL_MARGIN = 16.0


def searchable_text(content: BoardContent) -> tuple[str, str]:
    """``(title, body)``: the board's title, and the title followed by every element's text
    (notes, text elements, labels, frame names), one per line, in z order."""
    title = _string(content.meta.get("title"))[:MAX_TITLE_CHARS]
    parts = [title] + [_string(element.get(name)) for element in content.elements
                       for name in _TEXT_FIELDS]
    return title, "\n".join(part for part in parts if part)


def title_update(snapshot: bytes, title: str) -> bytes:
    """One Yjs update setting ``meta.title`` to ``title`` on top of ``snapshot`` (the board's
    current state, so it wins). Raises ``ValueError`` if the snapshot cannot be decoded."""
    check_update(snapshot)
    doc = Doc()
    doc.apply_update(snapshot)
    before = doc.get_state()
    meta = doc.get("meta", type=Map)
    with doc.transaction():
        meta["title"] = title[:MAX_TITLE_CHARS]
    return doc.get_update(before)


def thumbnail_options(content: BoardContent, width_px: int) -> ExportOptions:
    """Export options that draw the whole board into ``width_px`` x 5/8 of it: the
    content's box widened to that aspect ratio, centred."""
    box = fit_view(content, THUMBNAIL_MARGIN)
    w, h = box.w, box.h
    if h / w > THUMBNAIL_ASPECT:
        w = h / THUMBNAIL_ASPECT
    else:
        h = w * THUMBNAIL_ASPECT
    x, y = box.x - (w - box.w) / 2, box.y - (h - box.h) / 2
    return ExportOptions(region=(x, y, w, h), scale=width_px / w)


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
