"""y-websocket framing: message types, close codes and ``parse_frame``. Pure, no I/O.

One WebSocket frame carries one y-websocket message: ``varUint type`` then the body.
Sync messages (type 0) carry a sub-type (step 1, step 2, update) and one length-prefixed
payload; awareness (type 1) carries one length-prefixed awareness update; query-awareness
(type 3) has no body. The constants come from ``shared/protocol.json`` so the backend and the
frontend read the same numbers. Encoders are pycrdt's (``create_sync_message``, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum

from .resources import shared_file

PROTOCOL_FILE = shared_file("protocol.json")
_PROTOCOL = json.loads(PROTOCOL_FILE.read_text())

BOARD_ID_PATTERN: str = _PROTOCOL["boardIdPattern"]
WEBSOCKET_PATH: str = _PROTOCOL["websocketPath"]

MessageType = IntEnum("MessageType", _PROTOCOL["messageTypes"])
"""Top-level y-websocket message types: SYNC, AWARENESS, AUTH, QUERY_AWARENESS."""

SyncType = IntEnum("SyncType", _PROTOCOL["syncTypes"])
"""Sync sub-types: STEP1 (state vector), STEP2 (missing updates), UPDATE."""

CloseCode = IntEnum(
    "CloseCode", {name: entry["code"] for name, entry in _PROTOCOL["closeCodes"].items()}
)
"""WebSocket close codes syncboard uses, named with their number (see README)."""

CLOSE_CODE_MEANINGS: dict[int, str] = {
    entry["code"]: entry["meaning"] for entry in _PROTOCOL["closeCodes"].values()
}


class FrameError(ValueError):
    """A frame that is not a well-formed y-websocket message."""


class UnknownMessageType(FrameError):
    """A frame whose outer message type this server does not handle (an app's own protocol
    extension, or AUTH sent by a client): ignored, as the reference server does."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One parsed y-websocket message.

    ``sync_type`` is set for SYNC messages only; ``payload`` is the length-prefixed body
    (a state vector, an update or an awareness update), empty for QUERY_AWARENESS.
    """

    message_type: MessageType
    sync_type: SyncType | None
    payload: bytes


def parse_frame(data: bytes) -> Frame:
    """Split one WebSocket frame into its message type and payload.

    Raises ``UnknownMessageType`` for an outer type other than SYNC, AWARENESS and
    QUERY_AWARENESS, ``FrameError`` for an unknown sync sub-type, a truncated body, a length
    that does not match the frame, or trailing bytes.
    """
    message_type, pos = read_var_uint(data, 0)
    if message_type == MessageType.SYNC:
        sync_value, pos = read_var_uint(data, pos)
        try:
            sync_type = SyncType(sync_value)
        except ValueError:
            raise FrameError(f"unknown sync message type {sync_value}") from None
        return Frame(MessageType.SYNC, sync_type, _read_payload(data, pos))
    if message_type == MessageType.AWARENESS:
        return Frame(MessageType.AWARENESS, None, _read_payload(data, pos))
    if message_type == MessageType.QUERY_AWARENESS:
        if pos != len(data):
            raise FrameError("query-awareness message has a body")
        return Frame(MessageType.QUERY_AWARENESS, None, b"")
    raise UnknownMessageType(f"unknown message type {message_type}")


def permission_denied_message(reason: str) -> bytes:
    """An auth message (type 2, sub-type 0 "permission denied") carrying ``reason``: the stock
    provider logs ``Permission denied to access <url>. <reason>`` on the browser console."""
    text = reason.encode()
    return bytes([MessageType.AUTH, 0]) + write_var_uint(len(text)) + text


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a lib0 varUint at ``pos``; return ``(value, next_pos)``.

    Raises ``FrameError`` when the data ends inside the number or it exceeds 53 bits
    (the largest integer JavaScript clients can produce).
    """
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise FrameError("frame ends inside a number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 53:
            raise FrameError("number longer than 53 bits")


def _read_payload(data: bytes, pos: int) -> bytes:
    length, pos = read_var_uint(data, pos)
    end = pos + length
    if end != len(data):
        raise FrameError(f"declared length {length} but {len(data) - pos} bytes follow")
    return data[pos:end]


def write_var_uint(value: int) -> bytes:
    """lib0 ``writeVarUint``."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
