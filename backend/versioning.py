"""VersionKeeper: when a loaded board gets a version, and who edited since the last one.

The rooms tell the keeper about every accepted change (``edited``, cheap: a set lookup). The
first change after a version starts a timer for the next automatic one, due
``history_interval_s`` after the previous version (or after that change when the board has
none), so a board being edited gets at most one automatic version per interval; a board that
unloads (or a server that stops) after being edited gets one then. With several processes
sharing a database, the interval holds across them: a timer that finds another process's
version younger than the interval records nothing and waits until an interval after it.
Named, before-restore and before-import versions are asked for with ``take`` and recorded at
once. Every version goes through the writer's group commit (``UpdateWriter.record_version``);
the store encodes it against the previous version inside that transaction
(``store/history.py``).

Authors are the presence names (``user.name``) of the peers that changed the board since
the previous version, read once per peer per version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from .checked_states import CheckedStates
from .checkpoint_reads import CheckpointReads
from .history_worker import HistoryWorker
from .store import Store, UpdateWriter, VersionRequest
from .store.history import VersionInfo
from .version_rows import readable_chain, rebuild_state

if TYPE_CHECKING:
    from .peer import Peer
    from .room import Room

log = logging.getLogger(__name__)


@dataclass
class _Edits:
    """What happened to one board since its last version."""

    authors: dict[str, None] = field(default_factory=dict)
    peers: set[object] = field(default_factory=set)
    timer: asyncio.Task | None = None


class VersionKeeper:
    """Automatic and requested versions of the boards loaded in this process."""

    def __init__(self, store: Store, writer: UpdateWriter, interval_s: float,
                 worker: HistoryWorker) -> None:
        """``interval_s``: at most one automatic version per board per this many seconds
        (0: no automatic versions); ``worker`` computes previews and restores."""
        self.store = store
        self.writer = writer
        self.interval_s = interval_s
        self._edits: dict[str, _Edits] = {}
        # When this process last asked for a version of a loaded board: the database's newest
        # version may not be committed yet when the next edit starts the next timer.
        self._asked_at: dict[str, float] = {}
        # The timers whose automatic version is being committed (no longer in ``_edits``):
        # one that finds another process's version puts its edits back, unless the board was
        # unloaded or deleted meanwhile, which takes it out of here.
        self._recording: dict[str, asyncio.Task] = {}
        self.on_saved: Callable[[VersionInfo], None] | None = None
        """Called with every version this process records (the change feed's
        ``version.saved``)."""
        self.worker = worker
        """Where previews and restores are computed, off the event loop."""
        self.checked = CheckedStates()
        """Version checkpoints already checked (``version_read.read_version``)."""
        self.reads = CheckpointReads()
        """Version checkpoints' elements read for an earlier JSON export."""

    def edited(self, room: Room, peer: Peer | None) -> None:
        """``room``'s board changed (by ``peer``, or by the server when None)."""
        edits = self._edits.get(room.board_id)
        if edits is None:
            edits = self._edits[room.board_id] = _Edits()
            if self.interval_s > 0:
                edits.timer = asyncio.create_task(self._auto_version(room))
        if peer is not None and peer not in edits.peers:
            edits.peers.add(peer)
            for name in room.presence.names_of(peer):
                edits.authors.setdefault(name)

    def is_edited(self, board_id: str) -> bool:
        """Whether ``board_id`` changed since its last version was recorded here."""
        return board_id in self._edits

    async def take(self, room: Room, kind: str, label: str = "") -> VersionInfo:
        """Record a version of ``room``'s board now (committed when this returns).

        Raises ``SQLAlchemyError`` only through cancellation: the writer retries failed
        commits until they succeed."""
        info = await self.writer.record_version(self._request(room, kind, label, 0.0))
        assert info is not None  # only an auto version with an interval is ever skipped
        self._saved(info)
        return info

    def unloading(self, room: Room) -> asyncio.Future[VersionInfo | None] | None:
        """Queue the automatic version of a board about to unload (or a server about to
        stop) if it changed since its last one; the writer's next flush commits it."""
        self._stop_recording(room.board_id)
        future = self.writer.record_version(self._request(room, "auto", "", 0.0)) \
            if room.board_id in self._edits else None
        self._asked_at.pop(room.board_id, None)  # committed before the room is dropped
        if future is not None:
            future.add_done_callback(
                lambda done: None if done.cancelled() or done.exception() is not None
                else self._saved(done.result()))
        return future

    def forget(self, board_id: str) -> None:
        """Drop what is known about a deleted board."""
        self._stop_recording(board_id)
        self._asked_at.pop(board_id, None)
        edits = self._edits.pop(board_id, None)
        if edits is not None and edits.timer is not None:
            edits.timer.cancel()

    async def close(self) -> None:
        """Cancel the timers (``unloading`` is asked for each room before) and stop the
        worker process."""
        timers = [e.timer for e in self._edits.values() if e.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self.worker.close()

    def _request(self, room: Room, kind: str, label: str,
                 min_interval_s: float) -> VersionRequest:
        edits = self._edits.pop(room.board_id, None)
        if edits is not None and edits.timer is not None and \
                edits.timer is not asyncio.current_task():
            edits.timer.cancel()
        authors = tuple(edits.authors) if edits is not None else ()
        request = VersionRequest(room.board_id, room.document, kind, label, authors,
                                 min_interval_s)
        self._asked_at[room.board_id] = request.requested_at
        return request

    async def _auto_version(self, room: Room) -> None:
        """The timer of one edited board: sleep until a whole interval after its newest
        version, then record one. If another process sharing the database recorded one
        meanwhile (less than an interval before this request: checked in the recording
        transaction, so two processes never both record within an interval), this board's
        edits (and their authors) stay pending and the timer waits for a whole interval
        after that version instead."""
        board_id = room.board_id
        while True:
            await asyncio.sleep(max(0.0, await self._next_due(board_id) - time.time()))
            edits = self._edits.get(board_id)
            if edits is None or edits.timer is not asyncio.current_task():
                return
            asked_before = self._asked_at.get(board_id)
            request = self._request(room, "auto", "", self.interval_s)
            self._recording[board_id] = asyncio.current_task()
            try:
                info = await self.writer.record_version(request)
            finally:
                abandoned = self._recording.get(board_id) is not asyncio.current_task()
                if not abandoned:
                    del self._recording[board_id]
            if info is not None:
                log.info("board %s: automatic version %d (%d elements)", board_id, info.id,
                         info.elements)
                self._saved(info)
                return
            if abandoned:  # unloaded or deleted: nothing is pending any more
                return
            self._skipped(board_id, edits, request.requested_at, asked_before)

    def _stop_recording(self, board_id: str) -> None:
        """Tell the timer of ``board_id`` whose version is being committed, if any, that the
        board is going: if another process's version makes its own unnecessary, its edits
        are not put back (the room's own last version, or the deletion, takes care)."""
        self._recording.pop(board_id, None)

    async def _next_due(self, board_id: str) -> float:
        """When the next automatic version of ``board_id`` is due: an interval after its
        newest version (committed by any process, or asked for here and not yet committed),
        or after now for a board with none."""
        try:
            head = await self.store.list_versions(board_id, 1)
        except SQLAlchemyError as exc:
            log.error("board %s: cannot read its last version (%s); the next automatic "
                      "version waits a whole interval", board_id, exc)
            head = []
        last = max(head[0].created_at if head else 0.0,
                   self._asked_at.get(board_id, 0.0)) or time.time()
        return last + self.interval_s

    def _skipped(self, board_id: str, edits: _Edits, asked_at: float,
                 asked_before: float | None) -> None:
        """Another process's version made this one unnecessary: the request does not count
        as a version here, and ``edits`` are pending again (merged with any made since the
        request, whose timer, if one started, gives way to the running one)."""
        if self._asked_at.get(board_id) == asked_at:
            if asked_before is None:
                del self._asked_at[board_id]
            else:
                self._asked_at[board_id] = asked_before
        since = self._edits.get(board_id)
        if since is not None:
            if since.timer is not None:
                since.timer.cancel()
            edits.peers |= since.peers
            for name in since.authors:
                edits.authors.setdefault(name)
        edits.timer = asyncio.current_task()
        self._edits[board_id] = edits

    def _saved(self, info: VersionInfo | None) -> None:
        if info is not None and self.on_saved is not None:
            self.on_saved(info)


async def load_version_state(store: Store, board_id: str, version_id: int) -> bytes | None:
    """The whole board at ``version_id`` as one update pycrdt reads (``Y.XmlHook`` types as
    maps), or None if the board has no such version. Rebuilt in a thread (a checkpoint
    plus up to 49 deltas). Raises ``ValueError`` for a row pycrdt cannot decode."""
    chain = await store.load_version(board_id, version_id)
    if not chain:
        return None
    return await asyncio.get_running_loop().run_in_executor(None, rebuild_state, chain)


async def load_version_updates(store: Store, board_id: str, version_id: int
                               ) -> tuple[list[bytes], dict[tuple[int, int], bytes]] | None:
    """The updates that give ``version_id`` applied in order (a checkpoint and the deltas
    after it: what a restore applies, without merging them first; ``Y.XmlHook`` types as
    maps) and the names of those hooks by struct id (``restore.build_restore_update``), or
    None. Raises ``ValueError`` for a row that cannot be read."""
    chain = await store.load_version(board_id, version_id)
    if not chain:
        return None
    updates, hooks = await asyncio.get_running_loop().run_in_executor(None, readable_chain,
                                                                      chain)
    return updates, hooks.names
