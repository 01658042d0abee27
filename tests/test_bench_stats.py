"""The benchmark orchestrator's maths (scripts/bench/stats.py): percentiles, medians, rates."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "scripts" / "bench" / "stats.py"
_SPEC = importlib.util.spec_from_file_location("bench_stats", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
stats = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(stats)


def test_percentile_interpolates_between_closest_ranks():
    values = [15, 20, 35, 40, 50]
    assert stats.percentile(values, 0) == 15
    assert stats.percentile(values, 100) == 50
    assert stats.percentile(values, 50) == 35
    # rank 0.4 * 4 = 1.6: 20 + 0.6 * (35 - 20)
    assert stats.percentile(values, 40) == pytest.approx(29)
    assert stats.percentile([3, 1, 2, 4], 50) == 2.5


def test_percentile_of_one_value_and_of_nothing():
    assert stats.percentile([7.5], 99) == 7.5
    assert stats.percentile([], 99) is None
    with pytest.raises(ValueError):
        stats.percentile([1], 101)


def test_percentile_matches_a_sorted_rank_on_a_large_sample():
    rng = random.Random(6)
    values = [rng.uniform(0, 100) for _ in range(1001)]
    ordered = sorted(values)
    assert stats.percentile(values, 99) == ordered[990]
    assert stats.percentile(values, 50) == ordered[500]


def test_median_skips_missing_values():
    assert stats.median([3, None, 1, 2]) == 2
    assert stats.median([4, 1]) == 2.5
    assert stats.median([None, None]) is None


def test_latency_summary_of_uniform_ms():
    summary = stats.latency_summary([float(ms) for ms in range(1, 101)])
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p95_ms"] == pytest.approx(95.05)
    assert summary["p99_ms"] == pytest.approx(99.01)
    assert summary["max_ms"] == 100


def test_delivered_fanout_scales_by_delivered_share():
    assert stats.delivered_fanout(1000, 50, 100) == 500
    assert stats.delivered_fanout(1000, 120, 100) == 1000
    assert stats.delivered_fanout(1000, 0, 0) == 1000
    assert stats.per_unit(2.0, 4) == 0.5
    assert stats.per_unit(2.0, 0) is None


def test_median_of_runs_takes_field_medians_and_counts_true_runs():
    runs = [
        {"p99_ms": 10.0, "converged": True, "server": "node"},
        {"p99_ms": 30.0, "converged": False, "server": "node"},
        {"p99_ms": 20.0, "converged": True, "server": "node"},
    ]
    assert stats.median_of_runs(runs) == {"p99_ms": 20.0, "converged": "2/3", "server": "node"}
