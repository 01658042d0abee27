"""read_version: a board at a past version, from its chain's checkpoint and the deltas after
it, each checked before pycrdt sees it; for the JSON export, the checkpoint's elements are
recalled from an earlier read of it (``checkpoint_reads``) and only those the deltas change
are read again."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc

from .board_model import (
    BoardContent,
    BoardModel,
    board_content,
    load_model,
    read_board,
    read_comments,
    read_elements,
    read_meta,
)
from .checkpoint_reads import CheckpointRead, CheckpointReads
from .doc_values import root_map
from .update_check import TypeDepths, check_update


def read_version(checkpoint: bytes, depths: TypeDepths, deltas: bytes | None,
                 reads: CheckpointReads | None = None,
                 model: BoardModel | None = None) -> BoardContent:
    """Read a board at a version: its chain's ``checkpoint``, once checked (``depths``: its
    structs' parent depths, from ``CheckedStates.depths``), then the ``deltas`` after it
    (merged into one update; None for a checkpoint alone), checked against those depths as
    a board's stored rows are at load, each applied in its own transaction.

    ``reads``: recall and keep the checkpoint's elements there (for the JSON export only: the
    element dictionaries returned are shared with later reads). Raises ``ValueError`` as
    ``board_model.read_update``."""
    if deltas is not None:
        check_update(deltas, depths)
    model = model or load_model()
    key = reads.digest(checkpoint) if reads is not None else b""
    kept = reads.get(key) if reads is not None else None
    if kept is not None and deltas is None:
        return board_content(kept.meta, kept.elements, kept.comments, model, kept.lines)
    doc = Doc()
    doc.apply_update(checkpoint)
    if reads is None:
        if deltas is not None:
            doc.apply_update(deltas)
        return read_board(doc, model)
    if kept is None:
        kept = CheckpointRead(read_elements(doc, model), read_meta(doc, model),
                              read_comments(doc, model))
        reads.keep(key, kept)
    if deltas is None:
        return board_content(kept.meta, kept.elements, kept.comments, model, kept.lines)
    touched = _apply_watching(doc, deltas)
    if touched is None:  # no elements map to watch
        return read_board(doc, model)
    elements = dict(kept.elements)
    for element_key in touched:
        elements.pop(element_key, None)
    elements.update(read_elements(doc, model, sorted(touched)))
    return board_content(read_meta(doc, model), elements, read_comments(doc, model), model,
                         kept.lines)


def _apply_watching(doc: Doc, update: bytes) -> set[str] | None:
    """Apply ``update`` to ``doc``; return the keys of the elements map whose entry or
    content it changed (None, and nothing watched, when the root is not a map)."""
    elements = root_map(doc, "elements")
    if elements is None:
        doc.apply_update(update)
        return None
    touched = _Touched()
    subscription = elements.observe_deep(touched.note)
    try:
        doc.apply_update(update)
    finally:
        elements.unobserve(subscription)
    return touched.keys


class _Touched:
    """A deep observer of the elements map that keeps only key strings (nothing that holds
    the document: pycrdt keeps an observer after ``unobserve``)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def note(self, events: list[Any]) -> None:
        for event in events:
            path = event.path
            if path:
                self.keys.add(str(path[0]))
            else:
                self.keys.update(event.keys)
