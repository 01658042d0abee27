"""Presence: a board's awareness states (y-protocols) and which client ids belong to which peer.

Awareness updates (y-protocols encoding: count, then per entry client id, clock and a JSON
state, ``null`` meaning gone) are checked before anything is kept, so a malformed frame
changes nothing. Every refusal is bounded before work is done on it:

- the entry count is read first: a frame listing more entries than a board can hold
  (``2 * max_ids_per_board``, present plus recently removed) closes with 1007 before a single
  entry is decoded (one 3 MiB frame of 400,000 ids once froze the loop for 13.6 s);
- a client id belongs to the first peer that brought it (first come): entries of other peers'
  ids are dropped without a word, which is also what happens to the stock client's echoes;
  only a state its owner stopped renewing (two thirds of the timeout) may be taken over, and
  an id a peer brought besides its first one (a relay, below) passes to the peer whose own it
  is: the one that names it alone in its first presence;
- a peer may introduce ``max_ids_per_peer`` ids (a tab has one), a board holds
  ``max_ids_per_board`` states of at most ``max_state_bytes`` each and ``max_board_bytes`` in
  all: an entry past one of those is dropped (the connection and the document stay);
- a state must be UTF-8 JSON holding an object (or null), with no ``NaN``/``Infinity``, which
  every browser's ``JSON.parse`` refuses: anything else closes with 1007;
- a clock may advance by at most ``MAX_CLOCK_STEP`` (a larger jump is recorded as that step)
  and an id first seen with a clock above ``MAX_FIRST_CLOCK`` is recorded at that clock, so no
  one can push a clock to 2**53 - 1, past which JavaScript clients could never advance it.

Only entries whose clock advanced come back as "changed": the stock y-websocket client
re-sends every awareness update it receives, and relaying only real changes makes those
echoes die out. States are kept and relayed as the JSON text the client sent.

Why a legitimate stock client (y-protocols ``awareness.js``, y-websocket 1.5 to 3.1) sends
entries for ids that are not its own: its provider sends every awareness ``update`` event to
the server, whatever its origin, so (a) everything it applies from the server comes back as
an echo, at the clock the server sent (or older, once the server moved on), and (b) with
BroadcastChannel on (the default; our own frontend keeps it), what it learns from the
browser's other tabs of the same board goes to the server too, often before that tab's own
connection has said anything (a tab that joins while its sibling is connected reaches the
sibling over BroadcastChannel at once, and the server only after its WebSocket opened).
Its own id it sends alone, in the first presence frame of every connection (``onopen``:
``encodeAwarenessUpdate(awareness, [doc.clientID])``). So: echoes (a) are not newer, or
belong to someone else, and are dropped silently; an id relayed by (b) is shown, held by the
relaying peer until the tab whose own id it is says so in its first frame; and a peer whose
first frame named one id alone (a tab) does not log the entries it cannot introduce past its
cap (more relayed tabs than it may hold: each is shown by its own connection). Removals of
others' ids (a tab's 30 s timeout, ``removeAwarenessStates``) change nothing and count
nowhere, and query-awareness answers go over BroadcastChannel only.

When a peer closes, the states it brought are removed at once (clock + 1, state ``null``) so
other clients drop the cursor immediately instead of after their 30 s timeout. The clock of a
removed id is kept for ``2 * timeout`` (then forgotten, so ids do not pile up): a client that
reconnects re-sends its state with its old clock, which peers would ignore after such a
removal, so the first awareness a new peer sends for a recently removed id is re-stamped with
a newer clock and everyone shows it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from pycrdt import write_var_uint

from .errors import CloseConnection
from .protocol import CloseCode, FrameError, read_var_uint

RawEntry = tuple[int, int, "bytes | _TooBig"]
"""(client id, clock, state) as carried on the wire: UTF-8 JSON, ``b"null"`` or empty = gone
(``_TooBig`` for a state over the size cap, never copied)."""
REMOTE = "remote"
"""The owner of ids that another server process relayed (its peers brought them)."""
MAX_CLOCK_STEP = 1000
"""Largest clock advance recorded per entry; the stock client advances by 1 per change."""
MAX_FIRST_CLOCK = 2 ** 32
"""Largest clock recorded for an id the server does not know (about 5 years of 25 cursor moves
per second)."""
_NULL_STATES = (b"null", b"")


@dataclass(frozen=True)
class PresenceLimits:
    """Caps on what presence may hold (from ``Settings``: ``presence_*``)."""

    max_ids_per_peer: int = 4
    max_state_bytes: int = 8 * 1024
    max_ids_per_board: int = 1000
    max_board_bytes: int = 2 * 1024 * 1024

    @property
    def max_entries_per_frame(self) -> int:
        """Entries one awareness update may list: every present and recently removed id (the
        stock client echoes whole updates it received)."""
        return 2 * self.max_ids_per_board


@dataclass
class Applied:
    """What one awareness update did: ``changed`` ids (to relay) and why entries were
    ``dropped`` (one reason per dropped entry, for the log)."""

    changed: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass
class _State:
    clock: int
    state: bytes
    updated_ms: float
    owner: Hashable


class Presence:
    """Who is on a board and what they show (cursor, name, selection)."""

    def __init__(self, timeout_s: float, limits: PresenceLimits = PresenceLimits()) -> None:
        self.limits = limits
        self._timeout_ms = timeout_s * 1000
        self._present: dict[int, _State] = {}
        self._gone: dict[int, tuple[int, float]] = {}  # id -> (clock, removed at ms)
        self._ids_by_peer: dict[Hashable, set[int]] = {}
        self._first_id: dict[Hashable, int] = {}  # peer -> the first id it brought (its own)
        self._tabs: set[Hashable] = set()  # peers whose first frame showed their one id
        self._heard: set[Hashable] = set()  # peers that sent presence at least once
        self._board_bytes = 0

    @property
    def client_ids(self) -> list[int]:
        """Client ids that currently have a state."""
        return list(self._present)

    @property
    def state_bytes(self) -> int:
        """Bytes of all current states together."""
        return self._board_bytes

    @property
    def removed_ids(self) -> int:
        """Removed ids whose clock is still remembered."""
        return len(self._gone)

    def owner_of(self, client_id: int) -> Hashable | None:
        """The peer whose presence uses ``client_id`` now (``REMOTE``: another process's),
        or None."""
        present = self._present.get(client_id)
        return None if present is None else present.owner

    def state_of(self, client_id: int) -> bytes | None:
        """The JSON state of ``client_id``, or None if it has none (the change feed asks)."""
        present = self._present.get(client_id)
        return present.state if present is not None else None

    def ids_of(self, peer: Hashable) -> list[int]:
        """The client ids ``peer`` brought (the change feed names a batch's authors)."""
        return list(self._ids_by_peer.get(peer, ()))

    def apply(self, payload: bytes, peer: Hashable, now_ms: float | None = None) -> Applied:
        """Apply one awareness update from ``peer`` (at ``now_ms``, default: now).

        Raises ``CloseConnection(1007)`` if the payload is malformed, lists too many entries
        or holds a state that is not a JSON object (nothing is applied then).
        """
        entries = _split_entries(payload, self.limits)
        greeting = peer not in self._heard and len(entries) == 1
        if greeting:
            # A peer's first frame holding one entry: the stock client's own state, sent as
            # its connection opens, maybe with the clock it had before its last removal.
            # Only this frame: a later one of a peer showing nothing yet may be the echo of a
            # state removed meanwhile, which must not come back as this peer's.
            entries = [self._restamp_returning(entries[0])]
        self._heard.add(peer)
        return self._apply(entries, peer, time.time() * 1000 if now_ms is None else now_ms,
                           greeting)

    def apply_remote(self, payload: bytes) -> Applied:
        """Apply an awareness update another process relayed (its peers own those ids, and it
        broadcasts their removal). Raises ``CloseConnection(1007)`` if it is malformed."""
        return self._apply(_split_entries(payload, self.limits), REMOTE,
                           time.time() * 1000)

    def user_name_of(self, peer: Hashable) -> str:
        """The ``user.name`` one of ``peer``'s presence states shows ("" if none does)."""
        for client_id in self._ids_by_peer.get(peer, ()):
            present = self._present.get(client_id)
            try:
                user = json.loads(present.state).get("user") if present else None
            except ValueError:
                continue
            if isinstance(user, dict) and isinstance(user.get("name"), str) and user["name"]:
                return user["name"][:40]
        return ""

    def remove_peer(self, peer: Hashable) -> list[int]:
        """Forget ``peer``; remove the states it brought. Returns the removed client ids."""
        ids = self._ids_by_peer.pop(peer, set())
        self._first_id.pop(peer, None)
        self._tabs.discard(peer)
        self._heard.discard(peer)
        now_ms = time.time() * 1000
        for client_id in ids:
            self._remove(client_id, self._present[client_id].clock + 1, now_ms)
        return list(ids)

    def expire(self, now_ms: float | None = None) -> list[int]:
        """Remove states not renewed within the timeout; forget removed ids after twice the
        timeout. Returns the ids removed now."""
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        stale = [i for i, s in self._present.items() if now_ms - s.updated_ms >= self._timeout_ms]
        for client_id in stale:
            self._remove(client_id, self._present[client_id].clock + 1, now_ms)
        forgotten = [i for i, (_clock, at_ms) in self._gone.items()
                     if now_ms - at_ms >= 2 * self._timeout_ms]
        for client_id in forgotten:
            del self._gone[client_id]
        return stale

    def names_of(self, peer: Hashable) -> list[str]:
        """The ``user.name`` strings of the states ``peer`` brought (version authors); states
        are JSON objects (checked on arrival), a missing or odd name is left out."""
        names = []
        for client_id in self._ids_by_peer.get(peer, ()):
            user = json.loads(self._present[client_id].state).get("user")
            if isinstance(user, dict) and isinstance(user.get("name"), str):
                names.append(user["name"])
        return names

    def encode(self, client_ids: Iterable[int]) -> bytes:
        """Encode the current entries of ``client_ids`` (removed ones as ``null``; ids
        forgotten meanwhile are left out)."""
        entries = []
        for client_id in dict.fromkeys(client_ids):
            present = self._present.get(client_id)
            if present is not None:
                entries.append((client_id, present.clock, present.state))
            elif client_id in self._gone:
                entries.append((client_id, self._gone[client_id][0], b"null"))
        return _encode_entries(entries)

    def _apply(self, entries: list[RawEntry], owner: Hashable, now_ms: float,
               greeting: bool = False) -> Applied:
        """Apply ``entries`` from ``owner``; ``greeting``: they are its first presence frame,
        one entry (the stock client's own state as its connection opens)."""
        applied = Applied()
        # One entry per id (the last: a stock client never repeats one), and no more new ids
        # than the peer may still introduce, so JSON is decoded for a few states per frame
        # at most, however many entries it lists.
        budget = self.limits.max_ids_per_peer - len(self._ids_by_peer.get(owner, ()))
        candidates = []
        for entry in {entry[0]: entry for entry in entries}.values():
            if not self._may_change(entry, owner, now_ms, greeting):
                continue
            present = self._present.get(entry[0])
            if owner != REMOTE and (present is None or present.owner != owner) and \
                    entry[2] not in _NULL_STATES:
                if budget <= 0:
                    if owner not in self._tabs:  # a tab's relays past it: shown by their own
                        applied.dropped.append(_too_many_ids(self.limits.max_ids_per_peer))
                    continue
                budget -= 1
            candidates.append(entry)
        # Validate every state that would be kept before keeping any: all or nothing.
        news = [(entry, _checked_state(entry[2], self.limits.max_state_bytes))
                for entry in candidates]
        for (client_id, clock, _raw), (state, too_big) in news:
            if too_big is not None:
                applied.dropped.append(too_big)
            elif not self._may_change((client_id, clock, _raw), owner, now_ms, greeting):
                continue  # an earlier entry of this frame changed it already
            elif state is None:
                self._remove(client_id, self._recorded_clock(client_id, clock), now_ms)
                applied.changed.append(client_id)
            else:
                refusal = self._set(client_id, clock, state, owner, now_ms)
                if refusal is None:
                    applied.changed.append(client_id)
                    if owner != REMOTE and owner not in self._first_id:
                        self._first_id[owner] = client_id
                        if greeting:  # a tab: what else it sends is echoes and relays
                            self._tabs.add(owner)
                else:
                    applied.dropped.append(refusal)
        return applied

    def _may_change(self, entry: RawEntry, owner: Hashable, now_ms: float,
                    greeting: bool = False) -> bool:
        """Whether ``entry`` from ``owner`` could change anything: an id of ``owner`` (or of
        nobody, or one its owner stopped renewing) with a newer clock, or a removal at the
        current clock; or, in ``owner``'s ``greeting`` (its first presence, one entry), an id
        another peer only relays, at a clock not older than the relayed one."""
        client_id, clock, state = entry
        present = self._present.get(client_id)
        if present is not None:
            if present.owner != owner:
                if greeting and self._relayed(client_id, present) and \
                        state not in _NULL_STATES and clock >= present.clock:
                    return True  # its own connection: the relaying tab hands it over
                if not self._abandoned(present, now_ms):
                    return False  # first come: someone else's id (or the stock client's echo)
            return clock > present.clock or (clock == present.clock and state in _NULL_STATES)
        if state in _NULL_STATES:
            return False  # removing what is not there changes nothing (and is not kept)
        gone = self._gone.get(client_id)
        return gone is None or clock > gone[0]

    def _relayed(self, client_id: int, present: _State) -> bool:
        """Whether the peer showing ``client_id`` brought it besides its own first id (a tab
        relaying another tab's presence over BroadcastChannel, or a script's extra cursor),
        which the peer naming it alone in its first frame may take over."""
        return present.owner != REMOTE and self._first_id.get(present.owner) != client_id

    def _abandoned(self, present: _State, now_ms: float) -> bool:
        """Whether another connection may take ``present`` over: its owner has not renewed it
        for two thirds of the timeout, which an open stock client never lets happen (it
        renews every 15 s of 30); this is the client whose old connection the server has
        not seen close yet (a network change) coming back on a new one."""
        return now_ms - present.updated_ms >= self._timeout_ms * 2 / 3

    def _set(self, client_id: int, clock: int, state: bytes, owner: Hashable,
             now_ms: float) -> str | None:
        """Keep ``state``; return why it was dropped instead, if it was."""
        limits = self.limits
        present = self._present.get(client_id)
        old_bytes = len(present.state) if present is not None else 0
        if present is None or present.owner != owner:
            owned = self._ids_by_peer.get(owner, set())
            if owner != REMOTE and len(owned) >= limits.max_ids_per_peer:
                return _too_many_ids(limits.max_ids_per_peer)
            if present is None and len(self._present) >= limits.max_ids_per_board:
                return f"board already shows {len(self._present)} client ids (limit " \
                       f"{limits.max_ids_per_board})"
        if self._board_bytes - old_bytes + len(state) > limits.max_board_bytes:
            return f"board presence would pass {limits.max_board_bytes} bytes"
        clock = self._recorded_clock(client_id, clock)
        self._gone.pop(client_id, None)
        if present is not None and present.owner != owner:  # taken over (see _abandoned)
            self._ids_by_peer.get(present.owner, set()).discard(client_id)
        self._board_bytes += len(state) - old_bytes
        self._present[client_id] = _State(clock, state, now_ms, owner)
        self._ids_by_peer.setdefault(owner, set()).add(client_id)
        return None

    def _recorded_clock(self, client_id: int, clock: int) -> int:
        """``clock``, held to ``MAX_CLOCK_STEP`` past the known clock of ``client_id`` (or to
        ``MAX_FIRST_CLOCK`` for an id never seen)."""
        present = self._present.get(client_id)
        known = present.clock if present is not None else self._gone.get(client_id, (None,))[0]
        return min(clock, MAX_FIRST_CLOCK if known is None else known + MAX_CLOCK_STEP)

    def _remove(self, client_id: int, clock: int, now_ms: float) -> None:
        present = self._present.pop(client_id)
        self._board_bytes -= len(present.state)
        owned = self._ids_by_peer.get(present.owner)
        if owned is not None:
            owned.discard(client_id)
        self._gone.pop(client_id, None)  # re-insert: the dict stays in removal order
        self._gone[client_id] = (clock, now_ms)
        while len(self._gone) > self.limits.max_ids_per_board:
            del self._gone[next(iter(self._gone))]  # forget the oldest removal first

    def _restamp_returning(self, entry: RawEntry) -> RawEntry:
        client_id, clock, state = entry
        gone = self._gone.get(client_id)
        if gone is not None and state not in _NULL_STATES and clock <= gone[0]:
            return client_id, gone[0] + 1, state
        return entry


def _split_entries(payload: bytes, limits: PresenceLimits) -> list[RawEntry]:
    """The entries of an awareness update, states still raw bytes (a state over
    ``limits.max_state_bytes`` is not even copied: it becomes ``_TooBig``).

    Raises ``CloseConnection(1007)`` if the framing is wrong or it lists more entries than
    ``limits.max_entries_per_frame`` (checked before any entry is read).
    """
    max_entries, max_bytes = limits.max_entries_per_frame, limits.max_state_bytes
    try:
        count, pos = read_var_uint(payload, 0)
        if count > max_entries:
            raise FrameError(f"{count} entries, more than the {max_entries} a board can hold")
        entries: list[RawEntry] = []
        for _ in range(count):
            client_id, pos = read_var_uint(payload, pos)
            clock, pos = read_var_uint(payload, pos)
            length, pos = read_var_uint(payload, pos)
            if pos + length > len(payload):
                raise FrameError("awareness state runs past the end of the frame")
            state = payload[pos:pos + length] if length <= max_bytes else _TooBig(length)
            entries.append((client_id, clock, state))
            pos += length
        if pos != len(payload):
            raise FrameError("trailing bytes after the awareness entries")
    except FrameError as exc:
        raise _bad_awareness(exc) from None
    return entries


@dataclass(frozen=True)
class _TooBig:
    """Stands for a state over the size cap, which is dropped without being copied or read."""

    length: int


def _checked_state(raw: bytes | _TooBig, max_bytes: int) -> tuple[bytes | None, str | None]:
    """``(state, None)`` with ``state`` the JSON text to keep (None = gone), or
    ``(None, reason)`` when the state is over ``max_bytes`` (dropped, not decoded).

    Raises ``CloseConnection(1007)`` unless the state is UTF-8 JSON holding an object or null,
    with finite numbers only.
    """
    if isinstance(raw, _TooBig):
        return None, f"presence state of {raw.length} bytes is over {max_bytes}"
    if raw in _NULL_STATES:
        return None, None
    try:
        state = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad_awareness(exc) from None
    if state is None:
        return None, None
    if not isinstance(state, dict):
        raise _bad_awareness("awareness state is neither an object nor null")
    return raw, None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (browsers cannot parse it)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is out of range for a JSON number")
    return value


def _too_many_ids(limit: int) -> str:
    return f"connection already shows {limit} client ids (--presence-max-ids-per-peer)"


def _bad_awareness(reason: object) -> CloseConnection:
    return CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                           f"bad awareness update: {reason}")


def _encode_entries(entries: list[RawEntry]) -> bytes:
    # Length-prefixed in bytes (lib0 writeVarString), not characters: a state holding
    # non-ASCII text ("Zoë") must round-trip.
    parts = [write_var_uint(len(entries))]
    for client_id, clock, state in entries:
        parts += [write_var_uint(client_id), write_var_uint(clock), write_var_uint(len(state)),
                  state]
    return b"".join(parts)
