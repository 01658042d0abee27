"""BoardDocument: one board's authoritative pycrdt ``Doc``.

``apply_update`` is where every incoming update is validated: first by the bounded pre-check
of ``update_check`` (nesting, chains, counts: what would crash or freeze pycrdt), then by
pycrdt, which raises ``ValueError`` on bytes it cannot decode and leaves the document
unchanged. No observers are attached to
the ``Doc`` (pycrdt 0.14 keeps a document alive after ``unobserve``), so dropping the last
reference to a ``BoardDocument`` really frees it.

Every encoding the board hands out (to late joiners, exports, compaction) carries what pycrdt
alone would drop (issue 19): structs and deletions still waiting for their dependencies
(pycrdt holds them as pending but leaves them out of ``get_update``) are kept as raw bytes and
merged in until the document has integrated them, and subdocument options (``meta``) are
spliced back as the client sent them (``update_shape``). ``Y.XmlHook`` types, which pycrdt
cannot read at all, are held as ``Y.Map`` and turned back into hooks in what clients and the
store get (``xml_hooks``, ``for_clients=True``); the server's own readers get the maps.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable

from pycrdt import ContentAttribute, Doc, IdMap, IdSet, Map, get_state, get_update, merge_updates

from . import metrics
from .errors import CloseConnection
from .protocol import CloseCode
from .update_check import TypeDepths, UpdateRefused, UpdateSummary, check_update
from .update_shape import (
    PYCRDT_OPTIONS_MARK,
    guid_pattern,
    read_uint,
    state_as_id_ranges,
    subdoc_option_spans,
    subdoc_options_with_meta,
)
from .xml_hooks import HookRefused, TooManyHooks, XmlHooks, state_clocks

log = logging.getLogger(__name__)

EMPTY_UPDATE = b"\x00\x00"
"""Yjs v1 encoding of an update that changes nothing (no structs, empty delete set)."""
EMPTY_STATE_VECTOR = b"\x00"
"""The state vector of a client that holds nothing (a fresh tab, a late joiner)."""
REFUSED = "update refused by the pre-check: "


MAX_SUBDOC_OPTIONS = 1000
"""Subdocuments per board whose options (``meta``) are kept to restore re-encodings."""
MAX_UNCHECKED = 256
"""Held update parts (see ``BoardDocument.track``) after which they are checked and merged."""
RECORD_RUNS = 4096
"""Runs of a big update's summary recorded in one event-loop turn (``TypeDepths.record``)."""


class BoardDocument:
    """The merged state of one board.

    The whole-board encoding is cached until the next change: every late joiner with an empty
    document and every export asks for exactly that, and encoding a 10,000-element board
    costs tens of milliseconds of event-loop time each time.

    While a big update is applied in parts (``begin_parts``), the ``Doc`` holds only some of
    it; every encoding handed out then (``full_update``, ``state_vector``, ``missing_since``,
    ``whole_doc``) is of the whole state after the update, never of a half. An import and a
    client's big update may be applied in parts at the same time: both are counted whole.
    """

    def __init__(self) -> None:
        self.doc = Doc()
        self.shape = TypeDepths()
        self.hooks = XmlHooks()
        self._full_update: bytes | None = None  # as clients get it (hooks restored)
        self._maps_update: bytes | None = None  # as pycrdt reads it
        self._last_applied: tuple[bytes, bytes] = (EMPTY_UPDATE, EMPTY_UPDATE)  # as sent, read
        self._incoming: list[bytes] = []  # big updates being applied in parts
        self._held: list[bytes] = []  # parts of updates not integrated when they came
        self._held_at: bytes | None = None  # the state ``_held`` was last pruned at
        self._subdoc_options: dict[str, bytes] = {}
        self._subdoc_guids: re.Pattern[bytes] | None = None
        self._pruned_at: bytes | None = None  # the delete set hook names were last pruned at

    @classmethod
    def from_updates(cls, updates: Iterable[bytes], board_id: str = "",
                     skip_undecodable: bool = True) -> BoardDocument:
        """Rebuild a board from stored updates (snapshot first, then the log).

        A stored row the pre-check refuses (stored before it existed) is skipped and logged
        at WARNING; one pycrdt cannot decode is skipped and logged at ERROR, or raises
        ``ValueError`` unless ``skip_undecodable``. Each row is applied in its own
        transaction: yrs merges adjacent structs by copying, and within one transaction the
        copies of a long chain spread over rows add up.
        """
        document = cls()
        rows = list(updates)
        applied = []
        for index, update in enumerate(rows):
            if update == EMPTY_UPDATE:
                continue
            try:
                summary = document.check(update)
                readable, hooks = document._readable(update, summary)
                document.doc.apply_update(readable)  # its own transaction: see above
            except CloseConnection as exc:
                log.warning("board %s: stored update %d of %d (%d bytes) is skipped: %s",
                            board_id, index + 1, len(rows), len(update), exc.reason)
                continue
            except ValueError as exc:
                if not skip_undecodable:
                    raise
                log.error("board %s: stored update %d of %d cannot be decoded and is skipped: "
                          "%s", board_id, index + 1, len(rows), exc)
                continue
            document.shape.record(summary)
            document.hooks.keep(hooks)
            applied.append(readable)
        document.track(applied)
        return document

    def track(self, updates: list[bytes]) -> None:
        """Note what of ``updates`` (already applied) pycrdt would leave out of encodings:
        parts not integrated yet, and subdocument options.

        Structs beyond the state vector are known at once (a native diff); deletions are
        only suspect until ``_pending`` checks them, in one batch, when an encoding is asked
        for (or when ``MAX_UNCHECKED`` have piled up): most updates delete something, and
        the check costs more than applying a small update."""
        self._full_update = self._maps_update = None
        state = self.doc.get_state()
        for update in updates:
            rest = get_update(update, state)
            if rest != EMPTY_UPDATE:  # structs not integrated, or deletions to check
                self._held.append(rest)
                self._held_at = None
            options = subdoc_options_with_meta(update)
            if options:
                self._remember_subdoc_options(options)
        if len(self._held) > MAX_UNCHECKED:
            self._pending()

    @property
    def has_pending(self) -> bool:
        """Whether structs or deletions wait for updates that have not arrived."""
        return self._pending() is not None

    def _pending(self) -> bytes | None:
        """Everything held back, merged, pruned of what has integrated since."""
        if not self._held:
            return None
        state = self.doc.get_state()
        if state != self._held_at:
            held = self._held[0] if len(self._held) == 1 else merge_updates(*self._held)
            rest = _not_integrated(held, state)
            self._held = [] if rest is None else [rest]
            self._held_at = state
        return self._held[0] if self._held else None

    def _remember_subdoc_options(self, options: dict[str, bytes]) -> None:
        new = options.keys() - self._subdoc_options.keys()
        room = MAX_SUBDOC_OPTIONS - len(self._subdoc_options)
        if len(new) > room:
            if room > 0:
                log.warning("a board holds over %d subdocuments with meta; the meta of further "
                            "ones is not kept when the server re-encodes", MAX_SUBDOC_OPTIONS)
            new = set(sorted(new)[:max(room, 0)])
        self._subdoc_options.update({guid: options[guid] for guid in options
                                     if guid in new or guid in self._subdoc_options})
        if new:
            self._subdoc_guids = guid_pattern(list(self._subdoc_options))

    def merged(self, updates: list[bytes]) -> bytes:
        """``updates`` (applied here, as their senders wrote them) as one update, as clients
        get it (the relay of one loop turn). The last update applied is relayed now:
        ``readable`` forgets it (it could be a 60 MiB step 2)."""
        if len(updates) == 1:
            merged = self._restore_options(updates[0])
        else:
            merged = self.restore(merge_updates(*map(self.readable, updates)))
        self._last_applied = (EMPTY_UPDATE, EMPTY_UPDATE)
        return merged

    def readable(self, update: bytes) -> bytes:
        """``update`` (applied here) as pycrdt can read it: ``Y.XmlHook`` types as maps.
        Free for the last update applied (the change feed asks right after it is)."""
        if update is self._last_applied[0]:
            return self._last_applied[1]
        return self.hooks.as_maps(update, bounded=False)[0] if self.hooks.names else update

    def restore(self, update: bytes) -> bytes:
        """``update`` (made by pycrdt) as clients get it: subdocument options and
        ``Y.XmlHook`` types as clients sent them."""
        return self._restore_hooks(self._restore_options(update))

    def _restore_hooks(self, update: bytes) -> bytes:
        if not self.hooks.names:
            return update
        return self.hooks.restore(update, state_clocks(self.doc.get_state()))

    def _restore_options(self, update: bytes) -> bytes:
        """``update`` with each subdocument's options as its client sent them (pycrdt drops
        ``meta``)."""
        if self._subdoc_guids is None or PYCRDT_OPTIONS_MARK not in update:
            return update
        parts, pos = [], 0
        for guid, start, end in subdoc_option_spans(update, self._subdoc_guids):
            parts += [update[pos:start], self._subdoc_options[guid]]
            pos = end
        return b"".join(parts) + update[pos:] if parts else update

    def _readable(self, update: bytes,
                  summary: UpdateSummary) -> tuple[bytes, dict[tuple[int, int], bytes]]:
        """``XmlHooks.as_maps`` for an update that holds hooks. Raises
        ``CloseConnection(4422)`` past the bounds of ``xml_hooks``. At the bound on the
        number of hooks, the names of hooks deleted since the last look are dropped first
        (``_prune_hooks``): only hooks that are still there count."""
        if not summary.xml_hooks:
            return update, {}
        held = state_clocks(self.doc.get_state())
        try:
            try:
                return self.hooks.as_maps(update, held)
            except TooManyHooks:
                if not self._prune_hooks():
                    raise
                return self.hooks.as_maps(update, held)
        except HookRefused as exc:
            raise CloseConnection(CloseCode.WS_4422_UNSUPPORTED_CONTENT, str(exc)) from None

    def _prune_hooks(self) -> bool:
        """Forget the names of deleted hooks (pycrdt encodes deleted content without its
        type, so they are never asked for again); False when none was dropped. The delete
        set is read at most once per change of it: an update refused at the bound does not
        make the next one read it again."""
        encoded = self.doc.get_update(self.doc.get_state())  # no structs: the delete set
        if encoded == self._pruned_at:
            return False
        self._pruned_at = encoded
        return self.hooks.prune(encoded[read_uint(encoded)[1]:]) > 0

    def check(self, update: bytes) -> UpdateSummary:
        """The bounded pre-check of ``update_check`` against this board.

        Raises ``CloseConnection(1007)`` for an update pycrdt must not see."""
        try:
            return check_update(update, self.shape)
        except UpdateRefused as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"{REFUSED}{exc}") from None

    def apply_update(self, update: bytes, summary: UpdateSummary | None = None) -> bool:
        """Apply one update; return False when it was empty (nothing to relay or store).

        ``summary`` is ``check(update)`` if the caller ran it already. Raises
        ``CloseConnection(1007)`` when the pre-check or pycrdt rejects the bytes, 4422 when
        its ``Y.XmlHook`` types break a bound of ``xml_hooks``; the document is then
        unchanged.
        """
        if update == EMPTY_UPDATE:
            return False
        if summary is None:
            summary = self.check(update)
        started = time.perf_counter()
        readable, hooks = self._readable(update, summary)
        try:
            self.doc.apply_update(readable)
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"update rejected: {exc}") from None
        self.shape.record(summary)
        self.hooks.keep(hooks)
        self._last_applied = (update, readable)
        self.track([readable])
        metrics.UPDATE_APPLY_SECONDS.observe(time.perf_counter() - started)
        return True

    def begin_parts(self, update: bytes) -> None:
        """``update`` is about to be applied in parts (``apply_part``): until
        ``end_parts(update)``, encodings are of the state with the whole of it."""
        self._incoming.append(update)
        self._full_update = self._maps_update = None

    def end_parts(self, update: bytes) -> None:
        """Every part of ``update`` (given to ``begin_parts``) is applied, or the rest never
        will be: encodings no longer add it to the ``Doc``."""
        self._incoming = [held for held in self._incoming if held is not update]
        self._full_update = self._maps_update = None

    def apply_part(self, part: bytes) -> None:
        """Apply one part of a big update whose pre-check covered the whole update
        (``update_parts``), between ``begin_parts`` and ``end_parts``; ``shape.record`` its
        summary once every part is in. Raises ``CloseConnection`` as ``apply_update``
        does."""
        started = time.perf_counter()
        try:
            self.doc.apply_update(part)
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"update rejected: {exc}") from None
        self.track([part])
        metrics.UPDATE_APPLY_SECONDS.observe(time.perf_counter() - started)

    async def record_in_turns(self, summary: UpdateSummary) -> None:
        """``shape.record(summary)`` of a big update applied in parts, ``RECORD_RUNS`` runs
        per event-loop turn (it may hold tens of thousands)."""
        for start in range(0, len(summary.runs), RECORD_RUNS):
            await asyncio.sleep(0)
            self.shape.record(UpdateSummary(runs=summary.runs[start:start + RECORD_RUNS]))
        self.shape.record(UpdateSummary(tails=summary.tails))

    def holds(self, clocks: dict[int, int]) -> bool:
        """Whether the document has integrated each client's structs up to ``clocks``."""
        data = self.doc.get_state()
        count, pos = read_uint(data)
        state = {}
        for _ in range(count):
            client, pos = read_uint(data, pos)
            state[client], pos = read_uint(data, pos)
        return all(state.get(client, 0) >= end for client, end in clocks.items())

    def viewers_may_comment(self) -> bool:
        """Whether ``meta.commentsForViewers`` is on: view-only links may then write
        comments (issue 20)."""
        try:
            return self.doc.get("meta", type=Map).get("commentsForViewers") is True
        except (TypeError, ValueError):  # a "meta" root of another type: off
            return False

    def state_vector(self) -> bytes:
        """The encoded state vector (what sync step 1 carries)."""
        if self._incoming:
            return get_state(self.full_update())
        return self.doc.get_state()

    def whole_doc(self) -> Doc:
        """The ``Doc``; while an update is applied in parts, a copy holding all of it."""
        if not self._incoming:
            return self.doc
        copy = Doc()
        copy.apply_update(self.full_update())
        return copy

    def missing_since(self, state_vector: bytes, for_clients: bool = False) -> bytes:
        """The update holding everything a peer with ``state_vector`` lacks (sync step 2).

        ``for_clients``: as clients (and the store) get it, ``Y.XmlHook`` types restored;
        else as pycrdt reads it (hooks as maps: pycrdt misreads a hook). Raises
        ``CloseConnection(1007)`` for an undecodable state vector.
        """
        if state_vector == EMPTY_STATE_VECTOR:
            return self.full_update(for_clients)
        if self._incoming:
            missing = self._restore_options(_missing_from(self.full_update(), state_vector))
            return self._restore_hooks(missing) if for_clients else missing
        try:
            missing = self.doc.get_update(state_vector)
            pending = self._pending()
            if pending is not None:
                missing = merge_updates(missing, get_update(pending, state_vector))
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"bad state vector: {exc}") from None
        missing = self._restore_options(missing)
        return self._restore_hooks(missing) if for_clients else missing

    def full_update(self, for_clients: bool = False) -> bytes:
        """The whole board as one update, pending parts included (cached until the next
        change); while an update is applied in parts, with all of it; ``for_clients`` as in
        ``missing_since``."""
        if self._maps_update is None:
            update = self.doc.get_update()
            pending = self._pending()
            if pending is not None:
                update = merge_updates(update, pending)
            if self._incoming:
                update = merge_updates(update, *self._incoming)
            self._maps_update = self._restore_options(update)
        if not for_clients or not self.hooks.names:
            return self._maps_update
        if self._full_update is None:
            self._full_update = self._full_update_with_hooks()
        return self._full_update

    def _full_update_with_hooks(self) -> bytes:
        """``full_update(for_clients=True)``: without pending parts, the hook writers'
        structs and everyone else's are encoded apart by pycrdt, from the document (a
        third of the time of splitting the whole encoding)."""
        assert self._maps_update is not None
        if self._pending() is not None or self._incoming:
            return self._restore_hooks(self._maps_update)
        split_off = state_clocks(self.doc.get_state()).keys() - self.hooks.writers
        if not split_off:
            return self._restore_hooks(self._maps_update)
        restored = self.hooks.restore_encoding(self.doc.get_update, split_off)
        return self._maps_update if restored is None else self._restore_options(restored)


def _missing_from(update: bytes, state_vector: bytes) -> bytes:
    """What of ``update`` a peer with ``state_vector`` lacks; ``CloseConnection(1007)`` for
    an undecodable state vector."""
    try:
        return get_update(update, state_vector)
    except ValueError as exc:
        raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                              f"bad state vector: {exc}") from None


_MARK = [ContentAttribute("deleted", True)]  # IdMap ignores ranges without attributes


def _not_integrated(update: bytes, state: bytes) -> bytes | None:
    """What of ``update`` (already applied) the document with ``state`` has not integrated:
    structs beyond its state vector, or deletions of items it does not hold yet (pycrdt keeps
    both as pending). None when everything is in."""
    rest = get_update(update, state)
    structs, pos = read_uint(rest)
    if structs:
        return rest
    if rest[pos:pos + 1] == b"\x00":  # no deletions either
        return None
    # deletions of items the document does not hold yet, compared natively: a step 2 carries
    # the sender's whole delete set, tens of thousands of ranges on a big board
    deletions = IdMap.from_set(IdSet.decode(rest[pos:]), _MARK)
    return rest if deletions - IdSet.decode(state_as_id_ranges(state)) else None
