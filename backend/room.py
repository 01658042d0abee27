"""Room: one loaded board, its peers, and the fan-out of what they send.

Frames of one peer arrive in order (Tornado reads one connection sequentially) and are handled
synchronously: parse, apply to the document (which validates), queue for persistence, queue
for relay. The exception is an update of at least ``--precheck-worker-bytes``: it is
pre-checked in the worker process (``check_worker``) and applied in parts (``update_parts``),
and everything else for the board waits behind it meanwhile (``turns``).
Relays are coalesced per event-loop turn (or per ``relay_delay_ms`` tick): the
updates and awareness changes that arrived meanwhile go out as one merged update frame and one
awareness frame, encoded once and written to every peer of the board, the sender included
(as the reference server does; newer clients use the echo to confirm their changes).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pycrdt import (
    create_awareness_message,
    create_update_message,
    merge_updates,
    write_message,
)

from . import metrics
from .awareness import Applied, Presence
from .broker import Broker, RemoteKind
from .check_worker import CheckWorker, CheckWorkerBusy, CheckWorkerFailed, CheckWorkerTimeout
from .clock_owners import ClockOwners, decode_owned, encode_owned
from .document import EMPTY_STATE_VECTOR, EMPTY_UPDATE, REFUSED, BoardDocument
from .errors import BoardTooLarge, CloseConnection
from .peer import frame_header, websocket_frames
from .protocol import (
    CloseCode,
    FrameError,
    MessageType,
    SyncType,
    UnknownMessageType,
    parse_frame,
    write_var_uint,
)
from .turns import Turns
from .update_check import UpdateRefused, UpdateSummary, outside_comments
from .update_parts import PART_STRUCTS, split_update

if TYPE_CHECKING:
    from .events.feed import BoardFeed
    from .peer import Peer
    from .store import UpdateWriter

log = logging.getLogger(__name__)

UNCOPIED_UPDATE_BYTES = 64 * 1024
"""A relayed update at least this big is written to peers as it is, behind its frame's head
(``Peer.send_wire``), instead of being copied into one frame with the presence relayed with
it: a big step 2 relayed to a board's peers is copied not three times but never."""


class Room:
    """The live state of one board: document, presence, peers."""

    def __init__(self, board_id: str, document: BoardDocument, presence: Presence,
                 writer: UpdateWriter, broker: Broker, max_board_bytes: int,
                 size_bytes: int, relay_delay_s: float = 0.0,
                 refuse_clock_squatting: bool = False, checker: CheckWorker | None = None,
                 checker_min_bytes: int = 0) -> None:
        """``checker``: where updates of at least ``checker_min_bytes`` are pre-checked (see
        ``receive``); None or 0: every update is checked on the event loop."""
        self.board_id = board_id
        self.relay_delay_s = relay_delay_s
        self.max_board_bytes = max_board_bytes
        self.size_estimate = size_bytes
        self.dropped_viewer_edits = 0
        self.document = document
        self.presence = presence
        self.peers: set[Peer] = set()
        self.clock_owners = ClockOwners(presence.owner_of) if refuse_clock_squatting else None
        self.unload_task: asyncio.Task | None = None
        self.on_edit: Callable[[Room, Peer | None], None] | None = None  # version history
        self._writer = writer
        self._broker = broker
        self._relay_updates: list[bytes] = []
        self._relay_awareness: list[int] = []
        self._publish_updates: list[bytes] = []
        self._publish_awareness = False
        self._flush_scheduled = False
        self._joiner_frame: tuple[bytes, bytes] | None = None  # (full update, step 2 head)
        self._presence_warned: set[Peer] = set()
        self._last_editor: Peer | None = None  # the peer whose update was accepted last
        self._last_editor_name = ""
        self.last_edit_at = 0.0  # when (wall clock) a peer's update was accepted last
        self.feed: BoardFeed | None = None  # the change feed (backend/events), when on
        self._claimed: dict[Peer, set[int]] = {}  # synced peers' presence ids, announced
        self._publish_owned: set[int] = set()  # to announce to other processes
        self._checker = checker if checker_min_bytes > 0 else None
        self._checker_min_bytes = checker_min_bytes
        self._turns = Turns()  # a big update in the worker, and what waits behind it
        self._applying = False  # that update is being applied in parts
        self._server_parts: asyncio.Future | None = None  # an import applied in parts

    def join(self, peer: Peer) -> None:
        """Add ``peer``: send our sync step 1 and everyone's current presence."""
        self.peers.add(peer)
        peer.send(_STEP1_PREFIX + write_message(self.document.state_vector()))
        if self.presence.client_ids:
            peer.send(create_awareness_message(self.presence.encode(self.presence.client_ids)))

    def leave(self, peer: Peer) -> None:
        """Remove ``peer`` and broadcast the removal of the presence it brought."""
        self.peers.discard(peer)
        self._presence_warned.discard(peer)
        if peer is self._last_editor:  # its name goes with its presence: keep it
            self._last_editor_name = self.last_editor_name
            self._last_editor = None
        if self.clock_owners is not None:
            self.clock_owners.release(peer)
        self._claimed.pop(peer, None)
        self._relay_presence(self.presence.remove_peer(peer))

    def receive(self, peer: Peer, data: bytes) -> asyncio.Future | None:
        """Handle one frame from ``peer``; a bad frame closes that peer only.

        Returns None once handled, or a future done when it is: an update of at least
        ``checker_min_bytes`` is pre-checked in the worker process (``CheckWorker``), and
        every frame the board gets meanwhile, from any peer, waits behind it, in order. The
        connection reads its next frame only when the future is done, so each peer has at
        most one frame waiting. Raises only on a bug (the handler closes with 1011).
        """
        if self._turns.job is not None:
            return self._turns.wait(lambda: self._receive_now(peer, data), peer)
        return self._receive_now(peer, data)

    def holds_frame_of(self, peer: Peer) -> bool:
        """Whether a frame of ``peer`` is being checked in the worker or waits behind one
        (its connection reads nothing meanwhile, pongs included)."""
        return self._turns.holds(peer)

    async def settled(self) -> None:
        """Return once no big update is being checked or waits here, and no import is being
        applied in parts (``apply_server_parts``). An update the server applies right after
        this returns (without awaiting) keeps the board's order."""
        while True:
            await self._turns.settled()
            if self._server_parts is None:
                return
            await asyncio.wait({self._server_parts})  # not cancelled if this wait is

    @property
    def applying_parts(self) -> bool:
        """Whether a big update or an import is being applied in parts now (a graceful stop
        waits for it: ``settled``)."""
        return self._applying or self._server_parts is not None

    def cancel_check(self) -> None:
        """Stop waiting for the worker (shutdown): the update being checked and every frame
        behind it are dropped (their clients resend them when they reconnect). An update
        already being applied in parts is not stopped: ``settled`` returns once it is
        applied and queued for storing whole."""
        if self._turns.job is not None and not self._applying:
            self._turns.job.cancel()

    def _receive_now(self, peer: Peer, data: bytes) -> asyncio.Future | None:
        if peer.closed:
            return None  # frames still in flight from a peer we already closed change nothing
        try:
            return self._dispatch(peer, data)
        except CloseConnection as exc:
            self._close_peer(peer, exc)
            return None

    def _close_peer(self, peer: Peer, exc: CloseConnection) -> None:
        log.warning("board %s peer %s: closing with %d (%s): %s", self.board_id, peer.name,
                    exc.code, exc.code.name, exc.reason)
        peer.close(exc.code, exc.reason)

    async def _check_in_worker(self, peer: Peer, update: bytes, comments_only: bool,
                               step2: bool) -> None:
        """Pre-check ``update`` in the worker, then apply it as ``_apply_update`` does; a
        refusal closes ``peer`` with the code the event loop's check would give (1007), also
        1007 past ``--precheck-timeout-s``, or 1013 when the worker is busy or died. Nothing
        is applied for a peer closed meanwhile (its client resends the update when it
        reconnects)."""
        assert self._checker is not None
        self._turns.hold(peer)
        started = time.perf_counter()
        try:
            try:
                summary = await self._checker.check(update, self.document.shape, PART_STRUCTS)
            except UpdateRefused as exc:
                raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                      f"{REFUSED}{exc}") from None
            except CheckWorkerTimeout as exc:  # as over any other pre-check limit
                raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                      f"{REFUSED}{exc}") from None
            except (CheckWorkerBusy, CheckWorkerFailed) as exc:
                raise CloseConnection(CloseCode.WS_1013_TRY_AGAIN_LATER, str(exc)) from None
            log.info("board %s peer %s: %d-byte update pre-checked in the worker in %.0f ms",
                     self.board_id, peer.name, len(update),
                     (time.perf_counter() - started) * 1000)
            if not peer.closed:
                self._admit(peer, update, summary, comments_only)
                if summary.xml_hooks or summary.structs <= PART_STRUCTS:
                    self._apply_checked(peer, update, summary, step2)
                else:
                    self._applying = True
                    await self._apply_in_parts(peer, update, summary, step2)
        except CloseConnection as exc:
            self._close_peer(peer, exc)
        except asyncio.CancelledError:
            self._turns.drop()
            raise
        finally:
            self._applying = False
            self._turns.release(peer)
            self._turns.done()  # nothing is left waiting when it was cancelled

    def apply_server_update(self, update: bytes) -> None:
        """Apply an update made by the server itself (import); relay and persist it.

        Raises ``BoardTooLarge`` if it would pass ``max_board_bytes`` (the cap live edits
        have), ``ValueError`` if pycrdt rejects it.
        """
        try:
            self._check_size_cap(update)
        except CloseConnection as exc:
            raise BoardTooLarge(exc.reason) from None
        try:
            changed = self.document.apply_update(update)
        except CloseConnection as exc:
            raise ValueError(exc.reason) from None
        if changed:
            self._accept_update(update)

    async def apply_server_parts(self, update: bytes, parts: list[bytes]) -> None:
        """``apply_server_update(update)`` for a big update given as ``parts`` that make it
        when applied in order (``build_import_parts``), the event loop running between them
        (60,000 elements would stall every board for seconds); then ``update`` is relayed
        and stored, once. Raises as ``apply_server_update``; should a part be refused after
        others were applied (only an edit made meanwhile could cause that), what was applied
        is stored and relayed, so the board in memory and the stored one stay the same.

        Until it returns, ``settled`` waits for it: so does a graceful stop (``BoardRegistry.
        close``), which therefore stores the import whole rather than leave it half applied
        in memory and unstored, and the importer's client gets its answer."""
        try:
            self._check_size_cap(update)
        except CloseConnection as exc:
            raise BoardTooLarge(exc.reason) from None
        applied: list[bytes] = []
        done = self._server_parts = asyncio.get_running_loop().create_future()
        log.info("board %s: applying a %d-byte import in %d parts", self.board_id,
                 len(update), len(parts))
        self.document.begin_parts(update)
        try:
            for part in parts:
                if self.document.apply_update(part):
                    applied.append(part)
                await asyncio.sleep(0)
        except CloseConnection as exc:
            if applied:
                self._accept_update(merge_updates(*applied))
            raise ValueError(exc.reason) from None
        finally:
            self.document.end_parts(update)
            self._server_parts = None
            done.set_result(None)
        if applied:
            self._accept_update(update)

    def apply_remote(self, kind: RemoteKind, payload: bytes) -> None:
        """Apply what another process published (already persisted there): relay only. It
        waits behind a big update being checked in the worker (see ``receive``); a malformed
        payload is logged at ERROR and dropped."""
        if self._turns.job is not None:
            self._turns.wait(lambda: self._apply_remote_now(kind, payload), None)
        else:
            self._apply_remote_now(kind, payload)

    def _apply_remote_now(self, kind: RemoteKind, payload: bytes) -> None:
        try:
            self._apply_remote(kind, payload)
        except (CloseConnection, ValueError) as exc:
            log.error("board %s: dropped a malformed %s from another process: %s",
                      self.board_id, kind.value, exc)

    def _apply_remote(self, kind: RemoteKind, payload: bytes) -> None:
        if kind is RemoteKind.UPDATE:
            if self.document.apply_update(payload):
                if self.feed is not None:
                    self.feed.remote_update(self.document.readable(payload))
                self._joiner_frame = None
                self._relay_updates.append(payload)
                self._schedule_flush()
        elif kind is RemoteKind.OWNED:
            if self.clock_owners is not None:
                self.clock_owners.synced_elsewhere(decode_owned(payload))
        else:
            changed = self.presence.apply_remote(payload).changed
            if changed:
                self._presence_ended(changed)
                self._relay_awareness.extend(changed)
                self._schedule_flush()

    @property
    def last_editor_name(self) -> str:
        """The presence name of whoever made the last accepted edit here ("" if unknown),
        read when asked (the space indexer), not on the sync path."""
        if self._last_editor is not None:
            name = self.presence.user_name_of(self._last_editor)
            if name:
                return name
        return self._last_editor_name

    def expire_presence(self) -> None:
        """Drop presence not renewed within the timeout and broadcast its removal."""
        expired = self.presence.expire()
        self._presence_ended(expired)
        self._relay_presence(expired)

    def _presence_ended(self, client_ids: list[int]) -> None:
        """Other processes' ids among ``client_ids`` that lost their presence are no longer
        protected from clock squatting here."""
        if self.clock_owners is not None:
            self.clock_owners.gone([i for i in client_ids if self.presence.state_of(i) is None])

    def _claim(self, peer: Peer) -> None:
        """Announce to other processes the presence ids of ``peer``, which synced, that
        they have not heard of yet (clock squatting is refused there too)."""
        if not self._broker.shared:
            return
        ids = set(self.presence.ids_of(peer))
        new = ids - self._claimed.get(peer, set())
        self._claimed[peer] = ids
        if new:
            self._publish_owned |= new
            self._schedule_flush()

    def _dispatch(self, peer: Peer, data: bytes) -> asyncio.Future | None:
        metrics.count_received(data)
        try:
            frame = parse_frame(data)
        except UnknownMessageType:
            metrics.UNKNOWN_MESSAGES.inc()  # an app's own extension: ignored, as y-websocket does
            return
        except FrameError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"bad frame: {exc}") from None
        if frame.message_type == MessageType.SYNC:
            if frame.sync_type == SyncType.STEP1:
                self._send_step2(peer, frame.payload)
            elif peer.read_only:
                if frame.payload == EMPTY_UPDATE:  # a viewer's step 2 is usually empty
                    return
                if self.document.viewers_may_comment():
                    return self._apply_update(peer, frame.payload, comments_only=True)
                self._drop_viewer_edit(peer)
            else:  # STEP2 is treated as an update
                return self._apply_update(peer, frame.payload,
                                          step2=frame.sync_type == SyncType.STEP2)
        elif frame.message_type == MessageType.AWARENESS:
            applied = self.presence.apply(frame.payload, peer)
            self._warn_dropped_presence(peer, applied)
            self._relay_presence(applied.changed)
            if peer in self._claimed and applied.changed:
                self._claim(peer)
        else:  # QUERY_AWARENESS
            peer.send(create_awareness_message(self.presence.encode(self.presence.client_ids)))
        return None

    def _apply_update(self, peer: Peer, update: bytes, comments_only: bool = False,
                      step2: bool = False) -> asyncio.Future | None:
        """Check, apply, store and relay one update of ``peer`` (``step2``: its sync step 2,
        after which its presence ids are protected from clock squatting). ``comments_only``
        (a view-only peer while meta.commentsForViewers is on): every struct and deletion
        must lie in the comments map, else ``CloseConnection(4403)`` and nothing is applied.

        A big update is checked in the worker: the returned task is done once it is applied
        or refused (see ``receive``)."""
        if self._checker is not None and len(update) >= self._checker_min_bytes:
            job = self._turns.job = asyncio.ensure_future(
                self._check_in_worker(peer, update, comments_only, step2))
            return job
        summary = self.document.check(update)  # bounded: before pycrdt
        self._admit(peer, update, summary, comments_only)
        self._apply_checked(peer, update, summary, step2)
        return None

    def _admit(self, peer: Peer, update: bytes, summary: UpdateSummary,
               comments_only: bool) -> None:
        """What ``_apply_update`` checks once ``summary`` is the pre-check's: the comments and
        ownership rules and the size cap (raises ``CloseConnection``)."""
        if comments_only:
            outside = outside_comments(update, summary, self.document.shape)
            if outside is not None:
                raise CloseConnection(CloseCode.WS_4403_FORBIDDEN,
                                      f"a view-only link may change comments only: {outside}")
        if self.clock_owners is not None:
            self.clock_owners.admit(peer, summary, self.document.shape)
        self._check_size_cap(update)

    def _apply_checked(self, peer: Peer, update: bytes, summary: UpdateSummary,
                       step2: bool) -> None:
        """Apply an admitted update with pycrdt, then store and relay it."""
        if self.document.apply_update(update, summary):
            self._accepted(peer, update)
        self._synced(peer, step2)

    async def _apply_in_parts(self, peer: Peer, update: bytes, summary: UpdateSummary,
                              step2: bool) -> None:
        """``_apply_checked`` of a big update in parts (``update_parts``), the event loop
        running between them; it is stored and relayed as one update, as it came. Once a part
        leaves structs pending (they wait for a later part), the rest is applied at once, so
        pycrdt does not retry them at every part. Should pycrdt refuse a part, what was
        applied is stored and relayed (the board in memory and the stored one stay the same)
        and ``CloseConnection`` is raised."""
        applied: list[bytes] = []
        pause = True
        self.document.begin_parts(update)
        try:
            for part in split_update(update, summary, PART_STRUCTS):
                self.document.apply_part(part.update)
                applied.append(part.update)
                if pause and self.document.holds(part.clocks):
                    await asyncio.sleep(0)
                else:
                    pause = False
        except CloseConnection:
            if applied:
                self.document.shape.record(summary)
                self._accepted(peer, merge_updates(*applied))
            raise
        finally:
            self.document.end_parts(update)
        await self.document.record_in_turns(summary)
        self._accepted(peer, update)
        self._synced(peer, step2)

    def _accepted(self, peer: Peer, update: bytes) -> None:
        self._accept_update(update, peer)
        self._last_editor = peer
        self.last_edit_at = time.time()

    def _synced(self, peer: Peer, step2: bool) -> None:
        """After ``peer``'s sync step 2: its presence ids are protected from squatting."""
        if step2 and self.clock_owners is not None:
            self.clock_owners.synced(peer)
            self._claim(peer)

    def _send_step2(self, peer: Peer, state_vector: bytes) -> None:
        """Answer a step 1 with what ``peer`` lacks, in one frame however large. The update
        is written as it is, behind the frame's head (``Peer.send_wire``): never copied into
        a frame. The whole board (for a peer holding nothing) is encoded once and the same
        bytes go to every such joiner until the board changes."""
        if state_vector == EMPTY_STATE_VECTOR:
            update = self.document.full_update(for_clients=True)
            if self._joiner_frame is None or self._joiner_frame[0] is not update:
                self._joiner_frame = (update, _message_head(_STEP2_PREFIX, update))
            head, shared = self._joiner_frame[1], True
        else:
            update = self.document.missing_since(state_vector, for_clients=True)
            head, shared = _message_head(_STEP2_PREFIX, update), False
        if peer.send_wire(update, exempt=True, shared=shared, head=head):
            metrics.count_sent(_STEP2_PREFIX, size=_message_size(_STEP2_PREFIX, update))

    def _warn_dropped_presence(self, peer: Peer, applied: Applied) -> None:
        """Log the first presence entry of ``peer`` dropped at a cap (once per peer: the
        client renews its state every 15 s)."""
        if applied.dropped and peer not in self._presence_warned:
            self._presence_warned.add(peer)
            log.warning("board %s peer %s: dropping presence (and not logging it again for this "
                        "peer): %s", self.board_id, peer.name, applied.dropped[0])

    def _drop_viewer_edit(self, peer: Peer) -> None:
        peer.dropped_edits += 1
        self.dropped_viewer_edits += 1
        if peer.dropped_edits == 1:
            log.warning("board %s peer %s: view-only peer sent a document change; dropping it "
                        "and any further ones", self.board_id, peer.name)

    def _check_size_cap(self, update: bytes) -> None:
        """Refuse (4413) an update that would take the board past ``max_board_bytes``.

        An update with no new content (only deletions, which a Yjs v1 update encodes as zero
        struct groups) is always allowed, so a full board stays editable by deleting.
        """
        if update[:1] != b"\x00":
            self.check_size_cap(len(update))

    def check_size_cap(self, size: int) -> None:
        """Refuse (4413) ``size`` more bytes if they would take the board past
        ``max_board_bytes`` (also asked before a large sync step 2 is read).

        The size is an estimate (bytes loaded plus bytes accepted since); only near the cap is
        the document measured exactly.
        """
        if self.size_estimate + size <= self.max_board_bytes:
            return
        self.size_estimate = len(self.document.full_update())
        if self.size_estimate + size > self.max_board_bytes:
            raise CloseConnection(
                CloseCode.WS_4413_BOARD_TOO_LARGE,
                f"board is {self.size_estimate} bytes; {size} more would pass the "
                f"{self.max_board_bytes}-byte cap (delete something first)")

    def _accept_update(self, update: bytes, peer: Peer | None = None) -> None:
        if self.on_edit is not None:
            self.on_edit(self, peer)
        if self.feed is not None:
            self.feed.local_update(self.document.readable(update), peer)
        self._joiner_frame = None
        self.size_estimate += len(update)
        self._writer.append(self.board_id, update)
        self._relay_updates.append(update)
        self._publish_updates.append(update)
        self._schedule_flush()

    def _relay_presence(self, client_ids: list[int]) -> None:
        """Relay presence changes made here (by a peer, a disconnect or an expiry)."""
        self._publish_awareness = self._publish_awareness or bool(client_ids)
        if client_ids and self.feed is not None:
            self.feed.presence_changed(client_ids)
        if client_ids:
            self._relay_awareness.extend(client_ids)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if self.relay_delay_s > 0:
                asyncio.get_running_loop().call_later(self.relay_delay_s, self._flush)
            else:
                asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Relay what arrived since the last flush: one merged update message and one
        awareness message, framed once, written to every peer in one write each (an update
        of ``UNCOPIED_UPDATE_BYTES`` or more in a write of its own, behind its frame's head,
        never copied into a frame)."""
        self._flush_scheduled = False
        messages = []
        relay, self._relay_updates = self._relay_updates, []
        publish, self._publish_updates = self._publish_updates, []
        merged = self.document.merged(relay) if relay else None
        uncopied = merged if merged is not None and len(merged) >= UNCOPIED_UPDATE_BYTES \
            else None
        if merged is not None and uncopied is None:
            messages.append(create_update_message(merged))
        if publish:
            # nothing from other processes arrived meanwhile: the two lists are the same
            same = merged is not None and len(publish) == len(relay)
            self._broker.publish(self.board_id, RemoteKind.UPDATE,
                                 merged if same else self.document.merged(publish))
        if self._relay_awareness:
            client_ids, self._relay_awareness = self._relay_awareness, []
            encoded = self.presence.encode(client_ids)
            messages.append(create_awareness_message(encoded))
            if self._publish_awareness:
                self._broker.publish(self.board_id, RemoteKind.AWARENESS, encoded)
        self._publish_awareness = False
        if self._publish_owned:  # after the updates and presence it is about
            owned, self._publish_owned = self._publish_owned, set()
            self._broker.publish(self.board_id, RemoteKind.OWNED, encode_owned(owned))
        if not self.peers:
            return
        if uncopied is not None:
            head = _message_head(_UPDATE_PREFIX, uncopied)
            written = sum(peer.send_wire(uncopied, shared=True, head=head)
                          for peer in list(self.peers))
            metrics.count_sent(_UPDATE_PREFIX, written, _message_size(_UPDATE_PREFIX, uncopied))
        if messages:
            wire = websocket_frames(*messages)
            written = sum(peer.send_wire(wire, shared=True) for peer in list(self.peers))
            for message in messages:
                metrics.count_sent(message, written)


_STEP1_PREFIX = bytes([MessageType.SYNC, SyncType.STEP1])
_STEP2_PREFIX = bytes([MessageType.SYNC, SyncType.STEP2])
_UPDATE_PREFIX = bytes([MessageType.SYNC, SyncType.UPDATE])


def _message_head(prefix: bytes, update: bytes) -> bytes:
    """What goes before ``update`` on the wire in a frame of the sync message ``prefix``
    (step 2 or update): the frame header, the message type and the update's length; then
    ``update`` is written as it is (``Peer.send_wire``)."""
    prefix += write_var_uint(len(update))
    return frame_header(len(prefix) + len(update)) + prefix


def _message_size(prefix: bytes, update: bytes) -> int:
    """The length of the sync message ``prefix`` carrying ``update``."""
    return len(prefix) + len(write_var_uint(len(update))) + len(update)
