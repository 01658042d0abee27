"""CheckWorker: the pre-check (``update_check``) of big updates, in a worker process.

A legitimate sync step 2 of many small structs (an offline session of 20,000 rectangles moved
five times: 8.3 MiB, 440,000 structs) takes the pure-Python pre-check about two seconds, and
one near ``--max-step2-bytes`` some fifteen; on the event loop that freezes every board of the
process (BENCHMARKS.md, "Big sync step 2"). An update of at least
``--precheck-worker-bytes`` is therefore checked here, in one worker process (``spawn``: it
shares no state with the server), against a copy of the board's ``TypeDepths``; the room
(``Room``) keeps that board's order meanwhile: what arrives for the board after the update
waits until it is applied, and other boards go on.

Jobs run one at a time; at most ``queue_jobs`` wait behind the running one, and one more is
refused at once with ``CheckWorkerBusy`` (the room closes that peer with 1013, which the stock
client retries). A worker that dies fails its own job with ``CheckWorkerFailed`` (also 1013)
and the next job starts a new one. The worker answers with the ``UpdateSummary`` whose runs
are merged as ``TypeDepths.record`` would merge them, so little comes back to unpickle.

Example::

    worker = CheckWorker(queue_jobs=4)
    summary = await worker.check(update, document.shape)  # raises UpdateRefused
    worker.close()
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .document import BoardDocument
from .update_check import TypeDepths, UpdateRefused, UpdateSummary, check_update
from .worker_pool import start_worker

log = logging.getLogger(__name__)


class CheckWorkerBusy(RuntimeError):
    """A check runs and ``queue_jobs`` wait: this one is refused (the peer gets 1013)."""


class CheckWorkerFailed(OSError):
    """The worker process died during the job (it is replaced for the next one). An
    ``OSError``, as a failed database write is: compaction then leaves the log as it is."""


def check_in_worker(update: bytes, shape: bytes, cut_structs: int) -> UpdateSummary | str:
    """The worker's job: ``check_update(update, pickle.loads(shape), cut_structs)``, its runs
    merged (``merge_runs``); the refusal's message instead of raising it."""
    try:
        summary = check_update(update, pickle.loads(shape), cut_structs)
    except UpdateRefused as exc:
        return str(exc)
    summary.runs = merge_runs(summary.runs)
    return summary


def merge_in_worker(rows: list[bytes]) -> bytes:
    """The worker's compaction job: ``store.merge_updates_into_snapshot(rows)``, without
    importing the store (and SQLAlchemy) into the worker."""
    return BoardDocument.from_updates(rows, skip_undecodable=False).full_update(for_clients=True)


def merge_runs(runs: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """``runs`` (client, clock, length, depth) with each run that continues the one before
    it (same client and depth, next clock) folded into it: what ``TypeDepths.record`` and
    ``outside_comments`` read stays the same."""
    merged: list[tuple[int, int, int, int]] = []
    if not runs:
        return merged
    client, clock, length, depth = runs[0]
    for next_client, next_clock, next_length, next_depth in runs[1:]:
        if next_client == client and next_clock == clock + length and next_depth == depth:
            length += next_length
            continue
        merged.append((client, clock, length, depth))
        client, clock, length, depth = next_client, next_clock, next_length, next_depth
    merged.append((client, clock, length, depth))
    return merged


class CheckWorker:
    """One lazily started worker process for big pre-checks, behind a queue of
    ``queue_jobs``."""

    def __init__(self, queue_jobs: int) -> None:
        self.queue_jobs = queue_jobs
        self.jobs_total = 0
        self.refused_total = 0
        self._admitted = 0
        self._pool: ProcessPoolExecutor | None = None

    @property
    def admitted(self) -> int:
        """Jobs running or waiting."""
        return self._admitted

    async def check(self, update: bytes, shape: TypeDepths,
                    cut_structs: int = 0) -> UpdateSummary:
        """``check_update(update, shape, cut_structs)`` in the worker. ``shape`` is copied
        (pickled) before this returns to the event loop, so it may change afterwards.

        Raises ``UpdateRefused`` as ``check_update`` does, ``CheckWorkerBusy`` at once when
        ``queue_jobs`` jobs wait already, ``CheckWorkerFailed`` if the worker died."""
        if self._admitted >= 1 + self.queue_jobs:
            self.refused_total += 1
            raise CheckWorkerBusy(f"{self._admitted} large edits are being checked or wait "
                                  f"(limit {1 + self.queue_jobs}); retry shortly")
        self._admitted += 1
        try:
            result = await asyncio.wrap_future(
                self._submit(check_in_worker, update, pickle.dumps(shape), cut_structs))
        except BrokenProcessPool:
            log.error("the pre-check worker process died during a job; the next job starts "
                      "a new one")
            self.close()
            raise CheckWorkerFailed("the pre-check worker process died") from None
        finally:
            self._admitted -= 1
        self.jobs_total += 1
        if isinstance(result, str):
            raise UpdateRefused(result)
        return result

    async def merge(self, rows: list[bytes]) -> bytes:
        """``merge_in_worker(rows)`` in the worker (a compaction). Not counted
        against ``queue_jobs``: compactions run one at a time already. Raises ``ValueError``
        as it does, ``CheckWorkerFailed`` if the worker died."""
        try:
            return await asyncio.wrap_future(self._submit(merge_in_worker, rows))
        except BrokenProcessPool:
            log.error("the pre-check worker process died during a compaction; the next job "
                      "starts a new one")
            self.close()
            raise CheckWorkerFailed("the pre-check worker process died") from None

    def close(self) -> None:
        """Stop the worker; jobs not started are cancelled (a running one is abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _submit(self, fn, *args) -> Future:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker)
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:  # it died between jobs: a new one
            self.close()
            return self._submit(fn, *args)
