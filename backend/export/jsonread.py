"""Bounded JSON reading for every import: ``check_structure`` refuses, from the raw bytes and
before anything is parsed, nesting and counts that would make the parser build too much;
``parse_json`` parses, refusing NaN/Infinity and turning every parser error into
``ImportRefused``."""

from __future__ import annotations

import json
import re
from typing import Any

from .mapping import ImportRefused

MAX_IMPORT_DEPTH = 64
"""Deepest nesting of arrays and objects in an import file (a board needs 4, a tldraw rich
text a dozen)."""


MAX_CONTAINERS = 1_000_000
"""Most arrays and objects one import file may hold (Excalidraw's points are one array each):
each costs about 100 bytes once parsed, so this bounds what a small file of
``[[0,0],[0,0],...]`` makes the parser allocate (a board of 200,000 elements has 400,000)."""
MAX_VALUES = 2_000_000
"""Most values (numbers, strings, ...) one import file may hold: a value costs about 32 bytes
once parsed and, inside a schema violation, up to about 100 more while the validator prints
it; this bounds the worst 64 MiB body to about 350 MiB of memory (BENCHMARKS.md). A board of
100,000 shapes or 1,000 strokes of 1,000 points fits."""
_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+"?', re.DOTALL)
"""A JSON string, or an unterminated one up to the end of the file. It matches at every quote,
so each match consumes what it scanned: linear time. (Requiring the closing quote made a file
of ``"\\"\\"\\"...`` scan to its end from every quote: quadratic, hours for a megabyte, with
the GIL held. In a valid file every string closes, so both match the same strings.)"""
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{},")
WINDOW_BYTES = 256 * 1024
"""Bytes of an import file whose strings are cut out at once (``_outside_strings``)."""


def json_text(raw: bytes | bytearray) -> str:
    """The text of a JSON file (UTF-8, or the UTF-16/32 ``json`` detects), decoded as
    ``json.loads`` would. Raises ``ImportRefused`` for bytes that do not decode."""
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ImportRefused("$", f"invalid JSON: {exc}") from None


def parse_json(raw: bytes | str) -> Any:
    """Parsed JSON. Raises ``ImportRefused`` for bytes that are not JSON, NaN/Infinity, or
    nesting past what the parser takes without recursing too deep."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ImportRefused("$", "invalid JSON: nested too deep (more than about 1,000 "
                                 f"levels; boards need at most {MAX_IMPORT_DEPTH})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused("$", f"invalid JSON: {exc}") from None


def check_structure(raw: bytes) -> None:
    """Refuse, before parsing, a file nested deeper than ``MAX_IMPORT_DEPTH`` or holding more
    than ``MAX_CONTAINERS`` arrays and objects or ``MAX_VALUES`` values. Runs at C speed on
    the raw bytes: strings are cut out (a window at a time), brackets and commas kept, and
    innermost pairs removed one level per round."""
    brackets = _outside_strings(raw)
    containers = brackets.count(b"[") + brackets.count(b"{")
    if containers > MAX_CONTAINERS:
        raise ImportRefused("$", f"holds {containers} arrays and objects, over the "
                                 f"{MAX_CONTAINERS} limit")
    values = brackets.count(b",") + containers  # a value is followed by "," or a closing bracket
    if values > MAX_VALUES:
        raise ImportRefused("$", f"holds about {values} values, over the {MAX_VALUES} limit")
    brackets = brackets.translate(None, b",")
    for _ in range(MAX_IMPORT_DEPTH):
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return  # unbalanced leftovers are the parser's to report
        brackets = shorter
    if b"[]" in brackets or b"{}" in brackets:
        raise ImportRefused("$", f"nested deeper than {MAX_IMPORT_DEPTH} levels")


def _outside_strings(raw: bytes | bytearray, window_bytes: int = WINDOW_BYTES) -> bytes:
    """The brackets and commas of ``raw`` that lie outside its strings, in order.

    Strings are cut out ``window_bytes`` at a time: ``re.sub`` over a whole file keeps every
    piece between two strings until it joins them (+839 MiB for a 14 MiB body of 5,000,000
    empty strings). A window never ends inside a string: one whose last string reaches its
    end stops where that string starts, and a string longer than a window is skipped whole.
    """
    kept: list[bytes] = []
    with memoryview(raw) as view:
        pos = 0
        while pos < len(view):
            end = min(len(view), pos + window_bytes)
            cut, count = _STRING.subn(b"\0", view[pos:end])
            if end < len(view) and cut.endswith(b"\0"):  # its last string may run on
                # Leaving that string out lengthens the window by the string less its marker.
                whole = _STRING.sub(b"\0", view[pos:end], count - 1) if count > 1 else view[pos:end]
                start = end - (len(whole) - len(cut) + 1)
                if start == pos:  # one string longer than the window
                    match = _STRING.match(view, pos)
                    pos = match.end() if match is not None else end
                    continue
                cut, end = cut[:-1], start
            kept.append(cut.translate(None, _NOT_BRACKET))
            pos = end
    return b"".join(kept)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
