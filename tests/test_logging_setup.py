"""logging_setup.py: --log-format json writes one parseable JSON object per line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from backend.logging_setup import JsonLineFormatter

ROOT = Path(__file__).resolve().parent.parent


def test_a_record_becomes_one_json_line_with_its_fields():
    record = logging.LogRecord("backend.room", logging.WARNING, __file__, 1,
                               "board %s peer %s: closing", ("b1", "p#1"), None)
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "backend.room"
    assert entry["message"] == "board b1 peer p#1: closing"
    assert entry["worker"] == os.getpid()
    assert entry["time"].endswith("Z") and entry["time"][10] == "T"


def test_a_traceback_stays_inside_the_json_line():
    try:
        raise ValueError("bad\nupdate")
    except ValueError:
        record = logging.LogRecord("backend", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad\nupdate" in json.loads(line)["exception"]


def test_the_server_logs_json_lines_with_log_format_json(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "backend", "--log-format", "json", "--port", "0",
         "--db", "nosuchdriver://x"],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any(e["level"] == "ERROR" and "nosuchdriver" in e["message"] for e in entries)
