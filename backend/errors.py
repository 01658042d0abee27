"""Errors raised below the WebSocket handler and turned into one close in one place."""

from __future__ import annotations

from .protocol import CloseCode


class CloseConnection(Exception):
    """Close this peer only, with ``code`` and a short ``reason`` (sent in the close frame).

    Raised deep (frame parsing, document, presence); caught by the room, which logs one
    WARNING naming board and peer, closes that peer and carries on with the others.
    """

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(f"{code.name}: {reason}")
        self.code = code
        self.reason = reason


class BoardTooLarge(ValueError):
    """A server-made update (import) would take a board past ``--max-board-bytes``; nothing
    was applied. The message says how big the board is and what the cap is."""
