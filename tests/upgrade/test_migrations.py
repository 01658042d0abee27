"""Schema revisions against real databases: the pre-Alembic fixtures upgrade with every board,
element, image and token intact; newer databases are refused untouched; older ones are
upgraded (with a backup) or refused by mode; processes starting together upgrade once."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pycrdt import Doc, Map
from sqlalchemy import insert, text
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from backend.app import SyncboardServer
from backend.board_names import MAX_BOARD_NAME_CHARS
from backend.config import Settings
from backend.store import Store, StoreError, make_engine, open_store
from backend.store.migrate import (
    BASELINE,
    MIGRATE_COMMAND,
    SchemaError,
    _alembic,
    _config,
    _schema_lock,
    head_revision,
    prepare_schema,
    schema_status,
)
from backend.store.schema import boards, metadata, versions
from backend.store.search import is_search_table
from tests.conftest import ROOT
from tests.services import reachable
from tests.upgrade.fixture_data import (
    EXPECTED,
    EXTRA_REVISIONS,
    PG_SERVER,
    SQLITE_FIXTURE,
    TEST_HEAD,
    copy_sqlite_fixture,
    create_pg_database,
    current_form,
    drop_pg_database,
    expected_everything,
    psql,
    restore_pg_dump,
    stored_everything,
)

needs_pg = pytest.mark.skipif(not reachable(5432), reason="no PostgreSQL on 127.0.0.1:5432")


@pytest.fixture
def pg_fixture_db():
    """A PostgreSQL database restored from the pre-Alembic dump, dropped afterwards."""
    name, url = restore_pg_dump()
    yield url
    drop_pg_database(name)


@pytest.fixture
def pg_empty_db():
    name, url = create_pg_database()
    yield url
    drop_pg_database(name)


HEAD = "0009_version_checked"  # update when a revision is added
LONG_NAME = "r" * MAX_BOARD_NAME_CHARS  # longer than the baseline's VARCHAR(64)


def test_the_migrations_have_one_head_and_the_baseline_is_first():
    assert head_revision() == HEAD
    assert [rev.revision for rev in ScriptDirectory.from_config(_config(())).walk_revisions()
            ][-1] == BASELINE


def test_pre_alembic_sqlite_database_keeps_every_board_element_image_and_token(tmp_path):
    url = copy_sqlite_fixture(tmp_path)
    path = tmp_path / "syncboard.db"
    sequence = _sqlite_sequence(path)
    asyncio.run(_check_upgraded_server(url, tmp_path))
    # Recognised as the baseline, backed up as it was, upgraded to the head by the default
    # mode (auto on SQLite).
    assert _sqlite_revision(path) == HEAD
    backup = tmp_path / f"syncboard.db.bak-{BASELINE}"
    assert list(tmp_path.glob("syncboard.db.bak-*")) == [backup]
    asyncio.run(_check_store(f"sqlite+aiosqlite:///{backup}", BASELINE))
    # The log keeps AUTOINCREMENT and its high-water mark: no compacted seq comes back.
    assert "AUTOINCREMENT" in _sqlite_table_sql(path, "board_updates")
    assert _sqlite_sequence(path) == sequence
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_255_character_board_name_is_stored_after_the_sqlite_upgrade(tmp_path):
    url = copy_sqlite_fixture(tmp_path)
    asyncio.run(_store_long_name(url, "default"))
    assert "board_id VARCHAR(255)" in _sqlite_table_sql(tmp_path / "syncboard.db",
                                                        "board_updates")


@needs_pg
def test_pre_alembic_postgresql_dump_is_refused_then_migrated_keeping_everything(
        pg_fixture_db, tmp_path):
    # PostgreSQL's default mode refuses the upgrade and names the command; the database is
    # only stamped as the baseline it is.
    with pytest.raises(StoreError, match=re.escape(MIGRATE_COMMAND)):
        asyncio.run(_check_upgraded_server(pg_fixture_db, tmp_path))
    name = pg_fixture_db.rsplit("/", 1)[1]
    assert psql("SELECT version_num FROM alembic_version", name).strip() == BASELINE
    assert _pg_id_lengths(name) == {"64"}
    asyncio.run(_check_store(pg_fixture_db, BASELINE))
    migrated = _migrate_command(pg_fixture_db)
    assert migrated.returncode == 0, migrated.stderr
    assert f"database upgraded from {BASELINE} to {HEAD}" in migrated.stdout
    assert _pg_id_lengths(name) == {"255"}
    asyncio.run(_check_upgraded_server(pg_fixture_db, tmp_path))
    assert psql("SELECT version_num FROM alembic_version", name).strip() == HEAD


@needs_pg
def test_a_255_character_board_name_is_stored_after_the_postgresql_upgrade(pg_fixture_db):
    name = pg_fixture_db.rsplit("/", 1)[1]
    # The baseline's VARCHAR(64) refuses it (so this test can tell the upgrade happened).
    refused = subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{PG_SERVER}/{name}", "-c",
         f"INSERT INTO boards VALUES ('{LONG_NAME}', 0, 0, 0, 0, 0, 0)"],
        capture_output=True, text=True)
    assert refused.returncode != 0 and "value too long" in refused.stderr
    asyncio.run(_store_long_name(pg_fixture_db, "auto"))


def test_sqlite_fixture_upgraded_to_a_later_revision_keeps_everything(tmp_path):
    url = copy_sqlite_fixture(tmp_path)

    async def run() -> None:
        engine = make_engine(url)
        try:
            result = await prepare_schema(engine, "default", version_locations=[EXTRA_REVISIONS])
            assert (result.before, result.after) == (BASELINE, TEST_HEAD)
            assert result.backup == tmp_path / f"syncboard.db.bak-{BASELINE}"
        finally:
            await engine.dispose()
        await _check_store(url, TEST_HEAD, version_locations=[EXTRA_REVISIONS])
        # The backup is the database as it was before the upgrade: baseline, same boards.
        await _check_store(f"sqlite+aiosqlite:///{result.backup}", BASELINE)

    asyncio.run(run())
    assert _sqlite_revision(tmp_path / "syncboard.db") == TEST_HEAD
    assert "origin" in _sqlite_columns(tmp_path / "syncboard.db", "board_updates")


@needs_pg
def test_postgresql_fixture_upgraded_to_a_later_revision_keeps_everything(pg_fixture_db):
    async def run() -> None:
        engine = make_engine(pg_fixture_db)
        try:
            with pytest.raises(SchemaError, match=MIGRATE_COMMAND):
                await prepare_schema(engine, "default", version_locations=[EXTRA_REVISIONS])
            # Refused, but recognised as the baseline and stamped.
            assert (await schema_status(engine)).current == BASELINE
            result = await prepare_schema(engine, "auto", version_locations=[EXTRA_REVISIONS])
            assert (result.before, result.after, result.backup) == (BASELINE, TEST_HEAD, None)
        finally:
            await engine.dispose()
        await _check_store(pg_fixture_db, TEST_HEAD, version_locations=[EXTRA_REVISIONS])

    asyncio.run(run())


def test_a_fresh_sqlite_database_gets_exactly_the_schema_of_an_upgraded_one(tmp_path):
    """A fresh database (every revision from nothing) and the pre-Alembic fixture upgraded to
    the head hold the same table text; the baseline revision alone gives exactly the
    pre-Alembic schema."""
    asyncio.run(_open_and_close(f"sqlite+aiosqlite:///{tmp_path}/fresh.db"))
    upgraded = Path(copy_sqlite_fixture(tmp_path).removeprefix("sqlite+aiosqlite:///"))
    asyncio.run(_open_and_close(f"sqlite+aiosqlite:///{upgraded}"))
    fresh = _sqlite_schema(tmp_path / "fresh.db")
    assert fresh == _sqlite_schema(upgraded)
    # The baseline's tables: what 0002 changes (the board-id columns), and nothing else.
    widened = [(kind, name, table, sql and sql.replace("id VARCHAR(64)", "id VARCHAR(255)")
                if table != "files" else sql)
               for kind, name, table, sql in _sqlite_schema(SQLITE_FIXTURE)]
    baseline_tables = {table for _kind, _name, table, _sql in widened}
    assert [row for row in fresh if row[2] in baseline_tables] == widened
    assert widened != _sqlite_schema(SQLITE_FIXTURE)

    baseline = tmp_path / "baseline.db"
    asyncio.run(_run_alembic(f"sqlite+aiosqlite:///{baseline}", "upgrade", BASELINE))
    assert _sqlite_schema(baseline) == _sqlite_schema(SQLITE_FIXTURE)


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_the_upgraded_fixture_matches_schema_py_and_downgrades_to_the_baseline(
        dialect, tmp_path, request):
    """The fixture upgraded to the head is what schema.py declares; 0002's downgrade refuses
    while a board name is too long for the baseline, then gives the baseline's columns."""
    url = copy_sqlite_fixture(tmp_path) if dialect == "sqlite" \
        else request.getfixturevalue("pg_fixture_db")
    asyncio.run(_open_and_close(url, migrate="auto"))
    assert asyncio.run(_compare_with_schema_py(url)) == []
    asyncio.run(_store_long_name(url, "refuse"))
    with pytest.raises(RuntimeError, match="longer than 64 characters"):
        asyncio.run(_run_alembic(url, "downgrade", BASELINE))
    assert asyncio.run(_revision_of(url)) == HEAD  # rolled back
    asyncio.run(_delete_board(url, LONG_NAME))
    asyncio.run(_run_alembic(url, "downgrade", BASELINE))
    asyncio.run(_check_store(url, BASELINE))
    if dialect == "sqlite":
        assert _sqlite_schema(tmp_path / "syncboard.db") == _sqlite_schema(SQLITE_FIXTURE)
    else:
        assert _pg_id_lengths(url.rsplit("/", 1)[1]) == {"64"}


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_the_head_revision_matches_schema_py(dialect, tmp_path, request):
    """A change to schema.py without a revision fails here."""
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db" if dialect == "sqlite" \
        else request.getfixturevalue("pg_empty_db")

    asyncio.run(_open_and_close(url))
    assert asyncio.run(_compare_with_schema_py(url)) == []


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_a_database_newer_than_the_code_is_refused_and_not_touched(dialect, tmp_path, request):
    url = copy_sqlite_fixture(tmp_path) if dialect == "sqlite" \
        else request.getfixturevalue("pg_fixture_db")
    asyncio.run(_open_and_close(url, migrate="auto"))
    asyncio.run(_execute(url, "UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    before = asyncio.run(_dump(url))
    with pytest.raises(StoreError, match="newer syncboard") as refused:
        asyncio.run(_open_and_close(url, migrate="auto"))
    assert "9999_from_the_future" in str(refused.value)
    assert asyncio.run(_dump(url)) == before


def test_an_older_database_is_refused_in_refuse_mode_with_the_command_to_run(tmp_path):
    url = copy_sqlite_fixture(tmp_path)

    async def run() -> None:
        engine = make_engine(url)
        try:
            with pytest.raises(SchemaError) as refused:
                await prepare_schema(engine, "refuse", version_locations=[EXTRA_REVISIONS])
            assert MIGRATE_COMMAND in str(refused.value)
            assert f"{BASELINE} and this syncboard needs {TEST_HEAD}" in str(refused.value)
        finally:
            await engine.dispose()

    asyncio.run(run())
    assert _sqlite_revision(tmp_path / "syncboard.db") == BASELINE
    assert "origin" not in _sqlite_columns(tmp_path / "syncboard.db", "board_updates")


@pytest.mark.slow
def test_the_server_refuses_to_start_on_a_refused_database_and_says_why(tmp_path):
    url = copy_sqlite_fixture(tmp_path)
    asyncio.run(_open_and_close(url))
    asyncio.run(_execute(url, "UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    run = subprocess.run([sys.executable, "-m", "backend", "--db", url, "--port", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "9999_from_the_future" in run.stderr and "newer syncboard" in run.stderr


def test_tables_without_a_revision_that_are_not_the_baseline_are_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE boards (id TEXT PRIMARY KEY)")
    with pytest.raises(StoreError, match="not a syncboard database"):
        asyncio.run(_open_and_close(f"sqlite+aiosqlite:///{path}"))
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == [
            "boards", "sqlite_autoindex_boards_1"]


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_processes_starting_together_upgrade_the_database_once(dialect, tmp_path, request):
    url = copy_sqlite_fixture(tmp_path) if dialect == "sqlite" \
        else request.getfixturevalue("pg_fixture_db")
    code = ("import asyncio, sys\n"
            "from backend.store import make_engine\n"
            "from backend.store.migrate import prepare_schema\n"
            "async def main():\n"
            "    engine = make_engine(sys.argv[1])\n"
            "    try:\n"
            "        r = await prepare_schema(engine, 'auto', version_locations=[sys.argv[2]])\n"
            "        print(r.before, r.after)\n"
            "    finally:\n"
            "        await engine.dispose()\n"
            "asyncio.run(main())\n")
    processes = [subprocess.Popen([sys.executable, "-c", code, url, EXTRA_REVISIONS], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 3, [err for _out, err in outputs]
    results = sorted(out.split() for out, _err in outputs)
    # One process upgraded from the baseline; the others found it done (a second run of the
    # revision would have failed on the existing column).
    assert results == [[BASELINE, TEST_HEAD]] + [[TEST_HEAD, TEST_HEAD]] * 2
    if dialect == "sqlite":
        assert len(list(tmp_path.glob("syncboard.db.bak-*"))) == 1
    asyncio.run(_check_store(url, TEST_HEAD, version_locations=[EXTRA_REVISIONS]))


@pytest.mark.slow
def test_migrate_command_reports_and_upgrades(tmp_path):
    url = copy_sqlite_fixture(tmp_path)

    def migrate(*args: str) -> subprocess.CompletedProcess:
        return _migrate_command(url, *args)

    status = migrate("--status")
    assert status.returncode == 3, status.stderr  # made before Alembic: the baseline, older
    assert f"database revision: {BASELINE} (made before migrations" in status.stdout
    assert f"this code's revision: {HEAD}" in status.stdout
    upgraded = migrate()
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database upgraded from {BASELINE} to {HEAD}" in upgraded.stdout
    assert f"backup of the previous database: {tmp_path}/syncboard.db.bak-{BASELINE}" \
        in upgraded.stdout
    assert migrate("--status").returncode == 0
    done = migrate()
    assert done.returncode == 0 and f"already at revision {HEAD}" in done.stdout
    asyncio.run(_check_store(url, HEAD))
    asyncio.run(_execute(url, "UPDATE alembic_version SET version_num = 'unknown_rev'"))
    newer = migrate("--status")
    assert newer.returncode == 1 and "newer than this code" in newer.stderr
    refused = migrate()
    assert refused.returncode == 1 and "newer syncboard" in refused.stderr


PREVIOUS = "0008_space_last_edited"  # the release before 0009_version_checked


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_version_rows_of_the_previous_release_upgrade_unmarked_then_are_checked_and_marked(
        dialect, tmp_path, request):
    """0009 adds ``board_versions.checked``: rows written at 0008 keep every byte and get
    NULL (not known to pass the pre-check); the first export of such a version checks its
    checkpoint and keeps the mark; the downgrade drops the column and keeps the rows."""
    url = f"sqlite+aiosqlite:///{tmp_path}/syncboard.db" if dialect == "sqlite" \
        else request.getfixturevalue("pg_empty_db")
    asyncio.run(_run_alembic(url, "upgrade", PREVIOUS))
    doc = Doc()
    doc.get("elements", type=Map)["r1"] = Map({"type": "rect", "x": 1.0, "y": 2.0, "w": 3.0,
                                               "h": 4.0, "z": "a0"})
    state = doc.get_update()
    row = {"board_id": "old", "created_at": 1000.0, "kind": "named", "label": "at 0008",
           "elements": 1, "authors": "[]", "checkpoint": 1, "chain": 0, "chain_bytes": 0,
           "base_bytes": len(state), "state_vector": doc.get_state(),
           "data": zlib.compress(state, 1)}
    asyncio.run(_insert_previous_release_rows(url, row))
    before = asyncio.run(_version_rows(url))
    asyncio.run(_open_and_close(url, migrate="auto"))
    assert asyncio.run(_revision_of(url)) == HEAD
    assert asyncio.run(_version_rows(url)) == before
    assert asyncio.run(_checked_marks(url)) == [None]

    async def export_once() -> tuple[dict, int]:
        server = SyncboardServer(Settings(db=url, port=0, auth="none", data_dir=str(tmp_path),
                                          log_level="WARNING"))
        await server.start()
        try:
            response = await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{server.port}/api/boards/old/versions/1/export.json")
            return json.loads(response.body), server.registry.versions.checked.checks_total
        finally:
            await server.stop()

    exported, checks = asyncio.run(export_once())
    assert [e["id"] for e in exported["elements"]] == ["r1"] and checks == 1
    marks = asyncio.run(_checked_marks(url))
    assert marks[0] is not None and len(marks[0]) > 32
    assert asyncio.run(export_once()) == (exported, 0)  # after a restart: the mark vouches
    asyncio.run(_run_alembic(url, "downgrade", PREVIOUS))
    assert asyncio.run(_version_rows(url)) == before
    with pytest.raises(Exception, match="checked"):
        asyncio.run(_checked_marks(url))


async def _insert_previous_release_rows(url: str, row: dict) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(boards).values(
                id=row["board_id"], created_at=row["created_at"], updated_at=row["created_at"],
                update_count=0, log_updates=0, log_bytes=0, token_generation=0))
            await conn.execute(insert(versions).values(**row))  # no "checked": 0008's columns
    finally:
        await engine.dispose()


async def _version_rows(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(
                "SELECT id, board_id, created_at, kind, label, elements, authors, checkpoint, "
                "chain, chain_bytes, base_bytes, state_vector, data FROM board_versions "
                "ORDER BY id"))).all()]
    finally:
        await engine.dispose()


async def _checked_marks(url: str) -> list[bytes | None]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return [None if r[0] is None else bytes(r[0]) for r in (await conn.execute(
                text("SELECT checked FROM board_versions ORDER BY id"))).all()]
    finally:
        await engine.dispose()


async def _check_upgraded_server(url: str, tmp_path: Path) -> None:
    """Start a server (default migrate mode) on ``url``, check the stored data against the
    expected file, and every token over HTTP."""
    server = SyncboardServer(Settings(
        db=url, port=0, auth="token", secret=EXPECTED["secret"], data_dir=str(tmp_path),
        log_level="WARNING"))
    await server.start()
    try:
        assert server.store is not None
        assert await stored_everything(server.store) == expected_everything()
        client = AsyncHTTPClient()
        for board_id, board in EXPECTED["boards"].items():
            export = f"http://127.0.0.1:{server.port}/api/boards/{board_id}/export.json"
            for role in ("edit", "view"):
                response = await client.fetch(
                    export, headers={"Authorization": f"Bearer {board['tokens'][role]}"})
                assert json.loads(response.body) == current_form(board["export"])
            for revoked in board["tokens"]["revoked"]:
                with pytest.raises(HTTPClientError) as refused:
                    await client.fetch(export, headers={"Authorization": f"Bearer {revoked}"})
                assert refused.value.code == 403
    finally:
        await server.stop()


async def _check_store(url: str, revision: str,
                       version_locations: list[str] | None = None) -> None:
    """The database is at ``revision`` (looked at, not changed) and holds everything the
    pre-Alembic code wrote."""
    engine = make_engine(url)
    store = Store(engine)
    try:
        status = await schema_status(engine, version_locations or [])
        assert status.known and status.revision == revision
        assert await stored_everything(store) == expected_everything()
    finally:
        await store.close()


async def _store_long_name(url: str, migrate: str) -> None:
    """Open the store (``migrate`` mode), write and read back a board named ``LONG_NAME``."""
    store = await open_store(url, migrate)
    try:
        doc = Doc()
        doc.get("elements", type=Map)["e"] = Map({"type": "rect", "x": 1})
        await store.create_board(LONG_NAME)
        await store.append_updates({LONG_NAME: [doc.get_update()]})
        assert [info.board_id for info in await store.list_boards()].count(LONG_NAME) == 1
        assert await store.load_updates(LONG_NAME) == [doc.get_update()]
        await store.compact(LONG_NAME)
        assert len(await store.load_updates(LONG_NAME)) == 1  # the snapshot
    finally:
        await store.close()


async def _revision_of(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return (await schema_status(engine)).revision
    finally:
        await engine.dispose()


async def _delete_board(url: str, board_id: str) -> None:
    store = await open_store(url, "refuse")
    try:
        assert await store.delete_board(board_id)
    finally:
        await store.close()


def _outside_search_index(name, type_, _parent) -> bool:
    return not (type_ == "table" and is_search_table(name))


async def _compare_with_schema_py(url: str) -> list:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            # The full-text index is dialect-specific and made by its revision, not by
            # schema.py (backend/store/search.py).
            return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(
                sync, opts={"include_name": _outside_search_index}), metadata))
    finally:
        await engine.dispose()


async def _run_alembic(url: str, action: str, target: str) -> None:
    """Run an Alembic command the way the server does (in the schema lock's transaction)."""
    engine = make_engine(url)
    try:
        async with _schema_lock(engine) as conn:
            await conn.run_sync(_alembic, action, target, ())
    finally:
        await engine.dispose()


def _migrate_command(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend", "migrate", "--db", url, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def _pg_id_lengths(database: str) -> set[str]:
    """The declared lengths of the three board-id columns."""
    return set(psql(
        "SELECT character_maximum_length FROM information_schema.columns WHERE "
        "(table_name, column_name) IN (('boards', 'id'), ('board_updates', 'board_id'), "
        "('board_snapshots', 'board_id'))", database).split())


async def _open_and_close(url: str, migrate: str = "default") -> None:
    store = await open_store(url, migrate)
    await store.close()


async def _execute(url: str, sql: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _dump(url: str) -> list:
    """Every row of every table, for an is-it-untouched comparison."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = ["alembic_version", *sorted(metadata.tables)]
            return [(t, sorted(map(tuple, (await conn.execute(text(f"SELECT * FROM {t}"))).all())))
                    for t in tables]
    finally:
        await engine.dispose()


def _sqlite_revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def _sqlite_table_sql(path: Path, table: str) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (table,)).fetchone()[0]


def _sqlite_sequence(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'board_updates'"
                            ).fetchone()[0]


def _sqlite_columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _sqlite_schema(path: Path) -> list[tuple]:
    # immutable: reading the committed fixture must not leave -wal/-shm files beside it.
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name "
                            "NOT LIKE '%alembic%' ORDER BY name").fetchall()
