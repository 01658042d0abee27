"""A kill -9 at any moment of an upgrade leaves a database that the old or the new code opens.

A subprocess upgrades a copy of the pre-Alembic fixture (grown with a bulk board so the table
rebuild of the test-only revision takes a while) and is killed at a random moment of its
upgrade (0002_board_names, then the test revision), a bounded number of times. Each time the
file must hold either the old schema (the baseline, which the previous release opens) or the
new one (both revisions), never one in between, with every row, and then upgrade to the end.
The same on PostgreSQL, fewer times (its DDL is transactional by design), on a copy of the
restored dump per attempt.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from backend.store import Store, make_engine
from backend.store.migrate import BASELINE, schema_status
from tests.conftest import ROOT
from tests.services import reachable
from tests.upgrade.fixture_data import (
    EXTRA_REVISIONS,
    TEST_HEAD,
    copy_sqlite_fixture,
    drop_pg_database,
    psql,
    restore_pg_dump,
    stored_everything,
)

ATTEMPTS = 5
PG_ATTEMPTS = 2
PG_BULK_UPDATES = 30_000
BULK_UPDATES = 100_000

_UPGRADER = """
import asyncio, sys
from backend.store import make_engine
from backend.store.migrate import prepare_schema
async def main():
    engine = make_engine(sys.argv[1])
    print("ready", flush=True)
    try:
        await prepare_schema(engine, "auto", version_locations=[sys.argv[2]])
        print("done", flush=True)
    finally:
        await engine.dispose()
asyncio.run(main())
"""


@pytest.mark.slow
def test_kill_9_during_an_upgrade_leaves_the_old_or_the_new_schema_with_every_row(tmp_path):
    seed = Path(copy_sqlite_fixture(tmp_path, "seed.db").removeprefix("sqlite+aiosqlite:///"))
    _add_bulk_board(seed)
    expected = asyncio.run(_everything(seed))
    rows = _count_updates(seed)

    target = tmp_path / "syncboard.db"
    shutil.copyfile(seed, target)
    full_run_s = _run_upgrade(target, kill_after_s=None)
    assert _revision(target) == TEST_HEAD

    rng = random.Random(23)
    outcomes = []
    for attempt in range(ATTEMPTS):
        for leftover in tmp_path.glob("syncboard.db*"):
            leftover.unlink()
        shutil.copyfile(seed, target)
        # Stratified: one random moment in each fifth of the upgrade's duration.
        _run_upgrade(target, kill_after_s=(attempt + rng.random()) / ATTEMPTS * full_run_s)
        revision = _revision(target)
        outcomes.append(revision)
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", attempt
            columns = [row[1] for row in conn.execute("PRAGMA table_info(board_updates)")]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not any(name.startswith("_alembic_tmp") for name in tables), (attempt, tables)
        # All revisions run in one transaction: never a state in between (0002 without 9001).
        assert revision in (BASELINE, TEST_HEAD), attempt
        assert ("origin" in columns) == (revision == TEST_HEAD), (attempt, revision)
        with sqlite3.connect(target) as conn:
            board_id_type = {row[1]: row[2] for row in conn.execute(
                "PRAGMA table_info(board_updates)")}["board_id"]
        assert board_id_type == ("VARCHAR(255)" if revision == TEST_HEAD else "VARCHAR(64)")
        assert _count_updates(target) == rows
        # The tables are those of the revision recorded, with every row.
        assert asyncio.run(_everything(target, revision=revision)) == expected
        # A backup copy is either whole under its name or absent.
        for copy in tmp_path.glob("syncboard.db.bak-*"):
            if re.fullmatch(r"syncboard\.db\.bak-[\w-]+", copy.name):  # not *.partial*
                with sqlite3.connect(copy) as conn:
                    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"revision after each kill -9: {outcomes} (full upgrade {full_run_s:.2f} s)")
    # Whatever state the last kill left, the upgrade then completes.
    _run_upgrade(target, kill_after_s=None)
    assert _revision(target) == TEST_HEAD
    assert asyncio.run(_everything(target, revision=TEST_HEAD)) == expected


@pytest.mark.slow
@pytest.mark.skipif(not reachable(5432), reason="no PostgreSQL on 127.0.0.1:5432")
def test_kill_9_during_a_postgresql_upgrade_leaves_the_old_or_the_new_schema():
    seed, seed_url = restore_pg_dump()
    made = [seed]
    try:
        update = _bulk_updates(1)[0].hex()
        psql("INSERT INTO boards VALUES ('bulk', 0, 0, 0, 0, 0, 0); "
             "INSERT INTO board_updates (board_id, data, created_at) SELECT 'bulk', "
             f"decode('{update}', 'hex'), 0 FROM generate_series(1, {PG_BULK_UPDATES})", seed)
        expected = asyncio.run(_everything(seed_url))
        seed_rows = psql("SELECT count(*) FROM board_updates", seed)

        def copy_of_seed() -> str:
            name = f"{seed}_{len(made)}"
            psql(f'CREATE DATABASE "{name}" TEMPLATE "{seed}"')
            made.append(name)
            return name

        full_run_s = _run_upgrade(seed_url.replace(seed, copy_of_seed()), kill_after_s=None)
        rng = random.Random(23)
        outcomes = []
        for attempt in range(PG_ATTEMPTS):
            name = copy_of_seed()
            url = seed_url.replace(seed, name)
            _run_upgrade(url, kill_after_s=(attempt + rng.random()) / PG_ATTEMPTS * full_run_s)
            # The server rolls back what the dead client left uncommitted, or keeps its
            # commit: wait until the dead client's session is gone, then look.
            _wait_until_no_session_on(name)
            tables = psql("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = 'public'", name).split()
            revision = psql("SELECT version_num FROM alembic_version", name).strip() \
                if "alembic_version" in tables else BASELINE
            outcomes.append(revision)
            columns = psql("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = 'board_updates'", name).split()
            assert revision in (BASELINE, TEST_HEAD), attempt
            assert ("origin" in columns) == (revision == TEST_HEAD), (attempt, revision)
            length = psql("SELECT character_maximum_length FROM information_schema.columns "
                          "WHERE table_name = 'board_updates' AND column_name = 'board_id'",
                          name).strip()
            assert length == ("255" if revision == TEST_HEAD else "64"), (attempt, revision)
            assert psql("SELECT count(*) FROM board_updates", name) == seed_rows
            assert asyncio.run(_everything(url, revision=revision)) == expected
        print(f"revision after each kill -9: {outcomes} (full upgrade {full_run_s:.2f} s)")
    finally:
        for name in made:
            drop_pg_database(name)


def _wait_until_no_session_on(database: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while int(psql("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                   f"'{database}' AND pid <> pg_backend_pid()")):
        assert time.monotonic() < deadline, f"a session on {database} outlived its client"
        time.sleep(0.05)


def _url(database: Path | str) -> str:
    return database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"


def _run_upgrade(database: Path | str, kill_after_s: float | None) -> float:
    """Run the upgrader; kill it ``kill_after_s`` after it is ready (None: let it finish).
    Returns the seconds from ready to exit (to the end of the upgrade when not killed)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _UPGRADER, _url(database), EXTRA_REVISIONS],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
        started = time.monotonic()
        if kill_after_s is None:
            assert process.stdout.readline().strip() == "done", process.stderr.read()
            upgraded_s = time.monotonic() - started
            assert process.wait(timeout=60) == 0
            return upgraded_s
        else:
            try:
                process.wait(timeout=kill_after_s)  # the upgrade may end before the kill
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        return time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _add_bulk_board(path: Path) -> None:
    """A board with many small log rows (each a valid update), written as the old code did."""
    updates = _bulk_updates(200)
    now = time.time()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO boards VALUES ('bulk', ?, ?, ?, ?, ?, 0)",
                     (now, now, BULK_UPDATES, BULK_UPDATES,
                      sum(len(updates[n % 200]) for n in range(BULK_UPDATES))))
        conn.executemany("INSERT INTO board_updates (board_id, data, created_at) VALUES "
                         "('bulk', ?, ?)", ((updates[n % 200], now) for n in range(BULK_UPDATES)))


def _bulk_updates(count: int) -> list[bytes]:
    """``count`` valid updates, one rectangle each."""
    doc = Doc()
    elements = doc.get("elements", type=Map)
    updates = []
    for n in range(count):
        before = doc.get_state()
        elements[f"bulk{n}"] = Map({"type": "rect", "x": n, "y": n, "w": 10, "h": 10,
                                    "z": f"d{n:04d}"})
        updates.append(doc.get_update(before))
    return updates


async def _everything(path: Path | str, revision: str | None = None) -> dict:
    """Every board and image; with ``revision``, first check (changing nothing) that the
    database records that revision, one the code with the test revision knows."""
    engine = make_engine(_url(path))
    store = Store(engine)
    try:
        if revision is not None:
            status = await schema_status(engine, [EXTRA_REVISIONS])
            assert status.known and status.revision == revision, status
        return await stored_everything(store, skip=frozenset({"bulk"}))
    finally:
        await store.close()


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no alembic_version: still the pre-Alembic file
            return BASELINE
    return row[0] if row else BASELINE


def _count_updates(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM board_updates").fetchone()[0]
