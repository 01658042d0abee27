"""CheckpointReads: the elements of version checkpoints as read for an earlier JSON export,
kept so that exporting another version of the same chain reads only what its deltas change.

A version is its chain's checkpoint (the whole board then) plus the deltas after it, and
every version of a chain shares that checkpoint. Reading a 10,000-element board into the
export form (pycrdt's values of every element, then the schema's rules) takes about 0.35 s of
CPU; the deltas of a version typically touch a few hundred elements. So the checkpoint's
elements are kept here, read once, by a digest of its bytes, and ``version_read.read_version``
re-reads only the element keys the deltas' changes reach (seen by a deep observer while
they are applied). The checkpoint is still checked and applied every time: the kept form
replaces reading it, never checking it.

The kept dictionaries are shared between exports: only the JSON export uses them, which
copies what it changes (``routing.with_routed_geometry``, ``frames``), and keeps the JSON
line of each element it renders from one (``BoardContent.lines``). Held in memory,
bounded by the elements kept (``max_elements``), least recently used dropped first; reads
run in threads, so the table is locked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .digest_cache import DigestCache

DEFAULT_MAX_ELEMENTS = 20_000
"""Elements the kept checkpoints may hold together (two reads of a 10,000-element board,
elements and JSON lines: 28 to 33 MB each, measured; BENCHMARKS.md, "Version history")."""


@dataclass(frozen=True)
class CheckpointRead:
    """One checkpoint read: each element key in the map's order and its export form (None:
    skipped), the meta and the comment threads as ``read_board`` reads them."""

    elements: dict[str, dict[str, Any] | None]
    meta: dict[str, Any]
    comments: list[dict[str, Any]]
    lines: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    """JSON lines of its elements as rendered (``BoardContent.lines``)."""


class CheckpointReads(DigestCache[CheckpointRead]):
    """``CheckpointRead`` of checkpoints by digest of their bytes, at most ``max_elements``
    elements in all."""

    def __init__(self, max_elements: int = DEFAULT_MAX_ELEMENTS) -> None:
        super().__init__(max_elements, lambda read: len(read.elements))
