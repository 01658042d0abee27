"""The structure check's string cutting (backend/export/jsonread.py): window by window, it
keeps exactly the brackets and commas that cutting the whole file at once keeps, whatever
the window size and wherever strings, escapes and unclosed quotes fall."""

from __future__ import annotations

import json
import random

import pytest

from backend.export import jsonread


def whole_file_cut(raw: bytes) -> bytes:
    return jsonread._STRING.sub(b"", raw).translate(None, jsonread._NOT_BRACKET)


def random_value(rnd: random.Random, depth: int = 0):
    def text() -> str:
        return "".join(rnd.choice('ab"\\\n[]{},\u00e9\u2028') for _ in range(rnd.randint(0, 40)))
    kind = rnd.random()
    if depth > 4 or kind < 0.4:
        return text() if rnd.random() < 0.7 else rnd.random()
    if kind < 0.7:
        return [random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 6))]
    return {text(): random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 6))}


EDGES = [b"", b'"', b"\\", b'"abc', b'"' + b'\\"' * 100 + b"\\", b"[" + b'"",' * 50 + b'""]',
         b'[1,"a\\\\",{"b":"\\""}]', b'["' + b"x" * 5000 + b'", [1, {"k": "]"}]]']


@pytest.mark.parametrize("window", [1, 2, 3, 7, 64, 1000])
def test_windows_of_any_size_keep_what_the_whole_file_cut_keeps(window):
    rnd = random.Random(window)
    files = [json.dumps(random_value(rnd), ensure_ascii=rnd.random() < 0.5).encode()
             for _ in range(200)]
    for raw in files + EDGES:
        assert jsonread._outside_strings(raw, window) == whole_file_cut(raw), raw
        assert jsonread._outside_strings(bytearray(raw), window) == whole_file_cut(raw), raw
