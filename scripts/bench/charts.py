"""Charts of one benchmark run: a PNG per scenario, one colour per server.

Edit scenarios (S1-S3) get the delivery latency distribution (the time within which a share
of the deliveries arrived, every run pooled; log time axis, and a percentile axis spread by
"nines" so p50, p90, p99 and p99.9 get equal room) beside CPU per delivered update; the
others get their headline figure beside server CPU. Charts are drawn as SVG and rasterised
with resvg (``resvg-py``, already pinned in requirements.txt for the PNG export), so the
bench needs no plotting library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

import resvg_py
import stats
from scenarios import SCENARIOS

COLOURS = {"syncboard": "#1f77b4", "node": "#ff7f0e", "pycrdt": "#2ca02c", "floor": "#7f7f7f"}
_OTHER_COLOUR = "#9467bd"
_WIDTH, _HEIGHT = 1000, 450
_PANEL_W, _PANEL_H = 400, 300
_LEFT, _TOP = 70, 60
_GAP = 130  # between the two panels
_FONT = 'font-family="DejaVu Sans, sans-serif"'
_CDF_POINTS = 200
_NINES = 3  # the latency panel's y axis reaches 99.9 %

Row = dict
Metric = tuple[str, Callable[[Row], float | None]]
# Per scenario kind, the bar panels after the latency panel (edit) or instead of it.
_BARS: dict[str, tuple[Metric, ...]] = {
    "edit": (("CPU µs per delivered update", lambda r: r.get("cpu_us_per_delivery")),),
    "join": (("Join ms (median of the timed joins)", lambda r: r.get("join_ms")),
             ("Server CPU s", lambda r: r.get("server_cpu_s"))),
    "idle": (("KiB per idle connection", lambda r: r.get("kib_per_connection")),
             ("Server CPU s", lambda r: r.get("server_cpu_s"))),
    "persist": (("Updates/s committed by the kill", lambda r: r.get("committed_per_s")),
                ("Server CPU s", lambda r: r.get("server_cpu_s"))),
}


def draw_run(results: dict, out_dir: Path, stamp: str) -> list[tuple[str, Path]]:
    """Write ``<out_dir>/<stamp>-<scenario>.png`` for every scenario of ``results`` (the JSON
    that ``run.py`` writes: ``rows`` of medians, ``runs`` with raw latencies); returns
    ``(scenario, path)`` pairs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    scenarios = dict.fromkeys(row["scenario"] for row in results["rows"])
    for name in scenarios:
        rows = [row for row in results["rows"] if row["scenario"] == name and row["runs"]]
        if not rows:
            continue
        pooled: dict[str, list[float]] = {}
        for run in results["runs"]:
            if run["scenario"] == name and run.get("row") is not None:
                pooled.setdefault(run["server"], []).extend(
                    run.get("loadgen", {}).get("latencies_ms", []))
        svg = scenario_svg(name, rows, pooled)
        path = out_dir / f"{stamp}-{name}.png"
        path.write_bytes(bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff")))
        written.append((name, path))
    return written


def scenario_svg(name: str, rows: Sequence[Row], latencies: dict[str, list[float]]) -> str:
    """The chart of one scenario as SVG text: ``rows`` are its median rows per server,
    ``latencies`` the pooled delivery latencies (ms) per server (edit scenarios)."""
    kind = SCENARIOS[name].kind
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
             f'viewBox="0 0 {_WIDTH} {_HEIGHT}">',
             _text(_WIDTH / 2, 28, f"{name}: {SCENARIOS[name].title}", 17, "middle", bold=True)]
    panels: list[Callable[[float], list[str]]] = []
    if kind == "edit":
        panels.append(lambda x: _latency_panel(x, latencies))
    for title, value in _BARS[kind][:2 - len(panels)]:
        panels.append(lambda x, title=title, value=value: _bar_panel(x, title, rows, value))
    for index, panel in enumerate(panels):
        parts += panel(_LEFT + index * (_PANEL_W + _GAP))
    servers = [row["server"] for row in rows]
    parts += _legend(servers)
    parts.append("</svg>")
    return "\n".join(parts)


def _latency_panel(x0: float, latencies: dict[str, list[float]]) -> list[str]:
    """Percentile of deliveries (y, by nines) that arrived within a time (x, ms, log)."""
    parts = [_text(x0 + _PANEL_W / 2, _TOP - 12, "Delivery latency by percentile", 13,
                   "middle")]
    present = {server: sorted(v) for server, v in latencies.items() if v}
    if not present:
        return [*parts, _text(x0 + _PANEL_W / 2, _TOP + _PANEL_H / 2, "no deliveries", 13,
                              "middle")]
    low = max(0.1, min(v[0] for v in present.values()))
    high = max(v[-1] for v in present.values())
    lo_exp, hi_exp = math.floor(math.log10(low)), math.ceil(math.log10(max(high, low * 10)))

    def x_of(ms: float) -> float:
        ms = max(ms, 10 ** lo_exp)
        return x0 + (math.log10(ms) - lo_exp) / (hi_exp - lo_exp) * _PANEL_W

    def y_of(pct: float) -> float:  # 0 % at the bottom, 90 % one third up, 99.9 % at the top
        nines = min(_NINES, -math.log10(max(1 - pct / 100, 10 ** -_NINES)))
        return _TOP + _PANEL_H - nines / _NINES * _PANEL_H

    parts += _frame(x0)
    for exp in range(lo_exp, hi_exp + 1):
        x = x_of(10 ** exp)
        parts.append(_line(x, _TOP, x, _TOP + _PANEL_H, "#e0e0e0"))
        parts.append(_text(x, _TOP + _PANEL_H + 18, _ms_label(10 ** exp), 11, "middle"))
    for pct in (0, 50, 90, 99, 99.9):
        y = y_of(pct)
        parts.append(_line(x0, y, x0 + _PANEL_W, y, "#e0e0e0"))
        parts.append(_text(x0 - 6, y + 4, f"p{pct:g}", 11, "end"))
    parts.append(_text(x0 + _PANEL_W / 2, _TOP + _PANEL_H + 38, "delivery latency, ms (log)",
                       12, "middle"))
    for server, values in present.items():
        points = []
        for i in range(_CDF_POINTS + 1):  # evenly spaced along the nines axis
            pct = 100 * (1 - 10 ** (-_NINES * i / _CDF_POINTS))
            points.append(f"{x_of(stats.percentile(values, pct)):.1f},{y_of(pct):.1f}")
        parts.append(f'<polyline fill="none" stroke="{_colour(server)}" stroke-width="2" '
                     f'points="{" ".join(points)}"/>')
    return parts


def _bar_panel(x0: float, title: str, rows: Sequence[Row],
               value: Callable[[Row], float | None]) -> list[str]:
    """One bar per server, labelled with its value ("n/a" when the run had none)."""
    parts = [_text(x0 + _PANEL_W / 2, _TOP - 12, title, 13, "middle"), *_frame(x0)]
    values = [value(row) for row in rows]
    top = max((v for v in values if v is not None), default=0) or 1
    slot = _PANEL_W / max(1, len(rows))
    for index, (row, v) in enumerate(zip(rows, values, strict=True)):
        x = x0 + index * slot + slot * 0.2
        height = 0 if v is None else v / top * (_PANEL_H - 20)
        y = _TOP + _PANEL_H - height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" '
                     f'height="{height:.1f}" fill="{_colour(row["server"])}"/>')
        label = "n/a" if v is None else f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"
        parts.append(_text(x + slot * 0.3, y - 5, label, 12, "middle"))
        parts.append(_text(x + slot * 0.3, _TOP + _PANEL_H + 18, row["server"], 12, "middle"))
    return parts


def _legend(servers: Sequence[str]) -> list[str]:
    parts = []
    x = _LEFT
    for server in servers:
        parts.append(f'<rect x="{x}" y="{_HEIGHT - 28}" width="14" height="14" '
                     f'fill="{_colour(server)}"/>')
        parts.append(_text(x + 20, _HEIGHT - 16, server, 13, "start"))
        x += 30 + 9 * len(server)
    return parts


def _frame(x0: float) -> list[str]:
    return [f'<rect x="{x0}" y="{_TOP}" width="{_PANEL_W}" height="{_PANEL_H}" fill="none" '
            'stroke="#888888"/>']


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _text(x: float, y: float, text: str, size: int, anchor: str, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'{_FONT}{weight}>{escape(text)}</text>')


def _ms_label(ms: float) -> str:
    return f"{ms:g}" if ms < 1000 else f"{ms / 1000:g} s"


def _colour(server: str) -> str:
    return COLOURS.get(server, _OTHER_COLOUR)
