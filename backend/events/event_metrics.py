"""Prometheus metrics of the change feed and webhooks (served with the rest at /metrics).

No metric carries a board or hook id: label values stay few.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_PREFIX = "syncboard"

EVENTS_PUBLISHED = Counter(f"{_PREFIX}_events_published", "Events published, by type.",
                           ["type"])
EVENT_BATCH_SECONDS = Histogram(
    f"{_PREFIX}_event_batch_seconds",
    "Time to turn one board's batch of updates into events (shadow document apply and diff).",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
FEEDS_FOLLOWING = Gauge(f"{_PREFIX}_feeds_following",
                        "Loaded boards whose change feed keeps a shadow copy (someone on any "
                        "process follows them).")
FEED_RESETS = Counter(f"{_PREFIX}_feed_resets",
                      "Reset events sent to change-feed readers that fell behind the backlog.")
FEED_CLIENTS_REFUSED = Counter(f"{_PREFIX}_feed_clients_refused",
                               "Change-feed connections refused at --events-max-clients.")
WEBHOOK_ATTEMPTS = Counter(f"{_PREFIX}_webhook_attempts",
                           "Webhook delivery attempts, by outcome (ok, http_error, refused, "
                           "network).", ["outcome"])
WEBHOOK_DELIVERIES = Counter(f"{_PREFIX}_webhook_deliveries",
                             "Webhook deliveries finished, by result (delivered, given_up, "
                             "dropped).", ["result"])
WEBHOOK_SECONDS = Histogram(f"{_PREFIX}_webhook_request_seconds",
                            "Duration of one webhook request.",
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
WEBHOOK_PAUSES = Counter(f"{_PREFIX}_webhook_pauses", "Hooks paused after failing deliveries.")
