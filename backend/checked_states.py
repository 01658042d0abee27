"""CheckedStates: what ``update_check`` found in version checkpoints already checked, kept so
that exporting another version of the same chain checks only the deltas after it.

A version is read from its chain's checkpoint (the whole board then: megabytes for a big
board) and the deltas after it, merged into one update. Both are walked by
``update_check.check_update`` before pycrdt reads them, as a board's stored rows are at load:
a row can predate the check (issue 18), and a shared type nested 20,000 deep applies but
crashes the reader, an ``Any`` nested 30,000 deep crashes the apply. The walk is pure Python,
about 0.4 s for a 10,000-element checkpoint, and every version of a chain has the same
checkpoint; its outcome is a function of the bytes alone, so it is kept here under a digest
of those bytes: the parent depths of the checkpoint's structs (``TypeDepths``, what its
deltas are checked against). A checkpoint the check refuses is not kept (it is refused again
each time, as it should be).

Held in memory, bounded by the runs the kept depths hold (``max_runs``, 24 bytes each: a
10,000-element board keeps a few tens of thousands), the least recently used dropped first.
Exports read in threads: the table is locked, the checks themselves run outside the lock.

Example::

    checked = CheckedStates()
    depths = checked.depths(checkpoint)  # raises UpdateRefused
    check_update(deltas, depths)
"""

from __future__ import annotations

from .digest_cache import DigestCache
from .update_check import TypeDepths, check_update

DEFAULT_MAX_RUNS = 2_000_000
"""Runs the kept depths may hold together (about 48 MB)."""


class CheckedStates:
    """Parent depths of checkpoints that passed ``check_update``, by digest of their bytes."""

    def __init__(self, max_runs: int = DEFAULT_MAX_RUNS) -> None:
        self.checks_total = 0
        self._kept: DigestCache[TypeDepths] = DigestCache(max_runs,
                                                          lambda depths: depths.run_count)

    @property
    def hits_total(self) -> int:
        """Checkpoints found checked already."""
        return self._kept.hits_total

    def depths(self, update: bytes) -> TypeDepths:
        """The depths of ``update``'s structs once it passed ``check_update`` (checked now
        unless these very bytes were before). Raises ``UpdateRefused`` (a ``ValueError``) as
        ``check_update`` does. The depths returned are shared: check against them, never
        ``record`` into them."""
        key = DigestCache.digest(update)
        kept = self._kept.get(key)
        if kept is not None:
            return kept
        depths = TypeDepths()
        depths.record(check_update(update))
        self.checks_total += 1
        self._kept.keep(key, depths)
        return depths
