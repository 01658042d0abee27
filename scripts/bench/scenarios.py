"""The benchmark scenarios: load-generator arguments, per-server setup, and how one run's raw
numbers become a row (see README.md for what each scenario measures)."""

from __future__ import annotations

from dataclasses import dataclass, field

import stats

MIB = 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    """One scenario: what the load generator does and how the server is set up for it."""

    name: str
    title: str
    kind: str  # "edit", "join", "idle" or "persist" (the load generator's --mode)
    loadgen_args: dict[str, str] = field(default_factory=dict)
    syncboard_options: dict[str, str] = field(default_factory=dict)
    node_persistence: bool = False
    uses_duration: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("S1", "1 board x 50 clients x 2 edits/s", "edit",
                 {"boards": "1", "clients": "50", "rate": "2", "observers": "5"},
                 uses_duration=True),
        Scenario("S2", "20 boards x 5 clients x 5 edits/s", "edit",
                 {"boards": "20", "clients": "5", "rate": "5", "observers": "5"},
                 uses_duration=True),
        Scenario("S3", "1 board x 200 clients x 1 edit/s", "edit",
                 {"boards": "1", "clients": "200", "rate": "1", "observers": "5"},
                 uses_duration=True),
        Scenario("L1", "late joiner, warm board of 10,000 elements", "join",
                 {"elements": "10000", "seed-batch": "100", "joins": "5"}),
        # The seeder stays 5 s after the board is complete (a store writing behind catches up),
        # then the board is left without peers for 3 s before each join: syncboard unloads it after
        # 1 s, pycrdt-websocket deletes the room at once, the Node server (only with its
        # LevelDB persistence, YPERSISTENCE) destroys the document at once.
        Scenario("L2", "late joiner after the board was unloaded (read from the database)", "join",
                 {"elements": "10000", "seed-batch": "100", "joins": "5", "unload-wait-s": "3",
                  "settle-s": "5"},
                 syncboard_options={"idle_unload_s": "1"}, node_persistence=True),
        Scenario("C1", "5,000 idle connections over 500 boards", "idle",
                 {"boards": "500", "clients": "10", "hold-s": "6", "connect-batch": "100"}),
        # Cold start: 200 providers opened at once, each on a board nobody opened before (a
        # fresh board prefix per run), so every join creates a board row and loads a board.
        Scenario("C2", "cold start: 200 clients opening 200 new boards at once", "idle",
                 {"boards": "200", "clients": "1", "hold-s": "1", "connect-batch": "200"}),
        # Inserts only, on 50 boards, so the store (not the fan-out) is the load; the server is
        # killed (SIGKILL) KILL_AFTER_S after the last insert was sent and its database is read
        # back. The Node server persists only with YPERSISTENCE (LevelDB, not SQLite).
        Scenario("P1", "persistence: 50 boards x 1 client x 120 inserts/s (6,000 updates/s), "
                 "server killed 1 s after the last one", "persist",
                 {"boards": "50", "clients": "1", "rate": "120", "hold-s": "4"},
                 node_persistence=True, uses_duration=True),
    )
}


def summarise(scenario: Scenario, result: dict, server: dict) -> dict[str, object]:
    """One run's row: the load generator's ``result`` plus the ``server`` samples
    (``cpu_s``, ``peak_rss_bytes``, ``rss_before_bytes``, ``rss_connected_bytes``)."""
    row: dict[str, object] = {
        "converged": bool(result.get("converged")),
        "server_survived": server.get("server_exit_code") is None,
        "server_cpu_s": server["cpu_s"],
        "peak_rss_mib": server["peak_rss_bytes"] / MIB,
        "loadgen_cpu_s": result.get("loadgen_cpu_s"),
        "loadgen_loop_p99_ms": result.get("loadgen_loop_delay_p99_ms"),
    }
    if scenario.kind == "edit":
        expected = int(result["expected_deliveries"])
        delivered = int(result["delivered"])
        credited = stats.delivered_fanout(int(result["fanout_updates"]), delivered, expected)
        row |= stats.latency_summary(result["latencies_ms"])
        row |= {
            "delivered": delivered,
            "expected": expected,
            "deliveries_per_s": stats.per_unit(credited, float(result["duration_s"])),
            "cpu_us_per_delivery": stats.per_unit(server["cpu_s"] * 1e6, credited),
        }
    elif scenario.kind == "join":
        row |= {
            "join_ms": stats.median(result["joins_ms"]),
            "join_max_ms": max(result["joins_ms"]) if result["joins_ms"] else None,
            "first_join_ms": result["probe_join_ms"],
            "seed_ms": result["seed_ms"],
        }
    elif scenario.kind == "persist":
        sent = int(result["inserts_sent"])
        committed = server.get("committed_elements")
        row |= {
            "sent": sent,
            "committed": committed,
            "committed_all": committed is not None and committed >= sent,
            "offered_per_s": stats.per_unit(sent, float(result["duration_s"])),
            "committed_per_s": stats.per_unit(
                committed, float(result["duration_s"]) + server["kill_after_s"]),
        }
    else:
        connections = int(result["connections"])
        # no sample when the server had exited by then
        rss_connected = server.get("rss_connected_bytes")
        rss_delta = None if rss_connected is None else rss_connected - server["rss_before_bytes"]
        row |= {
            "connections": connections,
            "synced": connections - int(result.get("unsynced_clients", 0)),
            "still_connected": int(result["still_connected"]),
            "rss_before_mib": server["rss_before_bytes"] / MIB,
            "rss_connected_mib": stats.per_unit(rss_connected, MIB),
            "kib_per_connection": stats.per_unit(
                None if rss_delta is None else rss_delta / 1024, connections),
            "connect_ms": result["connect_ms"],
        }
    return row
