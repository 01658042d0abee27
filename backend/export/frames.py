"""Exporting part of a board: one frame (shared/BOARD.md, "Frames": the frame and the elements it
holds through ``frameId``, framed by the frame's box) or a selection (the listed elements only).

Connectors are routed on the whole board first, then pinned to that route, so one bound to a
shape left out is still drawn where the board draws it, and no renderer routes it again against
a board that lacks its target. The route has the whole-board JSON export's form
(``routing.with_routed_geometry``; shared/BOARD.md, "Connectors as drawn": ``x, y`` its first
routed point, ``points`` from 0, 0), so a connector's geometry in a part's JSON, bundle or
Excalidraw export is the one the board's export gives it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from ..board_model import BoardContent
from .routing import CONNECTOR_TYPES, with_routed_geometry


class NotOnBoard(LookupError):
    """The board has no frame with that id, or none of the selected elements."""


def frame_content(content: BoardContent, frame_id: str
                  ) -> tuple[BoardContent, tuple[float, float, float, float]]:
    """The frame's own content and its box ``(x, y, w, h)``. Raises ``NotOnBoard``."""
    frame = next((e for e in content.elements if e["id"] == frame_id and e["type"] == "frame"),
                 None)
    if frame is None:
        raise NotOnBoard(f"no frame {frame_id!r} on this board")
    held = [_pinned(e) for e in with_routed_geometry(content.elements)
            if e["id"] == frame_id or e.get("frameId") == frame_id]
    return replace(content, elements=held), (frame["x"], frame["y"], max(frame["w"], 1.0),
                                             max(frame["h"], 1.0))


def selected_content(content: BoardContent, ids: Collection[str]) -> BoardContent:
    """The board with only the elements named in ``ids`` (their labels are their own fields,
    so they come along), in paint order, and only the comment threads on them. Ids the board
    does not have are ignored; raises ``NotOnBoard`` when it has none of them."""
    held = [_pinned(e) for e in with_routed_geometry(content.elements) if e["id"] in ids]
    if not held:
        raise NotOnBoard(f"none of the {len(ids)} selected elements is on this board")
    kept = {e["id"] for e in held}
    return replace(content, elements=held,
                   comments=[t for t in content.comments if t.get("elementId") in kept])


def _pinned(element: dict[str, Any]) -> dict[str, Any]:
    """A routed connector drawn along the points it has now, bound to nothing."""
    if element["type"] not in CONNECTOR_TYPES:
        return element
    return {**element, "startBindId": "", "endBindId": "", "routing": "straight"}
