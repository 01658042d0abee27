"""HistoryWorker: rebuilding versions and building restores in a worker process, with a
queue bound and a time limit per job.

Rebuilding a version of a 10,000-element board (a checkpoint merged with hundreds of deltas)
and building a restore (the version, what changed since applied under an observer, the
changes set back) take pycrdt from a few hundred milliseconds to a second, and pycrdt holds
the GIL all along: run in a thread, that time is taken from the event loop, and every board
of the process stalls. Here it runs in one worker process (started with ``spawn``, so it
shares no state with the server). The rows go to it deflated, as stored, and it inflates them
itself; a version that is one checkpoint alone is only inflated, in a thread (zlib lets go
of the GIL).

The worker starts at the first ``warm_up`` or job and stays for the next. Jobs run one at a
time (on a 2-core machine that is what the CPU allows anyway) and only the running one is in
the worker: the others wait here, at most ``queue_jobs`` of them; one more is refused at once
with ``HistoryWorkerBusy`` (HTTP 503 with ``Retry-After``) rather than holding its rows in
memory without bound. A job that runs past ``timeout_s`` has its worker killed
(``HistoryWorkerTimeout``); the worker's address space is capped at ``memory_bytes``
(``RLIMIT_AS``, ``--history-worker-memory-bytes``), and a job that needs more (a
``MemoryError``, or the process aborted by pycrdt's Rust allocator) fails with
``HistoryWorkerOutOfMemory``; a worker that dies otherwise (the OOM killer) fails its job
with ``HistoryWorkerFailed``. Either way only that job fails and the next starts a new
worker. ``close`` kills the worker, so a running job never holds up the server's exit.

Example::

    worker = HistoryWorker(queue_jobs=8, timeout_s=60, memory_bytes=2 << 30)
    state = await worker.rebuild(rows)
    worker.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .checked_states import mark_stored_checkpoint
from .memory import OutOfMemory, near_address_space_cap, or_out_of_memory
from .restore import build_restore_update
from .version_rows import readable_chain, readable_row, rebuild_for_clients, rebuild_state
from .worker_pool import exit_codes, kill_pool, start_worker, submit_if_alive

log = logging.getLogger(__name__)
_T = TypeVar("_T")

START_TIMEOUT_S = 60.0
"""Longest a new worker may take to start (not counted in a job's time limit)."""
MARK_AFTER_QUIET_S = 5.0
"""A checkpoint's check for its mark (``mark_checkpoint``) waits until no job has run for
this long: about half a second of the worker for a 10,000-element board, which a restore
asked for meanwhile would wait behind."""


class HistoryWorkerFailed(RuntimeError):
    """The worker process died during the job, or is stopping (HTTP 503)."""


class HistoryWorkerTimeout(RuntimeError):
    """The job ran past the time limit; its worker was killed (HTTP 504)."""


class HistoryWorkerOutOfMemory(RuntimeError):
    """The job needed more than the worker's memory cap; its worker was replaced (HTTP 422:
    the same job would fail again)."""


class HistoryWorkerBusy(RuntimeError):
    """A job runs and the queue is full; ``retry_after_s`` is a fair wait (HTTP 503)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class HistoryWorker:
    """One lazily started worker process for the history's CPU-heavy pycrdt work."""

    def __init__(self, queue_jobs: int, timeout_s: float, memory_bytes: int = 0) -> None:
        self.queue_jobs = queue_jobs
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self.jobs_total = 0
        self.refused_total = 0
        self._admitted = 0
        self._idle = asyncio.Event()  # set while no job runs or waits
        self._idle.set()
        self._last_job_at = -math.inf  # when a job last ended (monotonic)
        self._turn = asyncio.Lock()  # the one job in the worker holds it
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future | None = None  # the current pool's start-up job
        self._closed = False
        self._mean_job_s = 1.0

    @property
    def admitted(self) -> int:
        """Jobs running or waiting now."""
        return self._admitted

    def warm_up(self) -> None:
        """Start the worker now (it takes a second to import pycrdt) if it is not running:
        listing versions comes before a preview or a restore."""
        if self._pool is None and not self._closed:
            self._start()

    def check_room(self) -> None:
        """Raise ``HistoryWorkerBusy`` if a job asked for now would be refused (a restore asks
        before it records its ``before-restore`` version)."""
        if self._admitted >= 1 + self.queue_jobs:
            self.refused_total += 1
            waiting = self._admitted  # the running job, then those queued before this one
            retry_s = max(1, min(60, math.ceil(self._mean_job_s * waiting)))
            raise HistoryWorkerBusy(
                f"{self._admitted} version previews, exports or restores are running or "
                f"queued (limit {1 + self.queue_jobs}); try again shortly", retry_s)

    async def rebuild(self, rows: Sequence[bytes]) -> bytes:
        """``version_rows.rebuild_for_clients(rows)`` (as clients get it: ``Y.XmlHook``
        types as hooks): in the worker, or for one checkpoint alone in a thread. Raises
        ``ValueError`` for a row that cannot be decoded, and as ``_run``."""
        rows = list(rows)
        if len(rows) == 1:
            with self._admission():
                return await asyncio.to_thread(rebuild_for_clients, rows)
        return await self._run(rebuild_for_clients, rows)

    async def version_parts(self, rows: Sequence[bytes], check: Callable[[bytes], _T]
                            ) -> tuple[bytes, _T, bytes | None]:
        """``load_chain``'s rows as what ``version_read.read_version`` reads (hooks as maps,
        as pycrdt reads them): the checkpoint, inflated in a thread and passed to ``check``
        there (the caller's pre-check, run while the worker merges), its outcome, and the
        deltas after it merged into one update, in the worker (None when the version is its
        checkpoint; not checked yet). Raises as ``rebuild``, and what ``check`` raises."""
        rows = list(rows)

        def inflated() -> tuple[bytes, _T]:
            checkpoint = readable_row(rows[0])
            return checkpoint, check(checkpoint)

        if len(rows) == 1:
            with self._admission():
                return *await asyncio.to_thread(inflated), None
        (checkpoint, outcome), deltas = await asyncio.gather(
            asyncio.to_thread(inflated), self._run(rebuild_state, rows[1:]))
        return checkpoint, outcome, deltas

    async def mark_checkpoint(self, row: bytes) -> bytes:
        """``checked_states.mark_stored_checkpoint(row)`` in the worker: the ``checked`` mark
        of a stored checkpoint row, checked there once no other job has run or waited for
        ``MARK_AFTER_QUIET_S`` (a preview comes before a restore: the check must not run
        between them; a job asked for while it runs waits for it). Raises ``ValueError`` for
        a row the check refuses, and as ``_run``."""
        while True:  # previews, exports and restores first, and those soon after them
            await self._idle.wait()
            quiet_s = self._last_job_at + MARK_AFTER_QUIET_S - time.monotonic()
            if quiet_s <= 0 and self._idle.is_set():
                break
            await asyncio.sleep(max(quiet_s, 0.0))
        return await self._run(mark_stored_checkpoint, row)

    async def restore(self, rows: Sequence[bytes], since: bytes,
                      element_ids: Iterable[str] | None,
                      live_keys: dict[str, list[str]] | None = None) -> tuple[bytes, int]:
        """``restore.build_restore_update`` of the version ``rows`` rebuild, in the worker
        (``live_keys``: ``restore.live_keys`` of the live board). Raises as ``rebuild``."""
        ids = list(element_ids) if element_ids is not None else None
        return await self._run(_restore, list(rows), since, ids, live_keys)

    def close(self) -> None:
        """Kill the worker (a running job fails with ``HistoryWorkerFailed``); later jobs are
        refused the same way, and no worker starts again."""
        self._closed = True
        if self._pool is not None:
            self._discard(self._pool)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the worker, after the jobs admitted before it. Raises
        ``HistoryWorkerBusy`` at once when the queue is full, ``HistoryWorkerTimeout`` past
        ``timeout_s``, ``HistoryWorkerOutOfMemory`` past ``memory_bytes``,
        ``HistoryWorkerFailed`` when the worker died otherwise or is stopping."""
        with self._admission():
            async with self._turn:
                pool = await self._ready_pool()
                future = submit_if_alive(pool, _guarded, fn, *args)
                if future is None:  # it died between jobs: this job runs in a new one
                    self._discard(pool)
                    pool = await self._ready_pool()
                    future = pool.submit(_guarded, fn, *args)
                started = time.monotonic()
                try:
                    result = await self._outcome(future, self.timeout_s, pool)
                except TimeoutError:
                    self._discard(pool)
                    log.warning("a history job ran past %g s (--history-timeout-s); its "
                                "worker was killed", self.timeout_s)
                    raise HistoryWorkerTimeout(
                        f"rebuilding this version took longer than {self.timeout_s:g} s "
                        "(the server's --history-timeout-s) and was stopped") from None
                except HistoryWorkerFailed:
                    self._discard(pool)
                    raise
                except asyncio.CancelledError:
                    self._discard(pool)  # a job left running would hold up the next ones
                    raise
                if isinstance(result, OutOfMemory):
                    self._discard(pool)  # what the failed job left behind is not the next's
                    raise self._out_of_memory("needs more memory than")
                self._mean_job_s = 0.8 * self._mean_job_s + 0.2 * (time.monotonic() - started)
                self.jobs_total += 1
                return result

    @contextlib.contextmanager
    def _admission(self) -> Iterator[None]:
        self.check_room()
        self._admitted += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._admitted -= 1
            self._last_job_at = time.monotonic()
            if not self._admitted:
                self._idle.set()

    async def _ready_pool(self) -> ProcessPoolExecutor:
        """The current worker, started if there is none, once it has imported pycrdt."""
        if self._closed:
            raise HistoryWorkerFailed(self._failure())
        pool = self._pool if self._pool is not None else self._start()
        assert self._ready is not None
        try:
            await self._outcome(self._ready, START_TIMEOUT_S)
        except (TimeoutError, HistoryWorkerFailed):
            self._discard(pool)  # died between jobs, or never started: the next job retries
            raise HistoryWorkerFailed(self._failure()) from None
        return pool

    async def _outcome(self, future: Future, timeout_s: float,
                       pool: ProcessPoolExecutor | None = None) -> Any:
        """The result of ``future``, a job in ``pool``'s worker. Raises ``TimeoutError`` past
        ``timeout_s``, ``HistoryWorkerOutOfMemory`` when the worker was aborted (SIGABRT:
        Rust's answer to a failed allocation) under a memory cap, and
        ``HistoryWorkerFailed`` when it died otherwise or was stopped under it; the job's own
        exceptions (``ValueError``) pass."""
        try:  # shielded: a cancelled request must not cancel the shared start-up job
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(asyncio.wrap_future(future))
        except BrokenProcessPool:
            if pool is not None and self.memory_bytes > 0 and not self._closed \
                    and -signal.SIGABRT in await exit_codes(pool):
                raise self._out_of_memory("ended, most likely past") from None
            if not self._closed:
                log.error("the history worker process died during a job; the next job "
                          "starts a new one")
            raise HistoryWorkerFailed(self._failure()) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this request was cancelled
            raise HistoryWorkerFailed(self._failure()) from None  # close() cancelled the job

    def _out_of_memory(self, what: str) -> HistoryWorkerOutOfMemory:
        """The refusal of a job past the cap (``what``: how it failed), logged at WARNING."""
        cap = (f"the history worker's memory cap of {self.memory_bytes} bytes (the server's "
               "--history-worker-memory-bytes)") if self.memory_bytes > 0 \
            else "the memory the machine could give"
        message = f"rebuilding this version {what} {cap}"
        log.warning("a history job failed: %s; its worker was replaced", message)
        return HistoryWorkerOutOfMemory(message)

    def _start(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker, initargs=(self.memory_bytes,))
        self._ready = self._pool.submit(_ready)
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s worker and forget ``pool`` if it is still the current one (a
        failure that arrives late must not stop the worker that replaced it)."""
        kill_pool(pool)
        if self._pool is pool:
            self._pool = None
            self._ready = None

    def _failure(self) -> str:
        if self._closed:
            return "the server is stopping; try again in a moment"
        return "the history worker process died (see the server log); try again"


def _guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the worker; ``OutOfMemory()`` for a ``MemoryError``, and for a
    ``ValueError`` raised once the worker's address space came near its cap (pycrdt reports
    a failed allocation of yrs as "Cannot merge updates": a version 20,000 stickies long that
    merges without a cap fails so under a 100 MiB one)."""
    try:
        return or_out_of_memory(fn, *args)
    except ValueError:
        if near_address_space_cap():
            return OutOfMemory()
        raise


def _ready() -> None:
    """The warm-up job: importing this module in the worker is the point."""


def _restore(rows: list[bytes], since: bytes, element_ids: list[str] | None,
             live_keys: dict[str, list[str]] | None) -> tuple[bytes, int]:
    updates, hooks = readable_chain(rows)
    return build_restore_update(updates, since, element_ids, live_keys, hooks.names)
