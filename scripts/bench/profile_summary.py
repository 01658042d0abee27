"""Headline of a py-spy ``--format raw`` profile (collapsed stacks: ``f1;f2;...;fn count``).

Frames look like ``func (path/file.py:123)``; line numbers are dropped so one function's
samples add up.
"""

from __future__ import annotations

import re
from collections import Counter

_LINE = re.compile(r":\d+\)$")


FOCUS_PATHS = ("backend/", "pycrdt/")


def top_frames(collapsed: str, limit: int = 15,
               focus: tuple[str, ...] = FOCUS_PATHS) -> dict[str, list[dict[str, object]]]:
    """Functions with most samples: ``self`` (on top of the stack) and ``inclusive`` (anywhere
    in it, counted once per stack; only frames whose file path contains one of ``focus``), each
    with its share of all samples in %."""
    self_samples: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
        self_samples[frames[-1]] += count
        for frame in set(frames):
            if any(path in frame for path in focus):
                inclusive[frame] += count
    return {
        "self": _shares(self_samples, total, limit),
        "inclusive": _shares(inclusive, total, limit),
    }


def _shares(counter: Counter[str], total: int, limit: int) -> list[dict[str, object]]:
    return [{"frame": frame, "pct": round(100 * count / total, 1)}
            for frame, count in counter.most_common(limit)]
