"""parse_frame and read_var_uint: pure framing checks."""

from __future__ import annotations

import pytest
from pycrdt import Doc, create_sync_message, create_update_message

from backend.protocol import (
    CloseCode,
    FrameError,
    MessageType,
    SyncType,
    UnknownMessageType,
    parse_frame,
)


def test_parses_what_pycrdt_encodes():
    doc = Doc()
    step1 = parse_frame(create_sync_message(doc))
    assert (step1.message_type, step1.sync_type) == (MessageType.SYNC, SyncType.STEP1)
    update = parse_frame(create_update_message(b"\x00\x00"))
    assert update.sync_type == SyncType.UPDATE and update.payload == b"\x00\x00"
    assert parse_frame(b"\x03").message_type == MessageType.QUERY_AWARENESS


@pytest.mark.parametrize("frame", [b"", b"\x00", b"\x00\x02", b"\x00\x02\x05\x00", b"\x09",
                                   b"\x03\x00", b"\x01\x80", b"\x02\x00"])
def test_rejects_malformed(frame):
    with pytest.raises(FrameError):
        parse_frame(frame)


@pytest.mark.parametrize("frame", [b"\x02\x00", b"\x09", b"\x64\x03abc"])
def test_unknown_outer_types_are_told_apart_from_malformed_frames(frame):
    with pytest.raises(UnknownMessageType):
        parse_frame(frame)


def test_close_codes_are_named_with_their_number():
    for code in CloseCode:
        assert code.name.startswith(f"WS_{code.value}_")
