"""workers.py: which settings may run as several processes, and the refusal at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.config import Settings
from backend.workers import STARTUP_FAILED, workers_problem

ROOT = Path(__file__).resolve().parent.parent


def test_one_worker_needs_nothing_more():
    assert workers_problem(Settings(workers=1)) is None


def test_several_workers_need_a_broker():
    problem = workers_problem(Settings(workers=3))
    assert problem is not None and "--broker" in problem


def test_several_workers_may_share_a_sqlite_file_or_postgresql():
    broker = "redis://127.0.0.1:6379/0"
    assert workers_problem(Settings(workers=2, broker=broker,
                                    db="sqlite+aiosqlite:////tmp/x.db")) is None
    assert workers_problem(Settings(workers=2, broker=broker,
                                    db="postgresql+asyncpg://u@h/db")) is None


def test_several_workers_cannot_share_an_in_memory_database():
    problem = workers_problem(Settings(workers=2, broker="redis://h",
                                       db="sqlite+aiosqlite:///:memory:"))
    assert problem is not None and "database" in problem


def test_workers_without_broker_exit_at_start_saying_why(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "backend", "--workers", "2", "--port", "0",
         "--db", f"sqlite+aiosqlite:///{tmp_path}/w.db"],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == STARTUP_FAILED
    assert "--workers 2 needs --broker" in result.stderr
