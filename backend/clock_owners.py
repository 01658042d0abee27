"""ClockOwners: which peer may write new clocks of which Yjs client id on one board.

A Yjs client numbers its own structs with its client id and consecutive clocks; the server
ignores any struct whose clock it already holds. An editor who sends a tiny update (a GC
range, a delete range) claiming another client's *next* clocks therefore makes that client's
later edits vanish silently (issue 18, item 18: clock squatting). Rules, checked before the
update is applied:

- A client id's new clocks (past what the board holds) may come from one live peer only: the
  first that sent them (first come). Re-sent clocks the board already holds are harmless
  and accepted from anyone (a sync step 2 may carry other clients' structs).
- When that peer leaves, the id is free again: a reconnecting client keeps its client id and
  sends its offline edits in its sync step 2, and the server cannot tell it from anyone else.
- A delete range may only cover clocks the board holds or the same update brings: deleting
  clocks nobody has written yet would delete the owner's future edits on arrival.
"""

from __future__ import annotations

from collections.abc import Hashable

from .errors import CloseConnection
from .protocol import CloseCode
from .update_check import TypeDepths, UpdateSummary


class ClockOwners:
    """First-come ownership of client ids among a board's live peers."""

    def __init__(self) -> None:
        self._owner_by_id: dict[int, Hashable] = {}
        self._ids_by_peer: dict[Hashable, set[int]] = {}

    def admit(self, peer: Hashable, summary: UpdateSummary, board: TypeDepths) -> None:
        """Check an update from ``peer`` (before it is applied) and make ``peer`` the owner
        of the client ids whose new clocks it writes.

        Raises ``CloseConnection(1007)`` if it writes new clocks of a client id another live
        peer owns, or deletes clocks nobody wrote yet; nothing is claimed then."""
        claims = []
        for client, (_first, end) in summary.clocks.items():
            if end > board.end_clock(client):
                owner = self._owner_by_id.get(client)
                if owner is None:
                    claims.append(client)
                elif owner != peer:
                    raise CloseConnection(
                        CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                        f"update writes new clocks of client {client}, which another "
                        "connection uses (clock squatting)")
        for client, end in summary.deletes.items():
            written = max(board.end_clock(client), summary.clocks.get(client, (0, 0))[1])
            if end > written:
                raise CloseConnection(
                    CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA,
                    f"delete range up to clock {end} of client {client}, which has written "
                    f"only {written} (clock squatting)")
        for client in claims:
            self._owner_by_id[client] = peer
            self._ids_by_peer.setdefault(peer, set()).add(client)

    def release(self, peer: Hashable) -> None:
        """Forget ``peer``'s client ids (it left)."""
        for client in self._ids_by_peer.pop(peer, ()):
            self._owner_by_id.pop(client, None)

    def owned_by(self, peer: Hashable) -> set[int]:
        """Client ids ``peer`` owns."""
        return set(self._ids_by_peer.get(peer, ()))

