"""A light, bounded reader of the Yjs v1 update format, for what pycrdt cannot tell us.

pycrdt (yrs) re-encodes subdocuments without their ``meta`` and reports nothing about
structs it holds back as pending. This module reads the bytes of an update the way Yjs and
lib0 do (``yjs/src/utils/encoding.js``, lib0 ``decoding.js``), without building anything,
and reports:

- ``subdoc_options_with_meta`` and ``subdoc_option_spans``: subdocuments' encoded options, as
  a Yjs client wrote them (with ``meta``) and as pycrdt wrote them, found by searching for
  their byte patterns (C speed) and checked by reading just the options, so the original
  options can be spliced back into what pycrdt encodes.
- ``state_as_id_ranges``: a state vector as the id ranges it covers, to compare a delete set
  with natively (``pycrdt.IdMap``).

It is pure and keeps no state. Nesting of ``Any`` values is bounded (``MAX_ANY_DEPTH``).
Walking every struct of an update is the pre-check's job (``update_check``, whose reader
``xml_hooks`` reuses).
"""

from __future__ import annotations

import re

MAX_ANY_DEPTH = 100
"""Deepest nesting of ``Any`` values (objects, arrays) read before giving up."""

MAX_GUID_BYTES = 127
"""Longest subdocument guid whose options are kept (Yjs uses 36-character UUIDs)."""
MAX_SUBDOCS_READ = 1000
"""Most subdocument options ``subdoc_options_with_meta`` reads in one update: each costs a
little Python, and one update could carry nearly a million byte patterns that look like one."""

_YJS_META_OPTIONS = re.compile(rb"\x76[\x01-\x03](?:\x02gc\x79)?(?:\x08autoLoad\x78)?\x04meta")
"""The start of the options of a subdocument with ``meta`` as Yjs writes them: an object of
1-3 keys in the order gc (only when false), autoLoad (only when true), meta."""
PYCRDT_OPTIONS_MARK = b"\x0ashouldLoad"
"""A key pycrdt writes in every subdocument's options (Yjs never does)."""


class ShapeError(ValueError):
    """The bytes are not a Yjs v1 update (or nest deeper than ``MAX_ANY_DEPTH``)."""


def subdoc_options_with_meta(update: bytes) -> dict[str, bytes]:
    """``{guid: encoded options}`` of the subdocuments in ``update`` whose options (as Yjs
    writes them) hold ``meta``.

    Where the bytes before the options read as more than one plausible guid, each is listed:
    an entry that names no subdocument is never used.
    """
    found: dict[str, bytes] = {}
    if b"\x04meta" not in update:
        return found
    for count, match in enumerate(_YJS_META_OPTIONS.finditer(update)):
        if count == MAX_SUBDOCS_READ:
            break
        start = match.start()
        end = _end_of_object_with(update, start, "meta")
        if end is not None:
            for guid in _strings_ending_at(update, start):
                found[guid] = update[start:end]
    return found


def guid_pattern(guids: list[str]) -> re.Pattern[bytes]:
    """A pattern for ``subdoc_option_spans``: any of ``guids`` as Yjs encodes a string, then
    the start of an object."""
    encoded = sorted((_var_string(guid) for guid in guids), key=len, reverse=True)
    return re.compile(b"(" + b"|".join(map(re.escape, encoded)) + b")\x76")


def subdoc_option_spans(update: bytes, guids: re.Pattern[bytes]) -> list[tuple[str, int, int]]:
    """``(guid, start, end)`` of each subdocument's options that pycrdt wrote in ``update``,
    for the guids of ``guids`` (``guid_pattern``), in order."""
    spans = []
    for match in guids.finditer(update):
        start = match.end() - 1
        end = _end_of_object_with(update, start, "shouldLoad")
        if end is not None:
            _length, pos = read_uint(match.group(1))
            spans.append((match.group(1)[pos:].decode(), start, end))
    return spans


def state_as_id_ranges(state: bytes) -> bytes:
    """The encoded state vector ``state`` rewritten as an encoded delete set (the format of
    ``pycrdt.IdSet``) covering every clock it holds: ``[0, clock)`` per client.

    The numbers are cut out by a regular expression and reused as they are (C speed: a
    board's state vector names every client that ever edited it). Raises ``ShapeError``.
    """
    tokens = _VAR_UINT.findall(state)
    if not tokens or len(tokens) % 2 != 1:
        raise ShapeError("not a state vector")
    return tokens[0] + b"".join(client + b"\x01\x00" + clock
                                for client, clock in zip(tokens[1::2], tokens[2::2], strict=True))


def read_uint(data: bytes, pos: int = 0) -> tuple[int, int]:
    """One lib0 varUint at ``pos``: ``(value, next_pos)``. Raises ``ShapeError``."""
    reader = _Reader(data, pos)
    return reader.uint(), reader.pos


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def uint(self) -> int:
        data, pos = self.data, self.pos
        value = shift = 0
        while True:
            if pos >= len(data):
                raise ShapeError("update ends inside a number")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return value
            shift += 7
            if shift > 63:
                raise ShapeError("number longer than 64 bits")

    def skip(self, count: int) -> None:
        if self.pos + count > len(self.data):
            raise ShapeError("update ends inside a value")
        self.pos += count

    def byte(self) -> int:
        self.skip(1)
        return self.data[self.pos - 1]

    def string(self) -> str:
        length = self.uint()
        start = self.pos
        self.skip(length)
        return self.data[start:self.pos].decode("utf-8", errors="replace")

    def skip_bytes(self) -> None:
        self.skip(self.uint())

    def skip_int(self) -> None:  # lib0 varInt: sign in the first byte, then 7 bits a byte
        while self.byte() & 0x80:
            pass


def _skip_any(reader: _Reader, depth: int, watch_key: str | None = None) -> bool:
    """Skip one lib0 ``Any`` value; return whether it is an object with key ``watch_key``."""
    if depth > MAX_ANY_DEPTH:
        raise ShapeError(f"values nested deeper than {MAX_ANY_DEPTH}")
    kind = reader.byte()
    if kind in (127, 126, 121, 120):  # undefined, null, false, true
        return False
    if kind == 125:
        reader.skip_int()
    elif kind == 124:
        reader.skip(4)
    elif kind in (123, 122):
        reader.skip(8)
    elif kind in (119, 116):  # string, Uint8Array
        reader.skip_bytes()
    elif kind == 118:  # object
        found = False
        for _ in range(reader.uint()):
            key = reader.string()
            found = found or key == watch_key
            _skip_any(reader, depth + 1)
        return found
    elif kind == 117:  # array
        for _ in range(reader.uint()):
            _skip_any(reader, depth + 1)
    else:
        raise ShapeError(f"unknown value type {kind}")
    return False


def _end_of_object_with(data: bytes, start: int, key: str) -> int | None:
    """Where the ``Any`` object at ``start`` ends, if it is one holding ``key``."""
    reader = _Reader(data, start)
    try:
        return reader.pos if _skip_any(reader, 0, watch_key=key) else None
    except ShapeError:
        return None


def _strings_ending_at(data: bytes, end: int) -> list[str]:
    """Printable strings of 1-``MAX_GUID_BYTES`` bytes, encoded as Yjs does (length byte,
    UTF-8), that end right before ``end``."""
    found = []
    for length in range(1, min(MAX_GUID_BYTES, end - 1) + 1):
        if data[end - length - 1] == length:
            try:
                text = data[end - length:end].decode()
            except UnicodeDecodeError:
                continue
            if text.isprintable():
                found.append(text)
    return found


def _var_string(text: str) -> bytes:
    encoded = text.encode()
    length, parts = len(encoded), []
    while length >= 0x80:
        parts.append(length & 0x7F | 0x80)
        length >>= 7
    return bytes([*parts, length]) + encoded


_VAR_UINT = re.compile(rb"[\x80-\xff]*[\x00-\x7f]")

