"""CheckedStates: what ``update_check`` found in version checkpoints already checked, kept so
that exporting another version of the same chain checks only the deltas after it, and kept
with the checkpoint's row so that the first export after a restart does not check it again.

A version is read from its chain's checkpoint (the whole board then: megabytes for a big
board) and the deltas after it, merged into one update. Both are walked by
``update_check.check_update`` before pycrdt reads them, as a board's stored rows are at load:
a row can predate the check (issue 18), and a shared type nested 20,000 deep applies but
crashes the reader, an ``Any`` nested 30,000 deep crashes the apply. The walk is pure Python,
about 0.5 s for a 10,000-element checkpoint, and every version of a chain has the same
checkpoint; its outcome is a function of the bytes alone (and of the check's rules): the
parent depths of the checkpoint's structs (``TypeDepths``, what its deltas are checked
against). A checkpoint the check refuses is not kept (it is refused again each time, as it
should be).

Two places keep that outcome:

- in memory, under a digest of the bytes, bounded by the runs the kept depths hold
  (``max_runs``, 24 bytes each: a 10,000-element board keeps a few tens of thousands), the
  least recently used dropped first. Exports read in threads: the table is locked, the
  checks themselves run outside the lock;
- in the database, as the row's ``checked`` mark (``checked_mark``): the depths (deflated),
  after a 256-bit BLAKE2b digest of the check's rules, the checkpoint's inflated bytes and
  those deflated depths. Only the server writes it, for bytes it checked itself: the history
  writer after recording or folding a checkpoint (``mark_stored_checkpoint``, in the history
  worker), an export that had to check one (``Checked.mark``). ``depths_of_mark`` trusts a mark only
  when the digest matches the bytes read now, so a row written before the marks existed
  (NULL), changed outside the server, or marked under other rules is checked again; a
  client shapes the bytes but not the mark, and forging one for other bytes is a BLAKE2b
  collision. (Whoever can write the database can write any row, checked or not: the mark
  holds against changed rows, not against a forger with write access; see SECURITY.md.)

Example::

    checked = CheckedStates()
    found = checked.checked(checkpoint, row_mark)  # raises UpdateRefused
    check_update(deltas, found.depths)
    if found.mark is not None:  # checked now: keep it with the row
        ...
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass

from . import update_check
from .digest_cache import DigestCache
from .update_check import TypeDepths, check_update
from .version_rows import readable_row

DEFAULT_MAX_RUNS = 2_000_000
"""Runs the kept depths may hold together (about 48 MB)."""
CHECK_REVISION = 1
"""Bump when ``update_check`` changes what it refuses or what ``TypeDepths`` holds: every
stored mark then stops matching and each checkpoint is checked again at its next read."""
CHECK_RULES = (f"syncboard update_check r{CHECK_REVISION} any{update_check.MAX_ANY_DEPTH} "
               f"type{update_check.MAX_TYPE_DEPTH} clients{update_check.MAX_CLIENTS} "
               f"structs{update_check.MAX_STRUCTS_BASE}+{update_check.MAX_STRUCTS_PER_BYTE} "
               f"gaps{update_check.MAX_ADJACENT_GAPS} "
               f"copy{update_check.MAX_MERGE_COPY_BYTES}/{update_check.ANY_VALUE_COPY_BYTES}"
               ).encode()
"""What a stored mark is bound to besides the bytes: the check's limits and revision."""
_DIGEST_BYTES = 32


@dataclass(frozen=True)
class Checked:
    """A checkpoint that passed the check: its structs' parent ``depths`` (shared: check
    against them, never ``record`` into them), and the ``mark`` to store with its row when
    the one it had did not vouch for these bytes (None: the row's mark is good)."""

    depths: TypeDepths
    mark: bytes | None


class CheckedStates:
    """Parent depths of checkpoints that passed ``check_update``, by digest of their bytes."""

    def __init__(self, max_runs: int = DEFAULT_MAX_RUNS) -> None:
        self.checks_total = 0
        """Checkpoints walked by ``check_update`` (neither kept here nor vouched for),
        refused ones included."""
        self.marks_trusted_total = 0
        """Checkpoints whose stored mark matched their bytes (not walked)."""
        self._kept: DigestCache[TypeDepths] = DigestCache(max_runs,
                                                          lambda depths: depths.run_count)

    @property
    def hits_total(self) -> int:
        """Checkpoints found checked already, in memory."""
        return self._kept.hits_total

    def depths(self, update: bytes) -> TypeDepths:
        """The depths of ``update``'s structs once it passed ``check_update`` (checked now
        unless these very bytes were before). Raises ``UpdateRefused`` (a ``ValueError``) as
        ``check_update`` does. The depths returned are shared."""
        return self.checked(update, None).depths

    def checked(self, update: bytes, mark: bytes | None) -> Checked:
        """``depths``, also trusting ``mark`` (the row's ``checked``, None if it has none)
        when it vouches for these very bytes; ``Checked.mark`` is what to store when it
        did not. Raises ``UpdateRefused`` as ``check_update`` does."""
        key = DigestCache.digest(update)
        kept = self._kept.get(key)
        vouched = depths_of_mark(update, mark) if mark is not None and kept is None else None
        if vouched is not None:
            self.marks_trusted_total += 1
            self._kept.keep(key, vouched)
            return Checked(vouched, None)
        if kept is not None:
            # Checked by this process for an earlier export: a row without a mark gets one
            # (a row whose mark does not match keeps it, and is checked after a restart).
            return Checked(kept, checked_mark(update, kept) if mark is None else None)
        self.checks_total += 1
        kept = TypeDepths()
        kept.record(check_update(update))
        self._kept.keep(key, kept)
        return Checked(kept, checked_mark(update, kept))


def checked_mark(update: bytes, depths: TypeDepths) -> bytes:
    """The ``checked`` mark of a checkpoint ``update`` that passed ``check_update`` with
    these ``depths``: the digest, then the depths (``TypeDepths.to_bytes``, deflated: a
    10,000-element board's 648 KB take 100 KB)."""
    blob = zlib.compress(depths.to_bytes(), 1)
    return _digest(update, blob) + blob


def depths_of_mark(update: bytes, mark: bytes) -> TypeDepths | None:
    """The depths ``mark`` holds if it was made for these very bytes under today's rules;
    None otherwise (check the bytes again)."""
    blob = mark[_DIGEST_BYTES:]
    if len(mark) <= _DIGEST_BYTES or \
            not hmac.compare_digest(mark[:_DIGEST_BYTES], _digest(update, blob)):
        return None
    try:  # inflated only once the digest vouched for it: a mark this module wrote
        return TypeDepths.from_bytes(zlib.decompress(blob))
    except (ValueError, zlib.error):  # cannot happen for a mark this module wrote
        return None


def mark_stored_checkpoint(data: bytes) -> bytes:
    """The mark of a stored checkpoint row (``version_rows.pack``), checked now (the history
    writer's job, in the history worker) in the form exports check (``Y.XmlHook`` types as
    maps). Raises ``ValueError``: not a packed row, or ``UpdateRefused`` as ``check_update``
    does."""
    update = readable_row(data)  # the form exports check (hooks as maps)
    depths = TypeDepths()
    depths.record(check_update(update))
    return checked_mark(update, depths)


def _digest(update: bytes, blob: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=_DIGEST_BYTES, person=b"syncboard-chk")
    for part in (CHECK_RULES, update, blob):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.digest()
