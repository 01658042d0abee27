"""Markdown for the benchmark results, and the "Sync benchmarks" section of BENCHMARKS.md;
charts of a run (``charts.py``).

Run alone, it redraws the charts of a saved run:
``.venv/bin/python scripts/bench/report.py scripts/bench/results/<time>.json [OUT_DIR]``
(default ``docs/bench``) and prints the markdown that embeds them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import charts
from scenarios import SCENARIOS

SECTION_TITLE = "## Sync benchmarks"

_LOAD_COLUMN = ("Load", lambda r: _num(r.get("load_avg")))
_EDIT_COLUMNS = (
    ("Delivered/expected", lambda r: f"{_int(r['delivered'])}/{_int(r['expected'])}"),
    ("p50 ms", lambda r: _num(r["p50_ms"])),
    ("p95 ms", lambda r: _num(r["p95_ms"])),
    ("p99 ms", lambda r: _num(r["p99_ms"])),
    ("Deliveries/s", lambda r: _num(r["deliveries_per_s"], 0)),
    ("Converged", lambda r: r["converged"]),
    ("Server CPU s", lambda r: _num(r["server_cpu_s"])),
    ("CPU µs/delivery", lambda r: _num(r["cpu_us_per_delivery"])),
    ("Peak RSS MiB", lambda r: _num(r["peak_rss_mib"], 0)),
    ("Loadgen CPU s", lambda r: _num(r["loadgen_cpu_s"])),
    ("Loadgen loop p99 ms", lambda r: _num(r["loadgen_loop_p99_ms"])),
    _LOAD_COLUMN,
)
_JOIN_COLUMNS = (
    ("Join ms (median)", lambda r: _num(r["join_ms"])),
    ("Join ms (max)", lambda r: _num(r["join_max_ms"])),
    ("First join ms", lambda r: _num(r["first_join_ms"])),
    ("Complete", lambda r: r["converged"]),
    ("Server CPU s", lambda r: _num(r["server_cpu_s"])),
    ("Peak RSS MiB", lambda r: _num(r["peak_rss_mib"], 0)),
    ("Loadgen CPU s", lambda r: _num(r["loadgen_cpu_s"])),
    _LOAD_COLUMN,
)
_IDLE_COLUMNS = (
    ("Connections", lambda r: _int(r["connections"])),
    ("Server survived", lambda r: r["server_survived"]),
    ("Synced", lambda r: _int(r["synced"])),
    ("Still connected", lambda r: _int(r["still_connected"])),
    ("RSS before MiB", lambda r: _num(r["rss_before_mib"], 0)),
    ("RSS connected MiB", lambda r: _num(r["rss_connected_mib"], 0)),
    ("KiB/connection", lambda r: _num(r["kib_per_connection"])),
    ("Connect ms", lambda r: _num(r["connect_ms"], 0)),
    ("Server CPU s", lambda r: _num(r["server_cpu_s"])),
    ("Peak RSS MiB", lambda r: _num(r["peak_rss_mib"], 0)),
    _LOAD_COLUMN,
)
_PERSIST_COLUMNS = (
    ("Sent", lambda r: _int(r["sent"])),
    ("Offered/s", lambda r: _num(r["offered_per_s"], 0)),
    ("In the database after the kill", lambda r: _int(r["committed"])),
    ("Committed/s", lambda r: _num(r["committed_per_s"], 0)),
    ("All committed", lambda r: r["committed_all"]),
    ("Server CPU s", lambda r: _num(r["server_cpu_s"])),
    ("Peak RSS MiB", lambda r: _num(r["peak_rss_mib"], 0)),
    ("Loadgen CPU s", lambda r: _num(r["loadgen_cpu_s"])),
    _LOAD_COLUMN,
)
_COLUMNS = {"edit": _EDIT_COLUMNS, "join": _JOIN_COLUMNS, "idle": _IDLE_COLUMNS,
            "persist": _PERSIST_COLUMNS}


def tables(rows: list[dict]) -> str:
    """One table per scenario kind; ``rows`` hold ``scenario``, ``server`` and median metrics."""
    parts = []
    for kind, columns in _COLUMNS.items():
        kind_rows = [row for row in rows if SCENARIOS[row["scenario"]].kind == kind]
        if not kind_rows:
            continue
        header = ["Scenario", "Server", *(name for name, _ in columns)]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in kind_rows:
            if row["runs"] == 0:
                failed = "failed: " + row["error"][:80].replace("|", "/").replace("\n", " ")
                cells = [row["scenario"], row["server"], failed, *("" for _ in columns[1:])]
            else:
                cells = [row["scenario"], row["server"], *(cell(row) for _, cell in columns)]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def targets(rows: list[dict]) -> str:
    """Issue 6's targets, syncboard against the Node reference server, as a table."""
    by_key = {(row["scenario"], row["server"]): row for row in rows if row["runs"] > 0}
    lines = ["| Target | syncboard | reference | Ratio | Met |", "|---|---|---|---|---|"]
    for name in ("S1", "S2", "S3"):
        ours, node = by_key.get((name, "syncboard")), by_key.get((name, "node"))
        if ours is None or node is None:
            continue
        lines.append(_target_line(f"{name} converges", ours["converged"], node["converged"],
                                  None, _all_runs(ours["converged"])))
        for metric, label in (("p99_ms", "p99 ms"), ("cpu_us_per_delivery", "CPU µs/delivery")):
            ratio = _ratio(ours[metric], node[metric])
            met = ratio is not None and ratio <= 1.5
            lines.append(_target_line(f"{name} {label} ≤ 1.5x Node", _num(ours[metric]),
                                      _num(node[metric]), ratio, met))
    l1, l1_node = by_key.get(("L1", "syncboard")), by_key.get(("L1", "node"))
    if l1 and l1_node:
        ratio = _ratio(l1["join_ms"], l1_node["join_ms"])
        lines.append(_target_line("L1 join ≤ Node's", _num(l1["join_ms"]), _num(l1_node["join_ms"]),
                                  ratio, ratio is not None and ratio <= 1))
    l2 = by_key.get(("L2", "syncboard"))
    if l1 and l2:
        ratio = _ratio(l2["join_ms"], l1["join_ms"])
        lines.append(_target_line("L2 join ≤ 1.5x syncboard L1", _num(l2["join_ms"]),
                                  _num(l1["join_ms"]), ratio, ratio is not None and ratio <= 1.5))
    c1 = by_key.get(("C1", "syncboard"))
    if c1:
        kib = c1["kib_per_connection"]
        lines.append(_target_line("C1 ≤ 20 KiB/connection", _num(kib), "20", None,
                                  kib is not None and kib <= 20))
    p1 = by_key.get(("P1", "syncboard"))
    if p1:
        per_s = p1["committed_per_s"]
        lines.append(_target_line("P1 ≥ 5,000 updates/s committed", _num(per_s, 0), "5,000",
                                  None, per_s is not None and per_s >= 5000))
    return "\n".join(lines) if len(lines) > 2 else ""


def round_two_targets(rows: list[dict]) -> str:
    """Issue 16's targets (syncboard at or below the Node reference server) and syncboard's
    ratio to the transport floor in every scenario, as two tables."""
    by_key = {(row["scenario"], row["server"]): row for row in rows if row["runs"] > 0}
    lines = ["| Target | syncboard | Node | Ratio | Met |", "|---|---|---|---|---|"]
    for name, metric, label in (("S1", "cpu_us_per_delivery", "CPU µs/delivery"),
                                ("S2", "cpu_us_per_delivery", "CPU µs/delivery"),
                                ("S1", "p99_ms", "p99 ms"), ("S2", "p99_ms", "p99 ms"),
                                ("C1", "kib_per_connection", "KiB/connection")):
        ours, node = by_key.get((name, "syncboard")), by_key.get((name, "node"))
        if ours is None or node is None:
            continue
        ratio = _ratio(ours.get(metric), node.get(metric))
        lines.append(_target_line(f"{name} {label} ≤ Node's", _num(ours.get(metric)),
                                  _num(node.get(metric)), ratio,
                                  ratio is not None and ratio <= 1))
    floor_lines = ["| Scenario | Figure | syncboard | floor | syncboard / floor |",
                   "|---|---|---|---|---|"]
    for name in dict.fromkeys(row["scenario"] for row in rows):
        ours, floor = by_key.get((name, "syncboard")), by_key.get((name, "floor"))
        if ours is None or floor is None:
            continue
        for metric, label in _FLOOR_FIGURES[SCENARIOS[name].kind]:
            ratio = _ratio(ours.get(metric), floor.get(metric))
            floor_lines.append(f"| {name} | {label} | {_num(ours.get(metric))} | "
                               f"{_num(floor.get(metric))} | "
                               f"{'' if ratio is None else f'{ratio:.2f}'} |")
    parts = [table for table in ("\n".join(lines), "\n".join(floor_lines))
             if table.count("\n") > 1]
    return "\n\n".join(parts)


# What the transport floor can be compared on, as (metric, label): it keeps no document, so
# joins and P1's read-back have no floor figure of their own.
_FLOOR_FIGURES = {
    "edit": (("cpu_us_per_delivery", "CPU µs/delivery"), ("p50_ms", "p50 ms"),
             ("p99_ms", "p99 ms"), ("peak_rss_mib", "Peak RSS MiB")),
    "join": (("server_cpu_s", "Server CPU s"), ("peak_rss_mib", "Peak RSS MiB")),
    "idle": (("kib_per_connection", "KiB/connection"), ("server_cpu_s", "Server CPU s")),
    "persist": (("server_cpu_s", "Server CPU s"), ("peak_rss_mib", "Peak RSS MiB")),
}


def chart_images(results: dict, out_dir: Path, stamp: str, relative_to: Path) -> str:
    """Draw a PNG per scenario of ``results`` (``charts.draw_run``) into ``out_dir``; return
    the markdown embedding them, paths relative to ``relative_to`` (BENCHMARKS.md's folder)."""
    lines = []
    for name, path in charts.draw_run(results, out_dir, stamp):
        link = Path(os.path.relpath(path, relative_to)).as_posix()
        lines.append(f"![{name}: {SCENARIOS[name].title}]({link})")
    return "\n\n".join(lines)


def write_section(path: Path, body: str, title: str = SECTION_TITLE) -> None:
    """Replace (or append) the ``title`` section of ``path``; other sections stay."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"{title}\n\n{body.strip()}\n"
    start = text.find(title + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + section + ("" if end == -1 else text[end:])
    path.write_text(text)


def _target_line(name: str, ours: object, ref: object, ratio: float | None, met: bool) -> str:
    ratio_text = "" if ratio is None else f"{ratio:.2f}"
    return f"| {name} | {ours} | {ref} | {ratio_text} | {'yes' if met else '**no**'} |"


def _all_runs(count: object) -> bool:
    """True for a "k/n" run count with k == n (every run converged)."""
    done, _, total = str(count).partition("/")
    return done == total


def _ratio(ours: float | None, ref: float | None) -> float | None:
    if ours is None or ref is None or ref <= 0:
        return None
    return ours / ref


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _int(value: float | None) -> str:
    return "n/a" if value is None else f"{round(value):,}"


if __name__ == "__main__":
    results_path = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else \
        Path(__file__).resolve().parents[2] / "docs" / "bench"
    print(chart_images(json.loads(results_path.read_text()), target, results_path.stem,
                       Path.cwd()))
