"""Broker: fan-out of updates and presence between syncboard processes.

A room publishes what its own peers sent (after applying it); the broker delivers what other
processes published for the boards this process has loaded, through the ``deliver`` callback
(``BoardRegistry.receive_remote``). ``LocalBroker`` is the single-process default: there is
nobody to tell. A Redis implementation lives in its own module and is chosen in ``app.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol


class RemoteKind(Enum):
    """What a broker message carries."""

    UPDATE = "update"
    AWARENESS = "awareness"
    REVOKE = "revoke"  # payload: the new token generation in ASCII digits
    DELETE = "delete"  # payload: empty; the board was deleted
    OWNED = "owned"  # payload: ASCII client ids, comma-separated (see clock_owners.py)


Deliver = Callable[[str, RemoteKind, bytes], None]
"""``deliver(board_id, kind, payload)``: called for each message from another process."""


class Broker(Protocol):
    """What rooms and the registry need from a fan-out between processes."""

    shared: bool
    """Whether other processes hear what is published (rooms then tell them more)."""

    async def start(self, deliver: Deliver) -> None:
        """Connect; from now on call ``deliver`` for messages of subscribed boards."""

    async def close(self) -> None:
        """Disconnect and stop delivering."""

    async def subscribe(self, board_id: str) -> None:
        """Start receiving ``board_id``'s messages. Called *before* the board is read from the
        store, so nothing committed by another process between the two can be missed."""

    def unsubscribe(self, board_id: str) -> None:
        """Stop receiving ``board_id``'s messages (the board was unloaded)."""

    def publish(self, board_id: str, kind: RemoteKind, payload: bytes) -> None:
        """Send a message to the other processes holding ``board_id`` (never blocks)."""


class LocalBroker:
    """The single-process broker: publishes go nowhere, nothing is ever delivered."""

    shared = False
    """Whether other processes hear what is published (they do not)."""

    async def start(self, deliver: Deliver) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to disconnect."""

    async def subscribe(self, board_id: str) -> None:
        """No other process can publish."""

    def unsubscribe(self, board_id: str) -> None:
        """Nothing was subscribed."""

    def publish(self, board_id: str, kind: RemoteKind, payload: bytes) -> None:
        """No other process to tell."""
