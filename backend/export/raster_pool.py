"""RasterPool: PNG rendering in a few worker processes, with a queue bound, a time and a
memory limit per job; the event loop only writes the SVG to a pipe and reads the PNG back.

Used by the HTTP export (``export_handlers``) and the command-line exporter alike. Workers
(``raster_worker``) start on first use and stay for the next job. A job that runs past
``timeout_s`` has its worker killed (and replaced at the next job); a worker that dies (over
its ``RLIMIT_AS`` memory cap, or a crash in resvg) fails only its own job. When ``workers``
jobs run and ``queue_jobs`` more wait, a further one is refused at once with ``RasterBusy``
(HTTP 503 with ``Retry-After``) rather than queueing without bound.

Example::

    pool = RasterPool(workers=1, queue_jobs=4, timeout_s=60, memory_bytes=2 << 30)
    png = await pool.render(svg_text, zoom=2.0)
    await pool.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from pathlib import Path

from ..config import Settings
from ..resources import bundled_font
from .raster_worker import ANSWER, OK, READY, REQUEST

_WORKER_SCRIPT = Path(__file__).resolve().with_name("raster_worker.py")
START_TIMEOUT_S = 60.0
"""Longest a new worker may take to start (not counted in a job's time limit)."""


class RasterError(Exception):
    """A job could not be rendered; the message says why (for the HTTP answer)."""


class RasterBusy(RasterError):
    """Every worker is busy and the queue is full; ``retry_after_s`` is a fair wait."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RasterPool:
    """``workers`` rasterising processes behind a queue of at most ``queue_jobs`` jobs."""

    def __init__(self, workers: int, queue_jobs: int, timeout_s: float,
                 memory_bytes: int) -> None:
        self.workers = workers
        self.queue_jobs = queue_jobs
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self.jobs_total = 0
        self.refused_total = 0
        self._admitted = 0
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: list[_Worker] = []
        self._mean_job_s = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RasterPool:
        """The pool ``--png-workers``, ``--png-queue-jobs``, ``--png-timeout-s`` and
        ``--png-memory-bytes`` describe (processes start on first use)."""
        return cls(settings.png_workers, settings.png_queue_jobs, settings.png_timeout_s,
                   settings.png_memory_bytes)

    @property
    def admitted(self) -> int:
        """Jobs running or waiting now."""
        return self._admitted

    async def render(self, svg: str, zoom: float) -> bytes:
        """The PNG of ``svg`` at ``zoom`` pixels per unit.

        Raises ``RasterBusy`` at once when the queue is full, ``RasterError`` when the job
        timed out, ran out of memory or resvg refused the SVG.
        """
        if self._admitted >= self.workers + self.queue_jobs:
            self.refused_total += 1
            waiting = self._admitted - self.workers + 1
            retry_s = max(1, min(60, math.ceil(self._mean_job_s * waiting / self.workers)))
            raise RasterBusy(f"{self._admitted} PNG exports are running or queued (limit "
                             f"{self.workers + self.queue_jobs}); try again shortly", retry_s)
        self._admitted += 1
        try:
            worker = await self._idle_queue().get()
            try:
                started = time.monotonic()
                png = await worker.run(svg.encode("utf-8"), zoom, self.timeout_s)
                self._mean_job_s = 0.8 * self._mean_job_s + 0.2 * (time.monotonic() - started)
                self.jobs_total += 1
                return png
            finally:
                self._idle_queue().put_nowait(worker)
        finally:
            self._admitted -= 1

    async def close(self) -> None:
        """Stop every worker process."""
        for worker in self._all:
            await worker.stop()

    def _idle_queue(self) -> asyncio.Queue[_Worker]:
        if self._idle is None:  # created on first use, inside the running loop
            self._idle = asyncio.Queue()
            self._all = [_Worker(self.memory_bytes) for _ in range(self.workers)]
            for worker in self._all:
                self._idle.put_nowait(worker)
        return self._idle


class _Worker:
    """One ``raster_worker`` process, started when first needed and after it was killed."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.proc: asyncio.subprocess.Process | None = None

    async def run(self, svg: bytes, zoom: float, timeout_s: float) -> bytes:
        if self.proc is None or self.proc.returncode is not None:
            await self._start()
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                proc.stdin.write(REQUEST.pack(zoom, len(svg)) + svg)
                await proc.stdin.drain()
                status, length = ANSWER.unpack(await proc.stdout.readexactly(ANSWER.size))
                body = await proc.stdout.readexactly(length)
        except TimeoutError:
            await self.stop()
            raise RasterError(f"PNG export took longer than {timeout_s:g} s and was stopped; "
                              "export a smaller region or scale") from None
        except asyncio.CancelledError:
            proc.kill()  # a half-sent job would desynchronise the pipe: start afresh
            self.proc = None
            raise
        except (asyncio.IncompleteReadError, ConnectionError):
            code = await proc.wait()
            self.proc = None
            raise RasterError(f"PNG export failed: the rendering process ended (exit {code}), "
                              f"most likely past its memory limit of {self.memory_bytes} bytes; "
                              "export a smaller region or scale") from None
        if status != OK:
            raise RasterError(body.decode("utf-8", "replace"))
        return body

    async def _start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(_WORKER_SCRIPT), str(self.memory_bytes),
            str(bundled_font()),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                ready = await self.proc.stdout.readexactly(len(READY))
        except (TimeoutError, asyncio.IncompleteReadError):
            ready = b""
        if ready != READY:
            await self.stop()
            raise RasterError("PNG export failed: the rendering process did not start "
                              "(is resvg-py installed?)")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
