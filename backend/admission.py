"""Admission: WebSocket connection slots, counted from the moment a connection is admitted.

A slot is taken in ``BoardSocket.prepare`` before the first ``await`` (token check, board
load) and given back exactly once, when the connection closes or is refused. Counting only
once a peer had joined (after the board loaded) let 591 of 600 simultaneous upgrades from one
address in against a limit of 200 (issue 18.10); counted here, the 201st is refused at once.
"""

from __future__ import annotations

from collections import Counter

from .http_server import LogThrottle


class AdmissionRefused(Exception):
    """No slot: ``status`` is 429 (address or board full) or 503 (server full)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Admission:
    """One admitted connection's slot; ``release()`` gives it back (idempotent)."""

    __slots__ = ("_counter", "board_id", "released", "remote")

    def __init__(self, counter: AdmissionCounter, board_id: str, remote: str) -> None:
        self._counter = counter
        self.board_id = board_id
        self.remote = remote
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._counter.give_back(self)


class AdmissionCounter:
    """Slots in use per client address, per board and in total, against their limits."""

    def __init__(self, max_total: int, max_per_address: int, max_per_board: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.max_per_board = max_per_board
        self.total = 0
        self.by_address: Counter[str] = Counter()
        self.by_board: Counter[str] = Counter()
        self.log_throttle = LogThrottle()

    def take(self, board_id: str, remote: str) -> Admission:
        """A slot for one connection from ``remote`` to ``board_id``. Raises
        ``AdmissionRefused``."""
        if self.total >= self.max_total:
            raise AdmissionRefused(503, f"server is at its limit of {self.max_total} "
                                        "connections")
        if self.by_address[remote] >= self.max_per_address:
            raise AdmissionRefused(429, f"too many connections from your address (limit "
                                        f"{self.max_per_address})")
        if self.by_board[board_id] >= self.max_per_board:
            raise AdmissionRefused(429, f"board is full ({self.max_per_board} connections)")
        self.total += 1
        self.by_address[remote] += 1
        self.by_board[board_id] += 1
        return Admission(self, board_id, remote)

    def give_back(self, admission: Admission) -> None:
        self.total -= 1
        for counts, key in ((self.by_address, admission.remote),
                            (self.by_board, admission.board_id)):
            counts[key] -= 1
            if counts[key] <= 0:
                del counts[key]
