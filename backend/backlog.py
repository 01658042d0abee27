"""Bytes this process holds on behalf of peers: unsent output and large frames coming in.

``SendBacklog`` keeps the output queued for peers that the kernel has not taken bounded two
ways, without bounding the size of one frame (a fresh joiner of a 60 MiB board needs its
60 MiB step 2 in one piece):

- **progress**: every ``window_s`` each peer with unsent output must have drained at least
  ``min_read_bytes_per_s * window_s`` (or all it owed at the start of the window); one that
  did not is dropped, however little it holds;
- **total**: the unsent bytes of all peers stay under ``max_total_bytes``; past it the peers
  with the largest backlogs are dropped first. A whole-board step 2 shared by several
  joiners is one bytes object (``Room`` caches it), so it counts once.

``ReceiveBudget`` bounds the large sync step 2 frames being read at once (``ws_reader``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .peer import Peer

log = logging.getLogger(__name__)


class SendBacklog:
    """Process-wide account of the unsent output of every peer."""

    def __init__(self, max_total_bytes: int, min_read_bytes_per_s: float,
                 window_s: float) -> None:
        self.max_total_bytes = max_total_bytes
        self.min_read_bytes_per_s = min_read_bytes_per_s
        self.window_s = window_s
        self.dropped_slow = 0
        self.dropped_over_total = 0
        self._peers: dict[Peer, tuple[int, int]] = {}  # peer -> (drained, owed) at window start
        self._upper_bound = 0  # total as last measured, plus what was queued since

    @property
    def peers(self) -> int:
        """Peers that had unsent output at the last look."""
        return len(self._peers)

    def queued(self, peer: Peer, size: int) -> None:
        """``peer`` could not send ``size`` bytes at once: watch it, and enforce the total."""
        if peer not in self._peers:
            self._peers[peer] = (peer.drained_bytes, 0)
        self._upper_bound += size
        if self._upper_bound > self.max_total_bytes:
            self.enforce_total()

    def total_bytes(self) -> int:
        """Unsent bytes over all watched peers now (shared frames once)."""
        total = 0
        shared: dict[int, int] = {}
        for peer in self._peers:
            own, frame = peer.backlog_bytes()
            total += own
            if frame is not None:
                shared[id(frame)] = len(frame)
        return total + sum(shared.values())

    def enforce_total(self) -> None:
        """Drop the peers with the largest backlogs until the total is under the cap."""
        total = self.total_bytes()
        if total > self.max_total_bytes:
            for peer in sorted(self._peers, key=lambda p: p.pending_bytes, reverse=True):
                log.warning("board %s peer %s: %d bytes unsent while this process holds %d, "
                            "over the %d-byte total; dropping the connection", peer.board_id,
                            peer.name, peer.pending_bytes, total, self.max_total_bytes)
                self.dropped_over_total += 1
                peer.drop()  # forgets it
                total = self.total_bytes()
                if total <= self.max_total_bytes:
                    break
        self._upper_bound = total

    def sweep(self) -> None:
        """End of a window: drop peers that drained too little, forget those caught up."""
        floor = self.min_read_bytes_per_s * self.window_s
        for peer, (drained_then, owed) in list(self._peers.items()):
            pending, drained = peer.pending_bytes, peer.drained_bytes
            if peer.closed or pending == 0:
                del self._peers[peer]
                continue
            if drained - drained_then < min(owed, floor):
                log.warning("board %s peer %s: took %d bytes in %.1f s with %d unsent; "
                            "dropping it as a slow reader", peer.board_id, peer.name,
                            drained - drained_then, self.window_s, pending)
                self.dropped_slow += 1
                peer.drop()  # forgets it
                continue
            self._peers[peer] = (drained, pending)
        self._upper_bound = self.total_bytes()

    def forget(self, peer: Peer) -> None:
        """``peer`` closed."""
        self._peers.pop(peer, None)


class ReceiveBudget:
    """Bytes of large frames being read at once over all connections."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.reserved = 0

    def reserve(self, size: int) -> bool:
        """Reserve ``size`` bytes; False when that would pass ``max_bytes``."""
        if self.reserved + size > self.max_bytes:
            return False
        self.reserved += size
        return True

    def release(self, size: int) -> None:
        """Give back a reservation."""
        self.reserved -= size
