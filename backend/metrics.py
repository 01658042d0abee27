"""Prometheus metrics of one syncboard process, served at ``GET /metrics``.

Counters and histograms live at module level (the prometheus-client convention) and are
bumped by one-line calls; labelled children are bound once here, never looked up per event.
The per-frame counts (every frame to every peer) are plain integers in lists, about a third of
the cost of ``Counter.inc``. Those counts and the gauges that mirror live state (connections,
boards loaded, write queue depth) are exported at scrape time by ``_LiveCollector``, so
nothing on the hot path keeps a gauge up to date.

No metric carries a board id: label values stay few whatever the number of boards. With
``--workers N`` each worker has its own metrics and ``/metrics`` answers with the worker the
kernel handed the connection to (label ``worker``); see docs/scaling.md.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .http_policy import SecureHeaders
from .protocol import CloseCode

if TYPE_CHECKING:
    from .app import SyncboardServer

disable_created_metrics()  # no *_created series: they double the output and nobody reads them

_PREFIX = "syncboard"
_LATENCY_BUCKETS_S = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                      0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REFUSALS = Counter(
    f"{_PREFIX}_refusals",
    "Connections the server closed or refused, by WebSocket close code name or HTTP status.",
    ["code"])
UPDATE_APPLY_SECONDS = Histogram(f"{_PREFIX}_update_apply_seconds",
                                 "Time to apply one update to a board document.",
                                 buckets=_LATENCY_BUCKETS_S)
COMMIT_SECONDS = Histogram(f"{_PREFIX}_commit_seconds",
                           "Time of one group commit of queued updates to the database.",
                           buckets=_LATENCY_BUCKETS_S)
UNKNOWN_MESSAGES = Counter(
    f"{_PREFIX}_unknown_messages",
    "Frames of an outer message type the server does not handle (ignored, not closed).")
COMMIT_FAILURES = Counter(f"{_PREFIX}_commit_failures", "Group commits that failed (retried).")
COMPACTIONS = Counter(f"{_PREFIX}_compactions", "Board compactions, by outcome.", ["outcome"])
BROKER_PUBLISHED = Counter(f"{_PREFIX}_broker_published",
                           "Messages this process published to the broker.", ["kind"])
BROKER_DELIVERED = Counter(f"{_PREFIX}_broker_delivered",
                           "Messages from other processes delivered to loaded boards.", ["kind"])
BROKER_LAG_SECONDS = Histogram(
    f"{_PREFIX}_broker_lag_seconds",
    "Age of a broker message when this process read it (publish to delivery).",
    buckets=_LATENCY_BUCKETS_S)
BROKER_RESYNCS = Counter(
    f"{_PREFIX}_broker_resyncs",
    "Boards reloaded from the database because their broker history had a gap.")
BROKER_ERRORS = Counter(f"{_PREFIX}_broker_errors",
                        "Failed broker round trips (connection lost, timeout), retried.")

COMPACTED = COMPACTIONS.labels("merged")
COMPACTION_NOOP = COMPACTIONS.labels("nothing_to_do")
COMPACTION_FAILED = COMPACTIONS.labels("failed")

# Frame traffic is counted in plain lists indexed by message type (one index lookup and two
# integer additions per frame, no lock: only the event loop thread counts) and exported by
# _LiveCollector. A prometheus-client Counter.inc costs several times more, per peer per frame.
_TYPE_NAMES = ("sync_step1", "sync_step2", "sync_update", "awareness", "auth", "query_awareness",
               "other")
_TYPE_INDEX = {b"\x00\x00": 0, b"\x00\x01": 1, b"\x00\x02": 2, b"\x01": 3, b"\x02": 4,
               b"\x03": 5}
_OTHER = len(_TYPE_NAMES) - 1
_RECEIVED_MESSAGES = [0] * len(_TYPE_NAMES)
_RECEIVED_BYTES = [0] * len(_TYPE_NAMES)
_SENT_MESSAGES = [0] * len(_TYPE_NAMES)
_SENT_BYTES = [0] * len(_TYPE_NAMES)
_CLOSES = {code: REFUSALS.labels(code.name) for code in CloseCode}


def _type_index(frame: bytes) -> int:
    head = frame[:1]
    if head == b"\x00":
        head = frame[:2]
    return _TYPE_INDEX.get(head, _OTHER)


def count_received(frame: bytes) -> None:
    """Count one frame from a peer, by y-websocket message type."""
    index = _type_index(frame)
    _RECEIVED_MESSAGES[index] += 1
    _RECEIVED_BYTES[index] += len(frame)


def count_sent(frame: bytes, peers: int = 1, size: int | None = None) -> None:
    """Count one frame written to ``peers`` peers; ``size``: its length, when ``frame`` is
    only its first bytes (a big update written behind a head, ``Peer.send_wire``)."""
    index = _type_index(frame)
    _SENT_MESSAGES[index] += peers
    _SENT_BYTES[index] += (len(frame) if size is None else size) * peers


def count_close(code: CloseCode) -> None:
    """Count a connection the server closed with ``code``."""
    _CLOSES[code].inc()


def count_http_refusal(status: int) -> None:
    """Count a WebSocket upgrade refused with HTTP ``status``."""
    REFUSALS.labels(f"HTTP_{status}").inc()


def watch(server: SyncboardServer) -> None:
    """Report ``server``'s live gauges (connections, boards, queue) until it is gone."""
    _LIVE.servers.add(server)


def unwatch(server: SyncboardServer) -> None:
    """Stop reporting ``server``'s live gauges."""
    _LIVE.servers.discard(server)


class MetricsHandler(SecureHeaders):
    """``GET /metrics``: every metric of this process in the Prometheus text format."""

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.set_header("Cache-Control", "no-store")
        self.finish(generate_latest(REGISTRY))


class _LiveCollector(Collector):
    """Gauges read from the running servers of this process, and the frame counts, at
    scrape time."""

    def __init__(self) -> None:
        self.servers: weakref.WeakSet[SyncboardServer] = weakref.WeakSet()

    def collect(self) -> Iterator:
        servers = [s for s in self.servers if s.registry is not None and s.writer is not None]
        registries = [s.registry for s in servers]
        writers = [s.writer for s in servers]
        labels = ["worker"]
        values = [str(os.getpid())]  # read now: workers are forked after import
        yield _gauge("connections", "Open WebSocket connections.", labels, values,
                     sum(r.connection_count for r in registries))
        yield _gauge("boards_loaded", "Boards held in memory.", labels, values,
                     sum(len(r.rooms) for r in registries))
        yield _gauge("persistence_queue_updates", "Updates accepted but not yet committed.",
                     labels, values, sum(w.pending_updates for w in writers))
        yield _gauge("persistence_degraded",
                     "1 while the last database commit failed and updates wait to be written.",
                     labels, values, int(any(w.degraded for w in writers)))
        yield _counter("board_loads", "Boards loaded from the database.", labels, values,
                       sum(r.loads_total for r in registries))
        yield _counter("board_unloads", "Idle boards unloaded.", labels, values,
                       sum(r.unloads_total for r in registries))
        yield _by_type("messages_received", "Frames received from peers.", _RECEIVED_MESSAGES)
        yield _by_type("received_bytes", "Bytes of frames received from peers.", _RECEIVED_BYTES)
        yield _by_type("messages_sent", "Frames written to peers.", _SENT_MESSAGES)
        yield _by_type("sent_bytes", "Bytes of frames written to peers.", _SENT_BYTES)

    def describe(self) -> Iterator:
        return iter(())  # collected lazily; nothing to check for duplicates at register time


def _gauge(name: str, doc: str, labels: list[str], values: list[str],
           value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{_PREFIX}_{name}", doc, labels=labels)
    family.add_metric(values, value)
    return family


def _by_type(name: str, doc: str, counts: list[int]) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{_PREFIX}_{name}", doc, labels=["type"])
    for type_name, count in zip(_TYPE_NAMES, counts, strict=True):
        family.add_metric([type_name], count)
    return family


def _counter(name: str, doc: str, labels: list[str], values: list[str],
             value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{_PREFIX}_{name}", doc, labels=labels)
    family.add_metric(values, value)
    return family


_LIVE = _LiveCollector()
REGISTRY.register(_LIVE)
