"""Exporting one frame (shared/BOARD.md, "Frames"): the frame and the elements it holds
(``frameId``), framed by the frame's box. Connectors are routed on the whole board first, so one
bound to a shape outside the frame is still drawn where the board draws it."""

from __future__ import annotations

from dataclasses import replace

from ..board_model import BoardContent
from .routing import routed_elements


class FrameNotFound(LookupError):
    """The board has no frame with that id."""


def frame_content(content: BoardContent, frame_id: str
                  ) -> tuple[BoardContent, tuple[float, float, float, float]]:
    """The frame's own content and its box ``(x, y, w, h)``. Raises ``FrameNotFound``."""
    frame = next((e for e in content.elements if e["id"] == frame_id and e["type"] == "frame"),
                 None)
    if frame is None:
        raise FrameNotFound(f"no frame {frame_id!r} on this board")
    held = [e for e in routed_elements(content.elements)
            if e["id"] == frame_id or e.get("frameId") == frame_id]
    return replace(content, elements=held), (frame["x"], frame["y"], max(frame["w"], 1.0),
                                             max(frame["h"], 1.0))
