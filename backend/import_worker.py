"""ImportWorker: reading an import file and building its Yjs update in a worker process.

A valid import of 60,000 rectangles (a 9 MiB syncboard JSON file) took 14 s on an idle
2-core machine and 45 s on a loaded one, and stalled ``/healthz`` for 8-27 s (BENCHMARKS.md,
"Import of a big board"): parsing and validating took about 1.2 s, building the update with
pycrdt element by element 4.2 s, and pycrdt and jsonschema-rs hold the GIL throughout, so run
in a thread they stall the event loop, and every board of the process with it. Here
``prepare_import`` runs in one worker process (``spawn``: it shares no state with the server):
``read_import`` (structure check, parse, mapping, schema validation), ``restack``, the update
made on top of the board's snapshot in parts of ``IMPORT_PART_ELEMENTS`` elements, and the
update pre-check (``update_check``) against the snapshot, so a refused update is refused before
anything is applied. The server then applies the parts one at a time (``Room.apply_server_parts``),
each pre-checked again against the live board, and stores the one update.

Jobs run one at a time and only the running one is in the worker: at most ``QUEUE_JOBS`` wait
here (their bodies spilled to temporary files), and a further one is refused at once with
``ImportBusy`` (HTTP 503 with ``Retry-After``). The worker's address space is capped at
``memory_bytes`` (``RLIMIT_AS``, ``--import-worker-memory-bytes``): a file whose reading or
building needs more fails there (a ``MemoryError``, or the process ends when a native
allocation fails: Rust aborts it, SIGABRT), is refused with ``ImportOutOfMemory`` (HTTP 413)
and the worker is replaced. A worker that dies otherwise fails its own job, told apart by its
exit code (``worker_pool``): ``ImportWorkerKilled`` (HTTP 503) when SIGKILL ended it (the
kernel's OOM killer, an operator), ``ImportWorkerFailed`` (HTTP 500) for a crash (SIGSEGV,
an abort without a cap, an exit). Either way the queued jobs go on in a new worker. A
graceful stop (``stop``) kills the worker: the running and queued jobs fail with
``ImportStopping`` (HTTP 503), so their clients are told before the connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import signal
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from .board_model import build_import_parts
from .export.incoming import read_import, restack
from .export.mapping import FileLimits, ImportRefused, ImportTooLarge
from .memory import OutOfMemory, or_out_of_memory, release_free_heap
from .update_check import TypeDepths, UpdateRefused, check_update
from .worker_pool import describe_exit, exit_codes, processes, start_worker, submit_if_alive

log = logging.getLogger(__name__)

QUEUE_JOBS = 2
"""Imports that may wait behind the running one (each holds its body, up to
``--max-import-bytes``, until it runs)."""


class ImportBusy(Exception):
    """The worker is busy and its queue full; ``retry_after_s`` is a fair wait."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ImportWorkerFailed(RuntimeError):
    """The worker process crashed during the job (it is replaced for the next one; HTTP 500)."""


class ImportWorkerKilled(ImportWorkerFailed):
    """SIGKILL ended the worker during the job, from outside (the OOM killer, an operator):
    the same file may well work again (HTTP 503)."""


class ImportStopping(ImportWorkerKilled):
    """The server is stopping: the job was stopped, or never started (HTTP 503)."""


class ImportOutOfMemory(ImportWorkerFailed):
    """The job needed more than the worker's memory cap (the worker is replaced; HTTP 413)."""


@dataclass
class Prepared:
    """What the worker made of an import file: the board's kind and report, its images,
    the update (``None`` when only checked), the same update as ``parts`` applied one after
    the other, and (only when asked) the mapped board itself."""

    kind: str
    elements: int
    report: str
    files: dict[str, tuple[str, bytes]]
    update: bytes
    parts: list[bytes] = field(default_factory=list)
    board: dict[str, Any] | None = None


@dataclass(frozen=True)
class Refusal:
    """An ``ImportRefused`` carried back from the worker (``too_large``: ``ImportTooLarge``)."""

    path: str
    message: str
    too_large: bool

    def exception(self) -> ImportRefused:
        """The exception the worker caught."""
        return (ImportTooLarge if self.too_large else ImportRefused)(self.path, self.message)


def prepare_import(path: str, limits: FileLimits, snapshot: bytes, restack_it: bool,
                   keep_board: bool) -> Prepared | Refusal | OutOfMemory:
    """The worker's job: ``read_import`` of the file at ``path``, then (``restack_it``)
    ``restack`` on ``snapshot``, the update made on top of ``snapshot`` and its pre-check.
    Returns the refusal, or ``OutOfMemory``, rather than raising it (its traceback would hold
    the parsed file). Raises ``ValueError`` for an undecodable snapshot."""
    try:
        return or_out_of_memory(_read_and_prepare, path, limits, snapshot, restack_it,
                                keep_board)
    except ImportRefused as exc:
        return Refusal(exc.path, exc.message, isinstance(exc, ImportTooLarge))
    finally:
        release_free_heap()


def _read_and_prepare(path: str, limits: FileLimits, snapshot: bytes, restack_it: bool,
                      keep_board: bool) -> Prepared:
    body = bytearray(os.path.getsize(path))
    with open(path, "rb") as file:
        file.readinto(body)
    return _prepare(body, limits, snapshot, restack_it, keep_board)


def _prepare(body: bytearray, limits: FileLimits, snapshot: bytes, restack_it: bool,
             keep_board: bool) -> Prepared:
    incoming = read_import(body, limits)  # empties a bytearray once decoded
    if restack_it:
        restack(incoming, snapshot)
    update, parts = build_import_parts(incoming.board, snapshot)
    shape = TypeDepths()
    try:  # what the live board's own pre-check would refuse is refused before anything applies
        if snapshot:
            shape.record(check_update(snapshot, shape))
        check_update(update, shape)
    except UpdateRefused as exc:
        raise ImportRefused("$", f"the update it makes is refused: {exc}") from None
    return Prepared(incoming.kind, len(incoming.board["elements"]), incoming.report(),
                    incoming.files, update, parts, incoming.board if keep_board else None)


class ImportWorker:
    """One lazily started worker process for imports, behind a queue of ``queue_jobs``, its
    address space capped at ``memory_bytes`` (0: no cap)."""

    def __init__(self, queue_jobs: int = QUEUE_JOBS, memory_bytes: int = 0) -> None:
        self.queue_jobs = queue_jobs
        self.memory_bytes = memory_bytes
        self.jobs_total = 0
        self.refused_total = 0
        self._admitted = 0
        self._turn = asyncio.Lock()  # the one job in the worker holds it
        self._mean_job_s = 5.0
        self._pool: ProcessPoolExecutor | None = None
        self._stopping = False
        self._drained = asyncio.Event()  # set while no job is admitted
        self._drained.set()

    async def prepare(self, body: bytes | bytearray, limits: FileLimits, snapshot: bytes,
                      restack_it: bool, keep_board: bool) -> Prepared:
        """``prepare_import`` in the worker, of ``body`` (a ``bytearray`` is emptied). The body
        goes to it through a temporary file: pickled, a 63 MiB body cost the server +128 MiB
        more (the pickle stream grows by doubling). Raises ``ImportRefused`` (``ImportTooLarge``)
        for a file that cannot be imported, ``ImportBusy`` at once when the queue is full,
        ``ImportOutOfMemory`` past the worker's memory cap, ``ImportWorkerKilled`` or
        ``ImportWorkerFailed`` if the worker died otherwise, ``ValueError`` for an undecodable
        snapshot."""
        if self._stopping:
            raise ImportStopping(_STOPPING)
        if self._admitted >= 1 + self.queue_jobs:
            self.refused_total += 1
            retry_s = max(1, min(120, math.ceil(self._mean_job_s * self._admitted)))
            raise ImportBusy(f"{self._admitted} imports are running or queued (limit "
                             f"{1 + self.queue_jobs}); try again shortly", retry_s)
        self._admitted += 1
        self._drained.clear()
        path = ""
        try:
            path = await asyncio.to_thread(_spill, body)
            if isinstance(body, bytearray):
                body.clear()
            async with self._turn:
                started = time.monotonic()
                result = await self._run(path, limits, snapshot, restack_it, keep_board)
        finally:
            self._admitted -= 1
            if not self._admitted:
                self._drained.set()
            if path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.jobs_total += 1
        self._mean_job_s = 0.8 * self._mean_job_s + 0.2 * (time.monotonic() - started)
        if isinstance(result, Refusal):
            raise result.exception()
        return result

    def close(self) -> None:
        """Stop the worker; jobs not started are cancelled (a running one is abandoned)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def stop(self) -> None:
        """A graceful stop: kill the worker and refuse every job admitted or asked for from
        now on with ``ImportStopping``; return once each has been answered (its caller
        resumed with the exception)."""
        self._stopping = True
        if self._pool is not None:
            for process in processes(self._pool):
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        await self._drained.wait()

    async def _run(self, *args: Any) -> Prepared | Refusal:
        """``prepare_import(*args)`` in the worker; raises ``ImportOutOfMemory``,
        ``ImportWorkerKilled`` or ``ImportWorkerFailed`` (the worker is replaced for the next
        job), ``ImportStopping`` once the server is stopping."""
        if self._stopping:
            raise ImportStopping(_STOPPING)
        pool, future = self._submit(prepare_import, *args)
        try:
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            raise await self._death(pool) from None
        if isinstance(result, OutOfMemory):
            self.close()  # what the failed job left behind is not the next job's
            raise ImportOutOfMemory(
                f"reading and building this file needs more memory than {self._cap()}; "
                "nothing was written")
        return result

    async def _death(self, pool: ProcessPoolExecutor) -> ImportWorkerFailed:
        """Why ``pool``'s worker died during a job, read from its exit code, as the error
        to answer with; the worker is forgotten, so the next job starts a new one."""
        codes = await exit_codes(pool) - {None}
        code = next(iter(codes), None)
        if self._pool is pool:
            self.close()
        if self._stopping:
            return ImportStopping(_STOPPING)
        if code == -signal.SIGABRT and self.memory_bytes > 0:  # Rust's failed allocation
            return ImportOutOfMemory(
                "the import worker process ended while reading this file, most likely "
                f"past {self._cap()}; nothing was written")
        how = describe_exit(code)
        log.error("the import worker process %s during a job; the next job starts a new one",
                  how)
        if code == -signal.SIGKILL:
            return ImportWorkerKilled(
                f"the import worker process {how} while reading this file (the kernel's "
                "OOM killer or an operator); nothing was written; try again")
        return ImportWorkerFailed(f"the import worker process {how} while reading this "
                                  "file; nothing was written (see the server log)")

    def _cap(self) -> str:
        if self.memory_bytes > 0:
            return (f"the import worker's cap of {self.memory_bytes} bytes "
                    "(--import-worker-memory-bytes)")
        return "the machine could give"

    def _ready_pool(self) -> ProcessPoolExecutor:
        """The current worker's pool, started if there is none."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker, initargs=(self.memory_bytes,))
        return self._pool

    def _submit(self, fn, *args) -> tuple[ProcessPoolExecutor, Future]:
        """``fn(*args)`` in the current worker, or in a new one if it died between jobs;
        the pool it runs in, and its future."""
        pool = self._ready_pool()
        future = submit_if_alive(pool, fn, *args)
        if future is None:
            self.close()
            pool = self._ready_pool()
            future = pool.submit(fn, *args)
        return pool, future


_STOPPING = "the server is stopping; nothing was imported (try again in a moment)"


def _spill(body: bytes | bytearray) -> str:
    """Write ``body`` to a new temporary file (only its owner may read it); return its path."""
    descriptor, path = tempfile.mkstemp(prefix="syncboard-import-")
    with os.fdopen(descriptor, "wb") as file:
        file.write(body)
    return path
