"""Presence: a board's pycrdt ``Awareness`` plus which client ids arrived over which peer.

Awareness updates (y-protocols encoding: count, then per entry client id, clock and a JSON
state, ``null`` meaning gone) are checked before pycrdt applies them, so a malformed frame
changes nothing: the framing always, the JSON of every entry that could change something
(entries whose clock is not newer, mostly echoes, are dropped without decoding their JSON).
Only entries whose clock advanced come back as "changed":
the stock y-websocket client re-sends every awareness update it receives, and relaying only
real changes is what makes those echoes die out.

When a peer closes, the states it brought are removed at once (clock + 1, state ``null``) so
other clients drop the cursor immediately instead of after their 30 s timeout. A client that
reconnects re-sends its state with its old clock, which peers would ignore after such a
removal; the first awareness a new peer sends for an id the server removed is therefore
re-stamped with a newer clock so everyone shows it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Hashable, Iterable

from pycrdt import Awareness, Doc, write_var_uint

from .errors import CloseConnection
from .protocol import CloseCode, FrameError, read_var_uint

AwarenessEntry = tuple[int, int, str]
"""(client id, clock, JSON state text) as carried on the wire."""
RawEntry = tuple[int, int, bytes]
"""An entry before its state is decoded (UTF-8 bytes of JSON, ``b"null"`` or empty = gone)."""
_NULL_STATES = (b"null", b"")


class Presence:
    """Who is on a board and what they show (cursor, name, selection)."""

    def __init__(self, doc: Doc, timeout_s: float) -> None:
        self._awareness = Awareness(doc)
        self._awareness.set_local_state(None)  # the server shows no presence of its own
        self._timeout_ms = timeout_s * 1000
        self._ids_by_peer: dict[Hashable, set[int]] = {}
        self._peer_by_id: dict[int, Hashable] = {}
        self._changed: list[int] = []
        self._awareness.observe(self._record_change)

    @property
    def client_ids(self) -> list[int]:
        """Client ids that currently have a state."""
        return list(self._awareness.states)

    def apply(self, payload: bytes, peer: Hashable) -> list[int]:
        """Apply one awareness update from ``peer``; return the client ids whose clock advanced.

        Raises ``CloseConnection(1007)`` if the payload is malformed (nothing is applied).
        """
        entries = _split_entries(payload)
        if self._peer_has_no_ids(peer):
            entries = [self._restamp_returning(entry) for entry in entries]
        changed = self._apply_news(entries, origin=peer)
        for client_id in changed:
            self._map_to_peer(client_id, peer)
        return changed

    def apply_remote(self, payload: bytes) -> list[int]:
        """Apply an awareness update another process relayed; return the changed client ids.

        Those ids belong to peers of the other process, which also broadcasts their removal.
        Raises ``CloseConnection(1007)`` if the payload is malformed.
        """
        return self._apply_news(_split_entries(payload), origin="remote")

    def remove_peer(self, peer: Hashable) -> list[int]:
        """Forget ``peer``; remove the states it brought. Returns the removed client ids."""
        ids = self._ids_by_peer.pop(peer, set())
        for client_id in ids:
            self._peer_by_id.pop(client_id, None)
        return self._remove([i for i in ids if i in self._awareness.states], origin=peer)

    def expire(self, now_ms: float | None = None) -> list[int]:
        """Remove states not renewed within the timeout; return their client ids."""
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        meta = self._awareness.meta
        stale = [i for i in self._awareness.states
                 if now_ms - meta[i]["lastUpdated"] >= self._timeout_ms]
        return self._remove(stale, origin="timeout")

    def encode(self, client_ids: Iterable[int]) -> bytes:
        """Encode the current entries of ``client_ids`` (removed ones as ``null``)."""
        return self._awareness.encode_awareness_update(list(dict.fromkeys(client_ids)))

    def _apply_news(self, entries: list[RawEntry], origin: Hashable) -> list[int]:
        """Apply the entries that can change something; the rest are never JSON-decoded.

        Most awareness traffic is the stock client echoing states the server already has
        (same clock): those are recognised from client id and clock alone.
        """
        news = [_validated(entry) for entry in entries if self._is_news(entry)]
        return self._apply_entries(news, origin=origin) if news else []

    def _is_news(self, entry: RawEntry) -> bool:
        client_id, clock, state = entry
        meta = self._awareness.meta.get(client_id)
        if meta is None or clock > meta["clock"]:
            return True
        return clock == meta["clock"] and state in _NULL_STATES and \
            client_id in self._awareness.states

    def _remove(self, client_ids: list[int], origin: Hashable) -> list[int]:
        if not client_ids:
            return []
        meta = self._awareness.meta
        entries = [(i, meta[i]["clock"] + 1, "null") for i in client_ids]
        return self._apply_entries(entries, origin=origin)

    def _apply_entries(self, entries: list[AwarenessEntry], origin: Hashable) -> list[int]:
        if not entries:
            return []
        self._changed = []
        self._awareness.apply_awareness_update(_encode_entries(entries), origin)
        changed, self._changed = self._changed, []
        return changed

    def _record_change(self, topic: str, change: tuple[dict[str, list[int]], object]) -> None:
        if topic == "update":
            ids, _origin = change
            self._changed.extend(ids["added"] + ids["updated"] + ids["removed"])

    def _peer_has_no_ids(self, peer: Hashable) -> bool:
        return not self._ids_by_peer.get(peer)

    def _restamp_returning(self, entry: RawEntry) -> RawEntry:
        client_id, clock, state = entry
        meta = self._awareness.meta.get(client_id)
        removed = meta is not None and client_id not in self._awareness.states
        if removed and state not in _NULL_STATES and clock <= meta["clock"]:
            return client_id, meta["clock"] + 1, state
        return entry

    def _map_to_peer(self, client_id: int, peer: Hashable) -> None:
        previous = self._peer_by_id.get(client_id)
        if previous is not None and previous != peer:
            self._ids_by_peer.get(previous, set()).discard(client_id)
        if client_id in self._awareness.states:
            self._peer_by_id[client_id] = peer
            self._ids_by_peer.setdefault(peer, set()).add(client_id)
        else:
            self._peer_by_id.pop(client_id, None)
            self._ids_by_peer.get(peer, set()).discard(client_id)


def _split_entries(payload: bytes) -> list[RawEntry]:
    """The entries of an awareness update, states still raw bytes.

    Raises ``CloseConnection(1007)`` if the framing is wrong (nothing is applied then).
    """
    try:
        count, pos = read_var_uint(payload, 0)
        entries: list[RawEntry] = []
        for _ in range(count):
            client_id, pos = read_var_uint(payload, pos)
            clock, pos = read_var_uint(payload, pos)
            length, pos = read_var_uint(payload, pos)
            if pos + length > len(payload):
                raise FrameError("awareness state runs past the end of the frame")
            entries.append((client_id, clock, payload[pos:pos + length]))
            pos += length
        if pos != len(payload):
            raise FrameError("trailing bytes after the awareness entries")
    except FrameError as exc:
        raise _bad_awareness(exc) from None
    return entries


def _validated(entry: RawEntry) -> AwarenessEntry:
    """The entry with its state as JSON text; raises ``CloseConnection(1007)`` unless the
    state is UTF-8 JSON holding an object or null."""
    client_id, clock, raw = entry
    try:
        text = raw.decode("utf-8")
        state = json.loads(text) if text else None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _bad_awareness(exc) from None
    if state is not None and not isinstance(state, dict):
        raise _bad_awareness("awareness state is neither an object nor null")
    return client_id, clock, text or "null"


def _bad_awareness(reason: object) -> CloseConnection:
    return CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                           f"bad awareness update: {reason}")


def _encode_entries(entries: list[AwarenessEntry]) -> bytes:
    # Not pycrdt's Encoder.write_var_string: it prefixes the length in characters, not bytes,
    # which corrupts any state holding non-ASCII text (a user named "Zoë").
    parts = [write_var_uint(len(entries))]
    for client_id, clock, state in entries:
        data = state.encode("utf-8")
        parts += [write_var_uint(client_id), write_var_uint(clock), write_var_uint(len(data)), data]
    return b"".join(parts)
