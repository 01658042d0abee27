"""The benchmark charts (scripts/bench/charts.py): a PNG per scenario, one colour per server."""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench"


@pytest.fixture(scope="module")
def charts():
    sys.path.insert(0, str(_BENCH))  # charts.py imports its siblings by plain name
    try:
        import charts as module
    finally:
        sys.path.remove(str(_BENCH))
    return module


def _edit_run(server: str, scale: float, rng: random.Random) -> dict:
    latencies = [rng.lognormvariate(0, 1) * scale for _ in range(500)]
    return {"scenario": "S2", "server": server, "row": {"cpu_us_per_delivery": 100 * scale},
            "loadgen": {"latencies_ms": latencies}}


def test_a_run_is_drawn_as_one_png_per_scenario(charts, tmp_path):
    rng = random.Random(7)
    servers = {"syncboard": 1.0, "node": 2.0, "floor": 0.5}
    runs = [_edit_run(server, scale, rng) for server, scale in servers.items()]
    runs.append({"scenario": "C1", "server": "syncboard", "row": {"kib_per_connection": 14.2}})
    rows = [{"scenario": "S2", "server": s, "runs": 1, "cpu_us_per_delivery": 100 * k}
            for s, k in servers.items()]
    rows.append({"scenario": "C1", "server": "syncboard", "runs": 1, "kib_per_connection": 14.2,
                 "server_cpu_s": 3.0})
    rows.append({"scenario": "C1", "server": "node", "runs": 0, "error": "did not start"})

    written = charts.draw_run({"rows": rows, "runs": runs}, tmp_path, "t")

    assert [name for name, _ in written] == ["S2", "C1"]
    for _name, path in written:
        png = path.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) == (charts._WIDTH, charts._HEIGHT)


def test_each_server_has_its_colour_and_every_figure_is_labelled(charts):
    rng = random.Random(3)
    runs = {s: _edit_run(s, k, rng)["loadgen"]["latencies_ms"]
            for s, k in (("syncboard", 1.0), ("node", 3.0), ("pycrdt", 9.0), ("floor", 0.5))}
    rows = [{"scenario": "S1", "server": s, "runs": 1, "cpu_us_per_delivery": v}
            for s, v in (("syncboard", 81.5), ("node", 64.0), ("pycrdt", None), ("floor", 40.0))]

    svg = charts.scenario_svg("S1", rows, runs)

    for server, colour in charts.COLOURS.items():
        assert svg.count(f'stroke="{colour}"') == 1  # its latency curve
        assert f'fill="{colour}"' in svg  # its bar and legend
        assert f">{server}</text>" in svg
    assert ">81.5</text>" in svg and ">n/a</text>" in svg  # pycrdt had no figure
    assert ">p99.9</text>" in svg
