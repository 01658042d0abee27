"""The pre-Alembic fixtures (written by make_fixture_db.py) and how to compare against them."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from backend.board_model import load_model, normalize_element, normalize_meta
from backend.export import read_stored_board
from backend.export.json_export import render_json
from backend.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SQLITE_FIXTURE = FIXTURES / "pre_alembic.db"
PG_DUMP = FIXTURES / "pre_alembic.postgresql.sql"
EXPECTED = json.loads((FIXTURES / "pre_alembic.expected.json").read_text())
EXTRA_REVISIONS = str(Path(__file__).resolve().parent / "extra_revisions")
TEST_HEAD = "9001_test_rebuild"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


def copy_sqlite_fixture(directory: Path, name: str = "syncboard.db") -> str:
    """A copy of the pre-Alembic SQLite database; returns its SQLAlchemy URL."""
    path = directory / name
    shutil.copyfile(SQLITE_FIXTURE, path)
    return f"sqlite+aiosqlite:///{path}"


def restore_pg_dump() -> tuple[str, str]:
    """A new PostgreSQL database loaded from the pre-Alembic dump: (name, SQLAlchemy URL)."""
    name = f"syncboard_upgrade_{uuid.uuid4().hex[:10]}"
    psql(f'CREATE DATABASE "{name}"')
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{PG_SERVER}/{name}",
                    "-f", str(PG_DUMP)], check=True, capture_output=True)
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def create_pg_database() -> tuple[str, str]:
    """A new empty PostgreSQL database: (name, SQLAlchemy URL)."""
    name = f"syncboard_upgrade_{uuid.uuid4().hex[:10]}"
    psql(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(["psql", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
                           f"{PG_SERVER}/{database}", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


async def stored_everything(store: Store, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What the store holds, in the form of the expected file (tokens aside), without the
    boards in ``skip``."""
    boards = {}
    for info in await store.list_boards():
        if info.board_id in skip:
            continue
        content = await read_stored_board(store, info.board_id)
        assert content is not None
        boards[info.board_id] = {
            "export": json.loads(render_json(content)),
            "update_count": info.update_count,
            "token_generation": await store.token_generation(info.board_id)}
    files = {}
    for file_id in EXPECTED["files"]:
        stored = await store.load_file(file_id)
        assert stored is not None, f"image {file_id} is gone"
        mime, data = stored
        files[file_id] = {"mime": mime, "sha256": hashlib.sha256(data).hexdigest(),
                          "bytes": len(data)}
    return {"boards": boards, "files": files}


def expected_everything() -> dict[str, Any]:
    """The expected file without the tokens (checked over HTTP instead), its exports read by
    today's board model."""
    return {"boards": {board_id: {key: current_form(value) if key == "export" else value
                                  for key, value in board.items() if key != "tokens"}
                       for board_id, board in EXPECTED["boards"].items()},
            "files": EXPECTED["files"]}


def current_form(export: dict[str, Any]) -> dict[str, Any]:
    """An export written when the fixture was made, as today's board model reads it: fields
    added to the schema since then take their defaults (shared/BOARD.md, tolerance rules)."""
    model = load_model()
    elements = [normalize_element(element["id"], element, model)
                for element in export["elements"]]
    return {"schemaVersion": model.version, "meta": normalize_meta(export["meta"], model),
            "elements": elements}
