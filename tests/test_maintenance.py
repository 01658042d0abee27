"""``python -m backend backup``: an online copy of a SQLite database while the server serves it
under load holds every update committed before it started, and a fresh server restores it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from tests.conftest import ROOT
from tests.yclient import YClient


@pytest.mark.slow
@pytest.mark.gen_test(timeout=180)
async def test_backup_under_load_restores_every_committed_update(server_process, tmp_path):
    live = tmp_path / "live.db"
    server = server_process(db=f"sqlite+aiosqlite:///{live}")
    client = await YClient(f"{server.ws_url}/load").sync()
    sent = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        nonlocal sent
        while not stop.is_set():
            await client.put(f"e{sent}", {"n": sent, "pad": "x" * 200})
            sent += 1
            await asyncio.sleep(0.002)

    writer = asyncio.create_task(keep_writing())
    try:
        await _wait_for(lambda: len(stored_keys(live)) >= 300, "300 committed edits")
        committed = stored_keys(live)  # everything committed before the backup starts
        sent_before = sent
        copy = tmp_path / "copy.db"
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backend", "backup", str(copy), "--db",
            f"sqlite+aiosqlite:///{live}", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(backup.communicate(), 120)
        sent_during = sent - sent_before
    finally:
        stop.set()
        await writer
    assert backup.returncode == 0, err.decode()
    assert f"backed up {live}" in out.decode()
    print(f"{len(committed)} edits committed before the backup, {sent} sent in all, "
          f"{sent_during} during the backup")
    assert sent_during > 0, "the load stopped during the backup"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored = stored_keys(copy)
    everything = {f"e{n}" for n in range(sent)}
    assert committed <= restored <= everything

    # Restore: the copy becomes the database of a fresh server, which serves all of it.
    restored_db = tmp_path / "restored" / "syncboard.db"
    restored_db.parent.mkdir()
    shutil.copyfile(copy, restored_db)
    fresh = server_process(db=f"sqlite+aiosqlite:///{restored_db}")
    reader = await YClient(f"{fresh.ws_url}/load").sync()
    assert set(reader.snapshot()) == restored
    reader.close()
    # The live server lost nothing while it was being copied.
    await _wait_for(lambda: stored_keys(live) == everything, "every edit stored")
    client.close()


def test_backup_of_postgresql_points_to_pg_dump(tmp_path):
    import subprocess
    done = subprocess.run([sys.executable, "-m", "backend", "backup", str(tmp_path / "x"),
                           "--db", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "pg_dump" in done.stderr
    assert not (tmp_path / "x").exists()


def stored_keys(path: Path, board_id: str = "load") -> set[str]:
    """Element keys of a board as stored in a SQLite file (snapshot + log, one read)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        stored = [row[0] for row in conn.execute(
            "SELECT data FROM board_snapshots WHERE board_id = ?", (board_id,))]
        stored += [row[0] for row in conn.execute(
            "SELECT data FROM board_updates WHERE board_id = ? ORDER BY seq", (board_id,))]
        conn.execute("COMMIT")
    finally:
        conn.close()
    doc = Doc()
    with doc.transaction():
        for data in stored:
            doc.apply_update(data)
    elements = doc.get("elements", type=Map)
    return set(elements.keys())


async def _wait_for(predicate, what: str, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)
