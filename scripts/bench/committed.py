"""Count what a stopped server's database holds: the elements of every board, read back the
way each server stores them (P1 kills the server, then counts what survived)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from pycrdt import Doc, Map
from servers import BENCH_DIR, REPO_DIR, ServerSpec

if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))  # syncboard's own store reads its database

COUNT_LEVELDB_JS = BENCH_DIR / "lib" / "count-leveldb.mjs"


def count_elements(spec: ServerSpec) -> dict[str, int]:
    """Elements per board in ``spec``'s database (the server must be stopped)."""
    if spec.name == "syncboard":
        return asyncio.run(_count_syncboard(spec.work_dir / "syncboard.db"))
    if spec.name == "pycrdt":
        return _count_pycrdt(spec.work_dir / "pycrdt.db")
    if spec.name == "node":
        if not spec.node_persistence:
            return {}
        output = subprocess.run(["node", str(COUNT_LEVELDB_JS), str(spec.work_dir / "leveldb")],
                                check=True, capture_output=True, text=True, timeout=300).stdout
        return json.loads(output)
    if spec.name == "floor":
        return {}  # it stores nothing
    raise ValueError(f"unknown server {spec.name!r}")


async def _count_syncboard(path: Path) -> dict[str, int]:
    """Through syncboard's own store: the log and snapshots of each board."""
    from backend.store import open_store  # after the sys.path line above

    store = await open_store(f"sqlite+aiosqlite:///{path}")
    try:
        counts = {}
        for info in await store.list_boards():
            counts[info.board_id] = _elements_in(await store.load_updates(info.board_id))
        return counts
    finally:
        await store.close()


def _count_pycrdt(path: Path) -> dict[str, int]:
    """pycrdt-store's ``yupdates`` table: every row of a path, applied in timestamp order."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT path, yupdate FROM yupdates ORDER BY path, timestamp").fetchall()
    by_path: dict[str, list[bytes]] = {}
    for board_path, update in rows:
        by_path.setdefault(board_path, []).append(update)
    return {board_path: _elements_in(updates) for board_path, updates in by_path.items()}


def _elements_in(updates: list[bytes]) -> int:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return len(doc.get("elements", type=Map))
