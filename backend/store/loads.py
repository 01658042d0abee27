"""LoadBatcher: board reads that arrive together share one database round trip.

A cold start (a server restart, a class of 200 opening their own new boards) asks for hundreds
of boards within milliseconds. Read one by one, each costs two statements, their compilation
and a hop to the database thread, all on the event loop that also accepts the connections.
The batcher collects the ids asked for while a read is running and fetches them together with
``Store.load_many`` (measured in BENCHMARKS.md, "Cold start of many boards"). A lone load
still goes out at once.
"""

from __future__ import annotations

import asyncio

from .store import Store

MAX_BOARDS_PER_READ = 100
"""Boards read in one ``load_many``: bounds how long one read holds a pooled connection."""
MAX_READS_IN_FLIGHT = 4
"""Reads running at once (the SQLite pool keeps 15 connections for reads and writes)."""


class LoadBatcher:
    """Reads boards' stored updates for ``BoardRegistry``, batching concurrent requests."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: dict[str, asyncio.Future[list[bytes]]] = {}
        self._reads_in_flight = 0
        self._start_scheduled = False
        self._reads: set[asyncio.Task] = set()  # running reads, referenced until they end

    async def load(self, board_id: str) -> list[bytes]:
        """The board's stored updates (snapshot first, then the log), as
        ``Store.load_updates``. Raises what the store raises (``SQLAlchemyError``)."""
        future = self._waiting.get(board_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[board_id] = future
            if not self._start_scheduled:  # one loop turn later: that turn's asks go together
                self._start_scheduled = True
                asyncio.get_running_loop().call_soon(self._start_reads)
        return await asyncio.shield(future)

    def _start_reads(self) -> None:
        self._start_scheduled = False
        while self._waiting and self._reads_in_flight < MAX_READS_IN_FLIGHT:
            board_ids = list(self._waiting)[:MAX_BOARDS_PER_READ]
            futures = {board_id: self._waiting.pop(board_id) for board_id in board_ids}
            self._reads_in_flight += 1
            task = asyncio.ensure_future(self._read(futures))
            self._reads.add(task)
            task.add_done_callback(self._reads.discard)

    async def _read(self, futures: dict[str, asyncio.Future[list[bytes]]]) -> None:
        try:
            stored = await self._store.load_many(list(futures))
        except Exception as exc:  # handed to every waiter, who logs it with its board
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
        else:
            for board_id, future in futures.items():
                if not future.done():
                    future.set_result(stored[board_id])
        finally:
            self._reads_in_flight -= 1
            self._start_reads()
