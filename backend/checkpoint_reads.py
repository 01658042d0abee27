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

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

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


class CheckpointReads:
    """``CheckpointRead`` of checkpoints by digest of their bytes."""

    def __init__(self, max_elements: int = DEFAULT_MAX_ELEMENTS) -> None:
        self.max_elements = max_elements
        self.hits_total = 0
        self._kept: OrderedDict[bytes, CheckpointRead] = OrderedDict()
        self._elements = 0
        self._lock = threading.Lock()

    @staticmethod
    def digest(checkpoint: bytes) -> bytes:
        """The key of a checkpoint's bytes."""
        return hashlib.blake2b(checkpoint, digest_size=16).digest()

    def get(self, key: bytes) -> CheckpointRead | None:
        """The read kept under ``key``, if any (shared: never change it)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits_total += 1
            return kept

    def keep(self, key: bytes, read: CheckpointRead) -> None:
        """Keep ``read`` under ``key`` (not if it alone is over ``max_elements``)."""
        size = len(read.elements)
        with self._lock:
            if key in self._kept or size > self.max_elements:
                return
            self._kept[key] = read
            self._elements += size
            while self._elements > self.max_elements:
                _key, dropped = self._kept.popitem(last=False)
                self._elements -= len(dropped.elements)
