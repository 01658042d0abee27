"""HistoryWorker: rebuilding versions and building restores in a worker process.

Rebuilding a version of a 10,000-element board (a checkpoint merged with hundreds of deltas)
and building a restore (the version, what changed since applied under an observer, the
changes set back) take pycrdt from a few hundred milliseconds to a second, and pycrdt holds
the GIL all along: run in a thread, that time is taken from the event loop, and every board
of the process stalls. Here it runs in one worker process (started with ``spawn``, so it
shares no state with the server). The rows go to it deflated, as stored, and it inflates them
itself.

The worker starts at the first ``warm_up`` or job and stays for the next. A worker that dies
(the OOM killer) fails the jobs it had; the next job starts a new one. Jobs queue in the
pool: one restore or preview at a time per process, which on a 2-core machine is what the
CPU allows anyway.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .restore import build_restore_update
from .version_rows import chain_updates, rebuild_state

log = logging.getLogger(__name__)


class HistoryWorkerFailed(RuntimeError):
    """The worker process died during the job (it is replaced for the next one)."""


class HistoryWorker:
    """One lazily started worker process for the history's CPU-heavy pycrdt work."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.jobs_total = 0

    def warm_up(self) -> None:
        """Start the worker now (it takes a second to import pycrdt) if it is not running:
        listing versions comes before a preview or a restore."""
        self._submit(_ready)

    async def rebuild(self, rows: Sequence[bytes]) -> bytes:
        """``version_rows.rebuild_state(rows)`` in the worker. Raises ``ValueError`` for a row
        that cannot be decoded, ``HistoryWorkerFailed`` if the worker died."""
        return await self._run(rebuild_state, list(rows))

    async def restore(self, rows: Sequence[bytes], since: bytes,
                      element_ids: Iterable[str] | None,
                      live_keys: dict[str, list[str]] | None = None) -> tuple[bytes, int]:
        """``restore.build_restore_update`` of the version ``rows`` rebuild, in the worker
        (``live_keys``: ``restore.live_keys`` of the live board). Raises as ``rebuild``."""
        ids = list(element_ids) if element_ids is not None else None
        return await self._run(_restore, list(rows), since, ids, live_keys)

    def close(self) -> None:
        """Stop the worker; jobs not started are cancelled (a running one is abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _run(self, fn, *args):
        self.jobs_total += 1
        future = self._submit(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.error("the history worker process died during a job; the next job starts "
                      "a new one")
            self.close()
            raise HistoryWorkerFailed("the history worker process died (see the server "
                                      "log)") from None

    def _submit(self, fn, *args) -> Future:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:  # it died between jobs: a new one
            self.close()
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool.submit(fn, *args)


def _ready() -> None:
    """The warm-up job: importing this module in the worker is the point."""


def _restore(rows: list[bytes], since: bytes, element_ids: list[str] | None,
             live_keys: dict[str, list[str]] | None) -> tuple[bytes, int]:
    return build_restore_update(chain_updates(rows), since, element_ids, live_keys)
