"""Headline of a py-spy ``--format raw`` profile (collapsed stacks: ``f1;f2;...;fn count``)."""

from __future__ import annotations

from collections import Counter


def top_frames(collapsed: str, limit: int = 15) -> list[dict[str, object]]:
    """The ``limit`` frames with most self samples, with their share of all samples in %."""
    self_samples: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        self_samples[stack.split(";")[-1]] += count
    return [{"frame": frame, "self_pct": round(100 * count / total, 1)}
            for frame, count in self_samples.most_common(limit)]
