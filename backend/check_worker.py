"""CheckWorker: the pre-check (``update_check``) of big updates, in a worker process.

A legitimate sync step 2 of many small structs (an offline session of 20,000 rectangles moved
five times: 8.3 MiB, 440,000 structs) takes the pure-Python pre-check about two seconds, and
one near ``--max-step2-bytes`` some fifteen; on the event loop that freezes every board of the
process (BENCHMARKS.md, "Big sync step 2"). An update of at least
``--precheck-worker-bytes`` is therefore checked here, in one worker process (``spawn``: it
shares no state with the server), against a copy of the board's ``TypeDepths``; the room
(``Room``) keeps that board's order meanwhile: what arrives for the board after the update
waits until it is applied, and other boards go on.

Jobs run one at a time and only the running one is in the worker: at most ``queue_jobs`` wait
here behind it, and one more is refused at once with ``CheckWorkerBusy`` (the room closes that
peer with 1013, which the stock client retries). A check that runs past ``timeout_s``
(``--precheck-timeout-s``, counted from when the job reaches a started worker) has its worker
killed and fails with ``CheckWorkerTimeout`` (the room closes that peer with 1007, as for an
update over another pre-check limit; nothing of it is applied). A worker that dies fails its
own job with ``CheckWorkerFailed`` (1013). Either way only that job fails: the jobs waiting
behind it go on in a new worker. The worker answers with the ``UpdateSummary`` whose runs are
merged as ``TypeDepths.record`` would merge them, so little comes back to unpickle.

Example::

    worker = CheckWorker(queue_jobs=4, timeout_s=60)
    summary = await worker.check(update, document.shape)  # raises UpdateRefused
    worker.close()
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .document import BoardDocument
from .update_check import TypeDepths, UpdateRefused, UpdateSummary, check_update
from .worker_pool import kill_pool, start_worker, submit_if_alive

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
"""Longest a new worker may take to start (importing pycrdt; not counted in a check's time
limit)."""


class CheckWorkerBusy(RuntimeError):
    """A check runs and ``queue_jobs`` wait: this one is refused (the peer gets 1013)."""


class CheckWorkerFailed(OSError):
    """The worker process died during the job (it is replaced for the next one). An
    ``OSError``, as a failed database write is: compaction then leaves the log as it is."""


class CheckWorkerTimeout(RuntimeError):
    """The check ran past ``timeout_s``; its worker was killed (and is replaced for the next
    job). The peer is closed with 1007: the update is refused, nothing of it is applied."""


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
    ``queue_jobs``, each check stopped past ``timeout_s``."""

    def __init__(self, queue_jobs: int, timeout_s: float = 60.0) -> None:
        self.queue_jobs = queue_jobs
        self.timeout_s = timeout_s
        self.jobs_total = 0
        self.refused_total = 0
        self.timeouts_total = 0
        self._admitted = 0
        self._turn = asyncio.Lock()  # the one job in the worker holds it
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future | None = None  # the current pool's start-up job

    @property
    def admitted(self) -> int:
        """Jobs running or waiting."""
        return self._admitted

    async def check(self, update: bytes, shape: TypeDepths,
                    cut_structs: int = 0) -> UpdateSummary:
        """``check_update(update, shape, cut_structs)`` in the worker, after the jobs admitted
        before it. ``shape`` is copied (pickled) before this returns to the event loop, so it
        may change afterwards.

        Raises ``UpdateRefused`` as ``check_update`` does, ``CheckWorkerBusy`` at once when
        ``queue_jobs`` jobs wait already, ``CheckWorkerTimeout`` past ``timeout_s`` (the
        worker is killed), ``CheckWorkerFailed`` if the worker died."""
        if self._admitted >= 1 + self.queue_jobs:
            self.refused_total += 1
            raise CheckWorkerBusy(f"{self._admitted} large edits are being checked or wait "
                                  f"(limit {1 + self.queue_jobs}); retry shortly")
        self._admitted += 1
        try:
            copied = pickle.dumps(shape)
            async with self._turn:
                result = await self._run(self.timeout_s, check_in_worker, update, copied,
                                         cut_structs)
        finally:
            self._admitted -= 1
        self.jobs_total += 1
        if isinstance(result, str):
            raise UpdateRefused(result)
        return result

    async def merge(self, rows: list[bytes]) -> bytes:
        """``merge_in_worker(rows)`` in the worker (a compaction), in turn with the checks.
        Not counted against ``queue_jobs`` (compactions run one at a time already) and not
        under ``timeout_s`` (a compaction is the server's own work; a slow one holds only
        the checks behind it). Raises ``ValueError`` as it does, ``CheckWorkerFailed`` if the
        worker died."""
        async with self._turn:
            return await self._run(None, merge_in_worker, rows)

    def close(self) -> None:
        """Stop the worker: an idle one is asked to exit (a killed idle worker sometimes left
        the pool's manager thread hanging at interpreter exit, 30 s under load), a busy one
        is killed and its job fails with ``CheckWorkerFailed``. A later job starts a new
        one."""
        if self._pool is None:
            return
        if self._turn.locked():
            self._discard(self._pool)
        else:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._ready = None

    async def _run(self, timeout_s: float | None, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the worker (the caller holds ``_turn``). Raises
        ``CheckWorkerTimeout`` past ``timeout_s`` (None: no limit), ``CheckWorkerFailed``
        when the worker died or could not start; the worker is then discarded."""
        pool = await self._ready_pool()
        future = submit_if_alive(pool, fn, *args)
        if future is None:  # it died between jobs: this job runs in a new one
            self._discard(pool)
            pool = await self._ready_pool()
            future = pool.submit(fn, *args)
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            self._discard(pool)
            self.timeouts_total += 1
            log.warning("a pre-check ran past %g s (--precheck-timeout-s); its worker was "
                        "killed, the next job starts a new one", timeout_s)
            raise CheckWorkerTimeout(
                f"checking this update took longer than {timeout_s:g} s (the server's "
                "--precheck-timeout-s); it was not applied") from None
        except BrokenProcessPool:
            self._discard(pool)
            log.error("the pre-check worker process died during a job; the next job starts "
                      "a new one")
            raise CheckWorkerFailed("the pre-check worker process died") from None
        except asyncio.CancelledError:
            self._discard(pool)  # a job left running would hold up the next ones
            raise

    async def _ready_pool(self) -> ProcessPoolExecutor:
        """The current worker, started if there is none, once it has imported pycrdt."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker)
            self._ready = self._pool.submit(_ready)
        pool, ready = self._pool, self._ready
        assert ready is not None
        try:  # shielded: a cancelled job must not cancel the start-up other jobs await
            async with asyncio.timeout(START_TIMEOUT_S):
                await asyncio.shield(asyncio.wrap_future(ready))
        except (TimeoutError, BrokenProcessPool):
            self._discard(pool)  # died between jobs, or never started: the next job retries
            log.error("the pre-check worker process did not start")
            raise CheckWorkerFailed("the pre-check worker process did not start") from None
        return pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s worker and forget ``pool`` if it is still the current one."""
        kill_pool(pool)
        if self._pool is pool:
            self._pool = None
            self._ready = None


def _ready() -> None:
    """The warm-up job: importing this module in the worker is the point."""
