"""BoardRegistry: board id -> loaded Room; loads each board once, unloads idle rooms.

Joins that arrive while a board is loading await the same load task, so a reconnect storm of
hundreds of clients reads the board from the database once. A room without peers is flushed
to the database and dropped after ``idle_unload_s``; a join during that flush keeps it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .admission import Admission, AdmissionCounter, AdmissionRefused
from .awareness import Presence, PresenceLimits
from .backlog import ReceiveBudget, SendBacklog
from .broker import Broker, RemoteKind
from .check_worker import CheckWorker
from .config import Settings
from .document import BoardDocument
from .history_worker import HistoryWorker
from .memory import release_free_heap
from .peer import Peer
from .protocol import CloseCode
from .room import Room
from .store import Store, UpdateWriter
from .store.history import VersionInfo
from .store.loads import LoadBatcher
from .versioning import VersionKeeper

if TYPE_CHECKING:
    from .events.feed import BoardFeed

log = logging.getLogger(__name__)

HEAP_TRIM_INTERVAL_S = 30.0


class ServerStopping(RuntimeError):
    """A graceful stop has begun: a server-made update is refused whole (HTTP 503)."""


class BoardRegistry:
    """All boards loaded in this process."""

    def __init__(self, store: Store, writer: UpdateWriter, broker: Broker,
                 settings: Settings) -> None:
        self.store = store
        self.writer = writer
        self.broker = broker
        self.settings = settings
        self.loads_total = 0
        self.unloads_total = 0
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._early_remote: dict[str, list[tuple[RemoteKind, bytes]]] = {}
        self._connections = 0  # peers joined over all rooms (connection_count)
        self.admissions = AdmissionCounter(settings.max_connections,
                                           settings.max_connections_per_ip,
                                           settings.max_peers_per_board)
        self._sweepers: list[asyncio.Task] = []
        self.backlog = SendBacklog(settings.max_pending_bytes_total,
                                   settings.min_read_bytes_per_s, settings.read_window_s)
        self.receive_budget = ReceiveBudget(settings.max_step2_bytes_total)
        self._loads = LoadBatcher(store)
        self.versions = VersionKeeper(
            store, writer, settings.history_interval_s,
            HistoryWorker(settings.history_queue_jobs, settings.history_timeout_s,
                          settings.history_worker_memory_bytes))
        writer.mark_checkpoint = self.versions.worker.mark_checkpoint
        self.checker = CheckWorker(settings.precheck_queue_jobs, settings.precheck_timeout_s)
        self._closing = False
        self.feed_factory: Callable[[Room], BoardFeed] | None = None  # set by app.py

    @property
    def rooms(self) -> dict[str, Room]:
        """Loaded rooms by board id (read-only use)."""
        return self._rooms

    @property
    def connection_count(self) -> int:
        """Peers connected over all boards."""
        return self._connections

    def start(self) -> None:
        """Start the periodic presence expiry, heap trimming and pings (needs a running
        event loop)."""
        self._sweepers = [asyncio.create_task(self._expire_presence_forever()),
                          asyncio.create_task(self._trim_heap_forever()),
                          asyncio.create_task(self._sweep_backlog_forever())]
        if self.settings.ping_interval_s > 0:
            self._sweepers.append(asyncio.create_task(self._ping_forever()))

    async def acquire(self, board_id: str) -> Room:
        """The loaded room of ``board_id``, loading it first if needed (once, however many
        callers wait). Cancels a pending idle unload."""
        room = self._rooms.get(board_id)
        if room is None:
            loading = self._loading.get(board_id)
            if loading is None:
                loading = asyncio.ensure_future(self._load(board_id))
                self._loading[board_id] = loading
                loading.add_done_callback(lambda _f: self._loading.pop(board_id, None))
                loading.add_done_callback(lambda _f: self._early_remote.pop(board_id, None))
            room = await asyncio.shield(loading)
        if room.unload_task is not None:
            room.unload_task.cancel()
            room.unload_task = None
        return room

    async def board_exists(self, board_id: str) -> bool:
        """Whether ``board_id`` is a board: loaded here (a board opened for the first time is
        stored with the next group commit) or stored. Every endpoint asks this one question."""
        return board_id in self._rooms or await self.store.board_info(board_id) is not None

    def join(self, room: Room, peer: Peer) -> None:
        """Add ``peer`` to ``room`` (after ``acquire``)."""
        room.join(peer)
        self._connections += 1

    def leave(self, room: Room, peer: Peer) -> None:
        """Remove ``peer``; an empty room starts its idle countdown."""
        if peer in room.peers:
            self._connections -= 1
        self.backlog.forget(peer)
        room.leave(peer)
        self.release_if_idle(room)

    def admit(self, board_id: str, remote: str) -> Admission:
        """A connection slot for ``remote`` on ``board_id``, counted at once (before the
        caller awaits anything) until ``Admission.release()``. Raises ``AdmissionRefused``
        (429/503) when a connection, address, board or loaded-board limit is reached."""
        admitted = self.admissions.by_board
        if board_id not in self._rooms and board_id not in admitted:
            boards = self._rooms.keys() | admitted.keys()
            if len(boards) >= self.settings.max_boards_loaded and not any(
                    not room.peers and room.board_id not in admitted
                    for room in self._rooms.values()):
                raise AdmissionRefused(503, f"server holds its limit of "
                                            f"{self.settings.max_boards_loaded} boards")
        return self.admissions.take(board_id, remote)

    def admission_status(self, board_id: str, remote: str) -> AdmissionRefused | None:
        """Why a WebSocket from ``remote`` to ``board_id`` would be refused now, or None
        (the browser asks this: a failed upgrade's status is hidden from page scripts)."""
        try:
            self.admit(board_id, remote).release()
        except AdmissionRefused as exc:
            return exc
        return None

    def revoke(self, board_id: str, generation: int) -> None:
        """Close (4403) every peer of ``board_id`` that joined with an older token, here and
        (through the broker) in every other process."""
        self.broker.publish(board_id, RemoteKind.REVOKE, str(generation).encode())
        self._close_revoked(board_id, generation)

    def _close_revoked(self, board_id: str, generation: int) -> None:
        room = self._rooms.get(board_id)
        for peer in list(room.peers) if room else []:
            if peer.generation is not None and peer.generation < generation:
                peer.close(CloseCode.WS_4403_FORBIDDEN, "token revoked")

    async def delete(self, board_id: str) -> bool:
        """Close the board's peers (4403) here and in other processes, drop it from memory
        and from the store."""
        self.broker.publish(board_id, RemoteKind.DELETE, b"")
        self._drop_deleted(board_id)
        self.versions.forget(board_id)
        await self.writer.flush()
        return await self.store.delete_board(board_id)

    def _drop_deleted(self, board_id: str) -> None:
        room = self._rooms.pop(board_id, None)
        if room is not None:
            if room.feed is not None:
                room.feed.close()
            if room.unload_task is not None:
                room.unload_task.cancel()
            for peer in list(room.peers):
                peer.close(CloseCode.WS_4403_FORBIDDEN, "board deleted")
            self.broker.unsubscribe(board_id)

    def release_if_idle(self, room: Room) -> None:
        """Schedule the idle unload of ``room`` if it has no peers."""
        if not room.peers and room.unload_task is None and not self._closing and \
                self._rooms.get(room.board_id) is room:
            room.unload_task = asyncio.create_task(self._unload_when_idle(room))

    def receive_remote(self, board_id: str, kind: RemoteKind, payload: bytes) -> None:
        """Apply a message another process published for a board loaded here (the broker's
        ``deliver`` callback). Boards not loaded here are ignored: they load from the store.
        Messages for a board still loading are kept and applied once it is loaded (they may
        not be in the store yet)."""
        if kind is RemoteKind.DELETE:
            self._drop_deleted(board_id)
            return
        if kind is RemoteKind.REVOKE:
            if payload.isdigit():
                self._close_revoked(board_id, int(payload))
            return
        room = self._rooms.get(board_id)
        if room is None:
            if board_id in self._loading:
                self._early_remote.setdefault(board_id, []).append((kind, payload))
            return
        room.apply_remote(kind, payload)

    def check_open(self) -> None:
        """Raise ``ServerStopping`` once a graceful stop has begun (``close``): a server-made
        update (an import) is then refused whole rather than applied to a board whose room
        is being closed."""
        if self._closing:
            raise ServerStopping("the server is stopping; nothing was imported (try again "
                                 "in a moment)")

    async def apply_update(self, board_id: str, update: bytes) -> None:
        """Apply a server-made update (import) to the live board, relay and persist it.

        Raises ``ValueError`` if pycrdt rejects the update, ``ServerStopping`` once the
        server is stopping (nothing applied).
        """
        self.check_open()
        room = await self.acquire(board_id)
        try:
            await room.settled()
            self.check_open()
            room.apply_server_update(update)
        finally:
            self.release_if_idle(room)

    async def apply_update_parts(self, board_id: str, update: bytes, parts: list[bytes]) -> None:
        """``apply_update`` of a big ``update`` applied as ``parts`` (``Room.apply_server_parts``),
        the event loop running between them. Raises as ``apply_update``; once the parts have
        begun, a graceful stop waits for them (``close``)."""
        self.check_open()
        room = await self.acquire(board_id)
        try:
            await room.settled()
            self.check_open()
            await room.apply_server_parts(update, parts)
        finally:
            self.release_if_idle(room)

    async def take_version(self, board_id: str, kind: str, label: str = "") -> VersionInfo:
        """Record a version of the board now (loading it if needed); committed on return."""
        room = await self.acquire(board_id)
        try:
            return await self.versions.take(room, kind, label)
        finally:
            self.release_if_idle(room)

    async def snapshot(self, board_id: str) -> bytes:
        """The whole current board as one update pycrdt reads (``Y.XmlHook`` types as maps:
        for the server's own readers): from memory if loaded, else the store."""
        return (await self.snapshots(board_id))[0]

    async def snapshots(self, board_id: str) -> tuple[bytes, bytes]:
        """``snapshot`` and the same board as clients get it (``Y.XmlHook`` types as hooks:
        a copy of the board), of one moment."""
        room = self._rooms.get(board_id)
        document = room.document if room is not None else \
            _rebuild(board_id, await self.store.load_updates(board_id))
        return document.full_update(), document.full_update(for_clients=True)

    async def close(self) -> None:
        """Close every peer with 1001 (going away); the writer is flushed by the caller.

        No idle unload is scheduled from here on (peers closed now leave later), and the
        pending ones and the sweepers are cancelled and awaited, so none is left pending."""
        self._closing = True
        tasks = list(self._sweepers)
        rooms = list(self._rooms.values())
        for room in rooms:
            if room.unload_task is not None:
                tasks.append(room.unload_task)
                room.unload_task = None
            for peer in list(room.peers):
                peer.close(CloseCode.WS_1001_GOING_AWAY, "server shutting down")
            if room.feed is not None:
                room.feed.close()
            room.cancel_check()
        self.checker.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # a big update or an import being applied in parts is finished, to be stored whole
        for room in rooms:
            if room.applying_parts:
                log.info("shutdown: finishing the update being applied in parts to board %s, "
                         "to store it whole", room.board_id)
        await asyncio.gather(*(room.settled() for room in rooms))
        for room in rooms:
            self.versions.unloading(room)  # committed by the caller's writer flush
        await self.versions.close()

    async def _load(self, board_id: str) -> Room:
        started = time.perf_counter()
        await self._make_room_for_one_more()
        await self.broker.subscribe(board_id)
        self.writer.ensure_board(board_id)
        stored = await self._loads.load(board_id)
        document = _rebuild(board_id, stored)
        room = Room(board_id, document,
                    Presence(self.settings.awareness_timeout_s, _presence_limits(self.settings)),
                    self.writer,
                    self.broker, self.settings.max_board_bytes, sum(map(len, stored)),
                    self.settings.relay_delay_ms / 1000, self.settings.refuse_clock_squatting,
                    self.checker, self.settings.precheck_worker_bytes)
        room.on_edit = self.versions.edited
        if self.feed_factory is not None:
            room.feed = self.feed_factory(room)
        self._rooms[board_id] = room
        for kind, payload in self._early_remote.pop(board_id, []):
            self.receive_remote(board_id, kind, payload)
        self.loads_total += 1
        log.info("loaded board %s: %d stored updates, %d bytes, in %.1f ms", board_id,
                 len(stored), sum(map(len, stored)), (time.perf_counter() - started) * 1000)
        self.release_if_idle(room)  # nobody may join (e.g. a snapshot read)
        return room

    async def _make_room_for_one_more(self) -> None:
        """Unload idle boards (oldest first) while the registry is at ``max_boards_loaded``."""
        if len(self._rooms) < self.settings.max_boards_loaded:
            return
        idle = [room for room in self._rooms.values() if not room.peers]
        while len(self._rooms) >= self.settings.max_boards_loaded and idle:
            await self._unload_now(idle.pop(0))

    async def _unload_when_idle(self, room: Room) -> None:
        await asyncio.sleep(self.settings.idle_unload_s)
        await self._unload_now(room)

    async def _unload_now(self, room: Room) -> None:
        await room.settled()  # a big update of a peer that left is applied and queued first
        self.versions.unloading(room)  # an edited board's last version, in the next commit
        while True:
            await self.writer.flush()
            if room.peers or self._rooms.get(room.board_id) is not room:
                return
            if not self.writer.has_pending(room.board_id):
                break
        del self._rooms[room.board_id]
        if room.feed is not None:
            room.feed.close()
        self.broker.unsubscribe(room.board_id)
        room.unload_task = None
        self.unloads_total += 1
        log.info("unloaded idle board %s", room.board_id)

    async def _ping_forever(self) -> None:
        """Ping every peer each ``ping_interval_s``; drop one whose pong is ``ping_timeout_s``
        late (its presence is removed at once)."""
        interval_s, timeout_s = self.settings.ping_interval_s, self.settings.ping_timeout_s
        tick_s = min(interval_s, timeout_s) / 2
        while True:
            await asyncio.sleep(tick_s)
            now = time.monotonic()
            for room in list(self._rooms.values()):
                for peer in list(room.peers):
                    if room.holds_frame_of(peer):
                        continue  # its connection reads nothing until that frame is handled
                    if peer.awaiting_pong_since is not None and \
                            now - peer.awaiting_pong_since > timeout_s:
                        log.info("board %s peer %s: no pong for %.1f s; dropping it",
                                 room.board_id, peer.name, now - peer.awaiting_pong_since)
                        peer.drop()
                    elif now - peer.last_ping_at >= interval_s:
                        peer.ping(now)

    async def _sweep_backlog_forever(self) -> None:
        """Each ``read_window_s``, drop peers that read too slowly (``SendBacklog.sweep``)."""
        while True:
            await asyncio.sleep(self.settings.read_window_s)
            self.backlog.sweep()

    async def _trim_heap_forever(self) -> None:
        """Every ``HEAP_TRIM_INTERVAL_S``, if a board was unloaded since the last time, give
        the freed memory back to the system (``memory.release_free_heap``)."""
        trimmed_at_unloads = self.unloads_total
        while True:
            await asyncio.sleep(HEAP_TRIM_INTERVAL_S)
            if self.unloads_total != trimmed_at_unloads:
                trimmed_at_unloads = self.unloads_total
                started = time.perf_counter()
                if release_free_heap():
                    log.debug("heap trimmed in %.1f ms",
                              (time.perf_counter() - started) * 1000)

    async def _expire_presence_forever(self) -> None:
        interval_s = self.settings.awareness_timeout_s / 3
        while True:
            await asyncio.sleep(interval_s)
            for room in list(self._rooms.values()):
                room.expire_presence()


def _presence_limits(settings: Settings) -> PresenceLimits:
    return PresenceLimits(max_ids_per_peer=settings.presence_max_ids_per_peer,
                          max_state_bytes=settings.presence_max_state_bytes,
                          max_ids_per_board=settings.presence_max_ids_per_board,
                          max_board_bytes=settings.presence_max_board_bytes)


def _rebuild(board_id: str, stored: list[bytes]) -> BoardDocument:
    # A stored row that is refused or undecodable is skipped and logged; everything else is
    # served. The row stays in the database for someone to inspect until compaction.
    return BoardDocument.from_updates(stored, board_id)
