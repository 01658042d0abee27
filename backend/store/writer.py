"""UpdateWriter: takes updates off the broadcast path and group-commits them.

``append`` is synchronous and cheap (the room calls it right after applying an update).
One task commits: the first update after a commit opens a batch window of
``flush_delay_ms``; when it closes, everything pending (all boards) goes to the store in one
transaction. A failed commit is logged at ERROR,
the batch stays pending (nothing dropped) and is retried with exponential backoff up to
``write_retry_max_s``; ``degraded`` is true until a commit succeeds again. After a commit, a
board whose log passed the thresholds is compacted by a separate task, one board at a time.

Versions (``record_version``) are recorded by the same commit task, in a transaction right
after the updates queued with them (so a version that cannot be written never holds the log
back); after a version of a board is recorded, the compaction task thins that board's history
(``Store.thin_history``) with the retention policy and clock given; a third task checks and
marks each checkpoint written (``mark_checkpoint``, ``checked_states``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from .history import Retention, VersionInfo
from .store import LogSize, Store, VersionRequest

log = logging.getLogger(__name__)


class UpdateWriter:
    """Per-board write queues in front of a ``Store``, committed in groups."""

    def __init__(self, store: Store, *, flush_delay_ms: float, retry_max_s: float,
                 compact_after_updates: int, compact_after_bytes: int,
                 retention: Retention | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``retention``: thin each board's history after a version of it is recorded (None:
        never thin). ``clock``: the time thinning judges ages by (tests inject one)."""
        self.store = store
        self._retention = retention
        self._clock = clock
        self._versions: list[tuple[VersionRequest, asyncio.Future]] = []
        self._flush_delay_s = flush_delay_ms / 1000
        self._retry_max_s = retry_max_s
        self._compact_after_updates = compact_after_updates
        self._compact_after_bytes = compact_after_bytes
        self._pending: dict[str, list[bytes]] = {}
        self._new_boards: set[str] = set()
        self._wake = asyncio.Event()
        self._hurry = asyncio.Event()
        self._committed = asyncio.Condition()
        self._appended_total = 0
        self._committed_total = 0
        self._compact_queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._compact_scheduled: set[tuple[str, str]] = set()
        self._mark_queue: asyncio.Queue[str] = asyncio.Queue()
        self._mark_scheduled: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        self.last_error: str | None = None
        self.commits = 0
        self.compactions = 0
        self.mark_checkpoint: Callable[[bytes], Awaitable[bytes]] | None = None
        """Checks a stored checkpoint row and returns its ``checked`` mark
        (``checked_states.mark_stored_checkpoint``, in the history worker: set by the
        registry); after a version commit writes a checkpoint, or a thinning folds one, a
        task of its own marks the board's new checkpoints with it, so that their first
        export, even after a restart, need not check them again. None: not marked here."""

    @property
    def degraded(self) -> bool:
        """True while the last commit attempt failed and updates wait to be written."""
        return self.last_error is not None

    @property
    def pending_updates(self) -> int:
        """Updates (and new boards' rows) accepted but not committed yet."""
        return self._appended_total - self._committed_total

    def has_pending(self, board_id: str) -> bool:
        """Whether ``board_id`` has updates not committed yet."""
        return bool(self._pending.get(board_id))

    def start(self) -> None:
        """Start the commit and compaction tasks (needs a running event loop)."""
        self._tasks = [asyncio.create_task(self._commit_loop(), name="syncboard-writer"),
                       asyncio.create_task(self._compact_loop(), name="syncboard-compactor"),
                       asyncio.create_task(self._mark_loop(), name="syncboard-marker")]

    def append(self, board_id: str, update: bytes) -> None:
        """Queue one validated update of ``board_id`` for the next group commit."""
        self._pending.setdefault(board_id, []).append(update)
        self._appended_total += 1
        self._wake.set()

    def record_version(self, request: VersionRequest) -> asyncio.Future[VersionInfo | None]:
        """Record a version with the next group commit; the future resolves to the version
        made once it is committed (None: an ``auto`` version another process made within
        the interval), retried like updates while the database fails."""
        future = asyncio.get_running_loop().create_future()
        self._versions.append((request, future))
        self._appended_total += 1
        self._hurry.set()  # a person waits for it
        self._wake.set()
        return future

    def ensure_board(self, board_id: str) -> None:
        """Have ``board_id``'s row created with the next group commit if it has none.

        A board opened for the first time needs a row, but not before anyone may draw on it:
        one write transaction per new board would queue every board load behind the database's
        single write lock (and its fsync), so a storm of new boards starved the connection
        pool. Batched here, a thousand new boards cost one transaction."""
        if board_id not in self._new_boards:
            self._new_boards.add(board_id)
            self._appended_total += 1  # so flush() waits for the row too
        self._wake.set()

    async def flush(self) -> None:
        """Wait until everything appended before this call is committed.

        While the database fails this waits for the retries; wrap it in a timeout if needed.
        """
        target = self._appended_total
        if self._committed_total >= target:
            return
        self._hurry.set()
        self._wake.set()
        async with self._committed:
            await self._committed.wait_for(lambda: self._committed_total >= target)

    async def close(self, timeout_s: float = 30.0) -> None:
        """Flush what is pending (bounded by ``timeout_s``), then stop the tasks."""
        try:
            await asyncio.wait_for(self.flush(), timeout_s)
        except TimeoutError:
            log.error("shutdown: %d updates could not be written within %.0f s; they are lost "
                      "unless clients resend them (%s)", self.pending_updates, timeout_s,
                      self.last_error)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _commit_loop(self) -> None:
        backoff_s = version_backoff_s = 0.05
        while True:
            await self._wake.wait()
            if not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), self._flush_delay_s)
            self._wake.clear()
            self._hurry.clear()
            batch, self._pending = self._pending, {}
            new_boards, self._new_boards = self._new_boards, set()
            versions, self._versions = self._versions, []
            count = sum(len(v) for v in batch.values())
            if not count and not new_boards and not versions:
                continue
            started = time.perf_counter()
            try:
                sizes = await self.store.append_updates(batch, new_boards)
            except (SQLAlchemyError, OSError) as exc:
                metrics.COMMIT_FAILURES.inc()
                self._requeue(batch)
                self._versions[:0] = versions
                self._appended_total -= len(new_boards & self._new_boards)  # asked again
                self._new_boards |= new_boards
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                log.error("database write of %d updates for %d boards failed, retrying in "
                          "%.2f s: %s", count, len(batch), backoff_s, self.last_error)
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, self._retry_max_s)
                self._wake.set()
                continue
            if self.last_error is not None:
                log.warning("database writes work again; %d updates committed", count)
            self.last_error = None
            backoff_s = 0.05
            self.commits += 1
            metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
            log.debug("committed %d updates for %d boards in %.1f ms", count, len(batch),
                      (time.perf_counter() - started) * 1000)
            async with self._committed:
                self._committed_total += count + len(new_boards)
                self._committed.notify_all()
            self._schedule_compactions(sizes)
            if versions and not await self._commit_versions(versions):
                await asyncio.sleep(version_backoff_s)
                version_backoff_s = min(version_backoff_s * 2, self._retry_max_s)
                self._wake.set()
            elif versions:
                version_backoff_s = 0.05

    async def _commit_versions(self, versions: list[tuple[VersionRequest, asyncio.Future]]
                               ) -> bool:
        """Record ``versions`` in a transaction of their own, right after the updates queued
        with them: a version that cannot be written (retried like updates) never holds the
        log back. False if it failed (they are queued again)."""
        try:
            await self.store.append_updates({}, (), [request for request, _f in versions])
        except (SQLAlchemyError, OSError, ValueError) as exc:
            metrics.COMMIT_FAILURES.inc()
            self._versions[:0] = versions
            log.error("recording %d versions failed, retrying after the next updates: %s",
                      len(versions), f"{type(exc).__name__}: {exc}".splitlines()[0])
            return False
        async with self._committed:
            self._committed_total += len(versions)
            self._committed.notify_all()
        for request, future in versions:
            if not future.done():
                future.set_result(request.recorded)
            if request.recorded is not None and request.recorded.checkpoint:
                self._schedule_mark(request.board_id)
            if self._retention is not None:
                self._schedule(("thin", request.board_id))
        return True

    def _requeue(self, batch: dict[str, list[bytes]]) -> None:
        for board_id, board_updates in batch.items():
            self._pending[board_id] = board_updates + self._pending.get(board_id, [])

    def _schedule_compactions(self, sizes: dict[str, LogSize]) -> None:
        for board_id, size in sizes.items():
            if size.updates >= self._compact_after_updates or \
                    size.bytes >= self._compact_after_bytes:
                self._schedule(("compact", board_id))

    def _schedule(self, job: tuple[str, str]) -> None:
        if job not in self._compact_scheduled:
            self._compact_scheduled.add(job)
            self._compact_queue.put_nowait(job)

    async def _thin(self, board_id: str) -> None:
        assert self._retention is not None
        try:
            dropped = await self.store.thin_history(board_id, self._clock(), self._retention)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            log.error("thinning the history of board %s failed (it stays as it is): %s",
                      board_id, exc)
        else:
            if dropped:
                log.info("thinned the history of board %s: %d versions folded into their "
                         "successors", board_id, dropped)
                self._schedule_mark(board_id)  # a fold may have made a checkpoint

    def _schedule_mark(self, board_id: str) -> None:
        if self.mark_checkpoint is not None and board_id not in self._mark_scheduled:
            self._mark_scheduled.add(board_id)
            self._mark_queue.put_nowait(board_id)

    async def _mark_loop(self) -> None:
        """Its own task: a check waits for the history worker to be idle (previews and
        restores go first), and compactions must not wait for it."""
        while True:
            board_id = await self._mark_queue.get()
            try:
                await self._mark(board_id)
            finally:
                self._mark_scheduled.discard(board_id)

    async def _mark(self, board_id: str) -> None:
        """Mark the board's new checkpoints (``mark_checkpoint``). A failure leaves them
        unmarked: their next export checks them, as before."""
        assert self.mark_checkpoint is not None
        try:
            marked = await self.store.mark_checkpoints(board_id, self.mark_checkpoint)
        except (SQLAlchemyError, OSError, RuntimeError) as exc:  # RuntimeError: the worker
            log.warning("marking the checked checkpoints of board %s failed (their next "
                        "export checks them): %s", board_id, exc)
        else:
            log.debug("board %s: %d checkpoints checked and marked", board_id, marked)

    async def _compact_loop(self) -> None:
        while True:
            job = await self._compact_queue.get()
            kind, board_id = job
            if kind == "thin":
                try:
                    await self._thin(board_id)
                finally:
                    self._compact_scheduled.discard(job)
                continue
            try:
                result = await self.store.compact(board_id)
            except (SQLAlchemyError, OSError, ValueError) as exc:
                metrics.COMPACTION_FAILED.inc()
                log.error("compaction of board %s failed (the log stays as it is): %s",
                          board_id, exc)
            else:
                self.compactions += 1
                (metrics.COMPACTED if result.merged_updates else metrics.COMPACTION_NOOP).inc()
                log.info("compacted board %s: %d log rows into a %d-byte snapshot",
                         board_id, result.merged_updates, result.snapshot_bytes)
            finally:
                self._compact_scheduled.discard(job)

