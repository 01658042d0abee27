"""Logging set-up for ``python -m backend``: human-readable lines or JSON lines.

``--log-format json`` writes one JSON object per line to stderr, ready for log collectors
(Loki, Elasticsearch, CloudWatch): ``time`` (ISO 8601, UTC), ``level``, ``logger``,
``message``, ``worker`` (process id, useful with ``--workers``), and ``exception`` when a
traceback was logged. Example::

    {"time": "2026-11-29T06:01:02.345Z", "level": "INFO", "logger": "backend.registry",
     "message": "loaded board b1: 3 stored updates, 812 bytes, in 4.1 ms", "worker": 4242}
"""

from __future__ import annotations

import json
import logging
import time

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "worker": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str, tag_worker: bool = False) -> None:
    """Send the root logger's records to stderr at ``level`` as ``text`` or ``json`` lines;
    ``tag_worker`` appends the process id to text lines (JSON lines always carry it)."""
    text_format = TEXT_FORMAT + (" [worker %(process)d]" if tag_worker else "")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter() if log_format == "json"
                         else logging.Formatter(text_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def _iso_utc(created_s: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created_s))
    return f"{whole}.{int(created_s % 1 * 1000):03d}Z"
