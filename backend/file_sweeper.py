"""FileSweeper: deletes uploaded images that no board names any more (issue 18.14).

Images are stored once, by SHA-256, outside the CRDT (``files`` table); image elements name
them by ``fileId``. Every ``--file-sweep-interval-s`` the sweeper

1. flushes the write queue, so the database holds every accepted update;
2. reads the boards updated since it last read them and records the file ids their stored
   bytes name (``board_file_refs``): a fileId is a 64-character hex string, which a Yjs v1
   update stores whole after its length byte (``@``), so a byte search finds every one without
   decoding the document (no pycrdt, nothing to recurse). Deleted content still in the log
   keeps its files until compaction drops it: the search may keep a file longer, never
   shorter;
3. marks the files no board names as orphans, and deletes those that stayed orphaned for
   ``--file-grace-s``.

An upload's file is an orphan until the image element naming it is stored, and is deleted
only after a whole grace period of that (an upload of the same bytes starts it over); the
grace also covers an image deleted and then brought back by undo.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from .registry import BoardRegistry
from .store import Store

log = logging.getLogger(__name__)

_FILE_ID_IN_UPDATE = re.compile(rb"@([0-9a-f]{64})")


def file_ids_named(stored: list[bytes]) -> set[str]:
    """File ids (SHA-256 hex) named by the strings of stored Yjs v1 updates."""
    return {match.group(1).decode() for data in stored
            for match in _FILE_ID_IN_UPDATE.finditer(data)}


class FileSweeper:
    """The periodic sweep of one server process (several processes may sweep one database:
    each step is idempotent)."""

    def __init__(self, store: Store, registry: BoardRegistry, grace_s: float,
                 interval_s: float) -> None:
        self.store = store
        self.registry = registry
        self.grace_s = grace_s
        self.interval_s = interval_s
        self.deleted_total = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def sweep(self, now: float | None = None) -> list[str]:
        """One sweep; returns the ids of the files it deleted."""
        await self.registry.writer.flush()
        for board_id in await self.store.boards_changed_since_file_scan():
            scanned_at = time.time()  # before reading: a later write makes it stale again
            named = file_ids_named(await self.store.load_updates(board_id))
            await self.store.save_file_refs(board_id, named, scanned_at)
            await asyncio.sleep(0)  # one board at a time, the loop serves others between
        deleted = await self.store.collect_files(time.time() if now is None else now,
                                                 self.grace_s)
        self.deleted_total += len(deleted)
        if deleted:
            log.info("deleted %d image file(s) no board named for %.0f s", len(deleted),
                     self.grace_s)
        return deleted

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception:  # a failed sweep deletes nothing; the next one retries
                log.exception("image file sweep failed; retrying in %.0f s", self.interval_s)
