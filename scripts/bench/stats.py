"""Pure statistics for the benchmark orchestrator: percentiles, medians, per-run summaries.

Percentiles interpolate linearly between closest ranks (the default of numpy's ``percentile``),
so p50 of an even-sized sample is the mean of its two middle values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct``-th percentile (0..100) of ``values``; ``None`` for an empty sample."""
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not ``None``; ``None`` if there are none."""
    present = [value for value in values if value is not None]
    return percentile(present, 50)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max of a latency sample, in ms."""
    return {
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "max_ms": max(latencies_ms) if latencies_ms else None,
    }


def delivered_fanout(fanout_updates: int, delivered: int, expected: int) -> float:
    """Fan-out deliveries credited to the server: the demanded fan-out scaled by the delivered
    share measured by the observers (all of it when nothing was expected)."""
    if expected == 0:
        return float(fanout_updates)
    return fanout_updates * min(delivered, expected) / expected


def per_unit(total: float | None, units: float) -> float | None:
    """``total / units``, or ``None`` when there is nothing to divide by."""
    if total is None or units <= 0:
        return None
    return total / units


def median_of_runs(runs: Sequence[dict[str, object]]) -> dict[str, object]:
    """Median of each numeric field over runs; booleans become "k/n" (how many runs were true)."""
    merged: dict[str, object] = {}
    keys = [key for key in runs[0]] if runs else []
    for key in keys:
        values = [run.get(key) for run in runs]
        if all(isinstance(value, bool) for value in values):
            merged[key] = f"{sum(bool(value) for value in values)}/{len(values)}"
        elif all(value is None or isinstance(value, int | float) for value in values):
            merged[key] = median(values)  # type: ignore[arg-type]
        else:
            merged[key] = values[0]
    return merged
