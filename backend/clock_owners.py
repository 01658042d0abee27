"""ClockOwners: which peer may write new clocks of which Yjs client id on one board.

A Yjs client numbers its own structs with its client id and consecutive clocks; the server
ignores any struct whose clock it already holds. An editor who sends a tiny update (a GC
range, a delete range) claiming another client's *next* clocks therefore makes that client's
later edits vanish silently (issue 18, item 18: clock squatting). Rules, checked before the
update is applied:

- A client id belongs to the live peer whose presence uses it (the presence store gives ids
  to peers first come). Every stock provider announces its document's client id in its
  presence, and only its author writes a client id's new clocks.
- That ownership counts once the owner has sent its sync step 2 (its answer to the server's
  step 1): from then on the board holds every struct the owner has of its own id, so new
  clocks of that id from anyone else are a squat and are refused. Before it, another peer's
  step 2 may legitimately bring the owner's structs (after a server crash lost them, every
  reconnecting client resends what it relayed), so they are accepted.
- Clocks the board already holds are harmless and accepted from anyone.
- A delete range may only cover clocks the board holds or the same update brings: deleting
  clocks nobody has written yet would delete the owner's future edits on arrival.

- With several processes (``--broker``), a process whose peer synced announces that peer's
  presence ids (``RemoteKind.OWNED``, after the step 2's update, on the same ordered stream);
  on the other processes those ids, while another process's presence uses them, are
  protected the same way. An id's protection there ends with that presence (removed or
  expired).

Not covered: a client id with no live owner (its client offline, or a script that sends no
presence) can be squatted; its author's later edits of those clocks are then ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from .awareness import REMOTE
from .errors import CloseConnection
from .protocol import CloseCode
from .update_check import TypeDepths, UpdateSummary


class ClockOwners:
    """Client-id ownership among a board's live peers, from their presence."""

    def __init__(self, presence_owner: Callable[[int], Hashable | None]) -> None:
        self._presence_owner = presence_owner
        self._synced: set[Hashable] = set()
        self._synced_elsewhere: set[int] = set()  # ids of other processes' synced peers

    def synced_elsewhere(self, client_ids: list[int]) -> None:
        """Another process says its peers using ``client_ids`` synced: protect the ones
        whose presence here is that process's (others are ignored, which bounds the set)."""
        self._synced_elsewhere.update(
            client for client in client_ids if self._presence_owner(client) == REMOTE)

    def gone(self, client_ids: list[int]) -> None:
        """The presence of ``client_ids`` ended (removed or expired)."""
        self._synced_elsewhere.difference_update(client_ids)

    def synced(self, peer: Hashable) -> None:
        """``peer`` sent its sync step 2: its presence ids are protected from now on."""
        self._synced.add(peer)

    def admit(self, peer: Hashable, summary: UpdateSummary, board: TypeDepths) -> None:
        """Check an update from ``peer`` before it is applied.

        Raises ``CloseConnection(1007)`` if it writes new clocks of a client id that another
        synced live peer's presence uses, or deletes clocks nobody wrote yet."""
        for client, (_first, end) in summary.clocks.items():
            if end > board.end_clock(client):
                owner = self._presence_owner(client)
                if owner is not None and owner != peer and (
                        owner in self._synced or
                        (owner == REMOTE and client in self._synced_elsewhere)):
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

    def release(self, peer: Hashable) -> None:
        """Forget ``peer`` (it left; its presence ids go with it)."""
        self._synced.discard(peer)


MAX_OWNED_IDS = 1000
"""Client ids one ``RemoteKind.OWNED`` message may name (more are ignored)."""


def encode_owned(client_ids: set[int]) -> bytes:
    """The ``RemoteKind.OWNED`` payload naming ``client_ids`` (``b"12,34"``)."""
    return ",".join(map(str, sorted(client_ids))).encode()


def decode_owned(payload: bytes) -> list[int]:
    """The client ids of an ``OWNED`` payload; malformed parts are skipped."""
    return [int(part) for part in payload.split(b",")[:MAX_OWNED_IDS]
            if part.isdigit() and len(part) <= 20]
