"""BoardDocument: one board's authoritative pycrdt ``Doc``.

``apply_update`` is where every incoming update is validated: pycrdt raises ``ValueError``
on bytes it cannot decode and leaves the document unchanged. No observers are attached to
the ``Doc`` (pycrdt 0.14 keeps a document alive after ``unobserve``), so dropping the last
reference to a ``BoardDocument`` really frees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pycrdt import Doc

from . import metrics
from .errors import CloseConnection
from .protocol import CloseCode

EMPTY_UPDATE = b"\x00\x00"
"""Yjs v1 encoding of an update that changes nothing (no structs, empty delete set)."""
EMPTY_STATE_VECTOR = b"\x00"
"""The state vector of a client that holds nothing (a fresh tab, a late joiner)."""


class BoardDocument:
    """The merged state of one board.

    The whole-board encoding is cached until the next change: every late joiner with an empty
    document and every export asks for exactly that, and encoding a 10,000-element board
    costs tens of milliseconds of event-loop time each time.
    """

    def __init__(self) -> None:
        self.doc = Doc()
        self._full_update: bytes | None = None

    @classmethod
    def from_updates(cls, updates: Iterable[bytes]) -> BoardDocument:
        """Rebuild a board from stored updates (snapshot first, then the log).

        Raises ``ValueError`` if a stored update cannot be decoded.
        """
        document = cls()
        with document.doc.transaction():
            for update in updates:
                if update != EMPTY_UPDATE:
                    document.doc.apply_update(update)
        return document

    def apply_update(self, update: bytes) -> bool:
        """Apply one client update; return False when it was empty (nothing to relay or store).

        Raises ``CloseConnection(1007)`` when pycrdt rejects the bytes; the document is then
        unchanged.
        """
        if update == EMPTY_UPDATE:
            return False
        started = time.perf_counter()
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"update rejected: {exc}") from None
        self._full_update = None
        metrics.UPDATE_APPLY_SECONDS.observe(time.perf_counter() - started)
        return True

    def state_vector(self) -> bytes:
        """The encoded state vector (what sync step 1 carries)."""
        return self.doc.get_state()

    def missing_since(self, state_vector: bytes) -> bytes:
        """The update holding everything a peer with ``state_vector`` lacks (sync step 2).

        Raises ``CloseConnection(1007)`` for an undecodable state vector.
        """
        if state_vector == EMPTY_STATE_VECTOR:
            return self.full_update()
        try:
            return self.doc.get_update(state_vector)
        except ValueError as exc:
            raise CloseConnection(CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                                  f"bad state vector: {exc}") from None

    def full_update(self) -> bytes:
        """The whole board as one update (cached until the next change)."""
        if self._full_update is None:
            self._full_update = self.doc.get_update()
        return self._full_update
