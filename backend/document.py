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
spliced back as the client sent them (``update_shape``).
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
    MAX_SHAPE_BYTES,
    PYCRDT_OPTIONS_MARK,
    ShapeError,
    guid_pattern,
    read_shape,
    read_uint,
    state_as_id_ranges,
    subdoc_option_spans,
    subdoc_options_with_meta,
)

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
    ``whole_doc``) is of the whole state after the update, never of a half.
    """

    def __init__(self) -> None:
        self.doc = Doc()
        self.shape = TypeDepths()
        self._full_update: bytes | None = None
        self._incoming: bytes | None = None  # a big update being applied in parts
        self._held: list[bytes] = []  # parts of updates not integrated when they came
        self._held_at: bytes | None = None  # the state ``_held`` was last pruned at
        self._subdoc_options: dict[str, bytes] = {}
        self._subdoc_guids: re.Pattern[bytes] | None = None

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
                document.doc.apply_update(update)  # its own transaction: see above
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
            applied.append(update)
        document.track(applied)
        return document

    def track(self, updates: list[bytes]) -> None:
        """Note what of ``updates`` (already applied) pycrdt would leave out of encodings:
        parts not integrated yet, and subdocument options.

        Structs beyond the state vector are known at once (a native diff); deletions are
        only suspect until ``_pending`` checks them, in one batch, when an encoding is asked
        for (or when ``MAX_UNCHECKED`` have piled up): most updates delete something, and
        the check costs more than applying a small update."""
        self._full_update = None
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

    def restore(self, update: bytes) -> bytes:
        """``update`` (made by pycrdt) with each subdocument's options as its client sent
        them (pycrdt drops ``meta``)."""
        if self._subdoc_guids is None or PYCRDT_OPTIONS_MARK not in update:
            return update
        parts, pos = [], 0
        for guid, start, end in subdoc_option_spans(update, self._subdoc_guids):
            parts += [update[pos:start], self._subdoc_options[guid]]
            pos = end
        return b"".join(parts) + update[pos:] if parts else update

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
        ``CloseConnection(1007)`` when the pre-check or pycrdt rejects the bytes; the
        document is then unchanged.
        """
        if update == EMPTY_UPDATE:
            return False
        if summary is None:
            summary = self.check(update)
        started = time.perf_counter()
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            _refuse(update, exc)
        self.shape.record(summary)
        self.track([update])
        metrics.UPDATE_APPLY_SECONDS.observe(time.perf_counter() - started)
        return True

    def begin_parts(self, update: bytes) -> None:
        """``update`` is about to be applied in parts (``apply_part``): until ``end_parts``,
        encodings are of the state with the whole of it."""
        self._incoming = update
        self._full_update = None

    def end_parts(self) -> None:
        """Every part of the update given to ``begin_parts`` is applied (or the rest never
        will be): encodings are of the ``Doc`` again."""
        self._incoming = None
        self._full_update = None

    def apply_part(self, part: bytes) -> None:
        """Apply one part of a big update whose pre-check covered the whole update
        (``update_parts``), between ``begin_parts`` and ``end_parts``; ``shape.record`` its
        summary once every part is in. Raises ``CloseConnection`` as ``apply_update``
        does."""
        started = time.perf_counter()
        try:
            self.doc.apply_update(part)
        except ValueError as exc:
            _refuse(part, exc)
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
        if self._incoming is not None:
            return get_state(self.full_update())
        return self.doc.get_state()

    def whole_doc(self) -> Doc:
        """The ``Doc``; while an update is applied in parts, a copy holding all of it."""
        if self._incoming is None:
            return self.doc
        copy = Doc()
        copy.apply_update(self.full_update())
        return copy

    def missing_since(self, state_vector: bytes) -> bytes:
        """The update holding everything a peer with ``state_vector`` lacks (sync step 2).

        Raises ``CloseConnection(1007)`` for an undecodable state vector.
        """
        if state_vector == EMPTY_STATE_VECTOR:
            return self.full_update()
        if self._incoming is not None:
            return self.restore(_missing_from(self.full_update(), state_vector))
        try:
            missing = self.doc.get_update(state_vector)
            pending = self._pending()
            if pending is not None:
                missing = merge_updates(missing, get_update(pending, state_vector))
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"bad state vector: {exc}") from None
        return self.restore(missing)

    def full_update(self) -> bytes:
        """The whole board as one update, pending parts included (cached until the next
        change); while an update is applied in parts, with all of it."""
        if self._full_update is None:
            update = self.doc.get_update()
            pending = self._pending()
            if pending is not None:
                update = merge_updates(update, pending)
            if self._incoming is not None:
                update = merge_updates(update, self._incoming)
            self._full_update = self.restore(update)
        return self._full_update


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


def _refuse(update: bytes, exc: ValueError) -> None:
    """Raise the close for an update pycrdt rejected: 4422 for valid Yjs it cannot hold
    (``Y.XmlHook``), which the stock client does not retry into, else 1007. Only updates up
    to ``MAX_SHAPE_BYTES`` are read in Python to tell them apart."""
    try:
        shape = read_shape(update) if len(update) <= MAX_SHAPE_BYTES else None
    except ShapeError:
        shape = None
    if shape is not None and shape.has_xml_hook:
        raise CloseConnection(CloseCode.WS_4422_UNSUPPORTED_CONTENT,
                              "Y.XmlHook content cannot be stored by this server") from None
    raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                          f"update rejected: {exc}") from None
