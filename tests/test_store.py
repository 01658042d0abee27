"""Store and writer against real databases: SQLite always, PostgreSQL when one is reachable."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid

import pytest
from pycrdt import Doc, Map
from sqlalchemy.exc import SQLAlchemyError

from backend.store import StoreError, UpdateWriter, open_store
from backend.store import store as store_module
from backend.store.schema import snapshots as snapshots_table
from backend.store.schema import updates as updates_table
from backend.store.store import merge_updates_into_snapshot
from tests.services import postgres_problem
from tests.yclient import state_vector

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, io_loop):
    """A fresh database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/store.db"
        return
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(problem)
    name = f"syncboard_test_{uuid.uuid4().hex[:12]}"
    io_loop.run_sync(lambda: _admin(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    io_loop.run_sync(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def make_updates(count: int) -> tuple[Doc, list[bytes]]:
    """A document edited ``count`` times, and the update of each edit."""
    doc = Doc()
    elements = doc.get("elements", type=Map)
    updates = []
    for i in range(count):
        before = doc.get_state()
        elements[f"e{i}"] = {"x": i, "label": "é" * (i % 5)}
        if i % 3 == 2:
            del elements[f"e{i - 1}"]
        updates.append(doc.get_update(before))
    return doc, updates


def rebuilt_state(stored: list[bytes]) -> dict:
    doc = Doc()
    for update in stored:
        doc.apply_update(update)
    return doc.get("elements", type=Map).to_py()


@pytest.mark.gen_test(timeout=60)
async def test_append_load_and_board_info(db_url):
    store = await open_store(db_url)
    try:
        doc, updates = make_updates(30)
        await store.append_updates({"board-a": updates[:10]})
        sizes = await store.append_updates({"board-a": updates[10:], "board-b": updates[:1]})
        assert sizes["board-a"].updates == 30
        assert sizes["board-a"].bytes == sum(map(len, updates))
        assert rebuilt_state(await store.load_updates("board-a")) == \
            doc.get("elements", type=Map).to_py()
        info = await store.board_info("board-a")
        assert info.update_count == 30 and info.stored_bytes == sum(map(len, updates))
        assert await store.board_info("missing") is None
        assert await store.load_updates("missing") == []
        assert {b.board_id for b in await store.list_boards()} == {"board-a", "board-b"}
        await store.create_board("board-a")  # idempotent
        await store.create_board("board-c")
        assert (await store.board_info("board-c")).update_count == 0
        assert await store.delete_board("board-b") is True
        assert await store.load_updates("board-b") == []
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_compaction_keeps_the_state_vector_and_drops_the_log(db_url):
    store = await open_store(db_url)
    try:
        doc, updates = make_updates(50)
        await store.append_updates({"b": updates})
        result = await store.compact("b")
        assert result.merged_updates == 50
        stored = await store.load_updates("b")
        assert len(stored) == 1  # only the snapshot
        rebuilt = Doc()
        rebuilt.apply_update(stored[0])
        assert state_vector(rebuilt) == state_vector(doc)
        info = await store.board_info("b")
        assert info.update_count == 50 and info.stored_bytes == len(stored[0])
        # More updates after a compaction, then compact again: still everything.
        more_doc = Doc()
        more_doc.apply_update(doc.get_update())
        before = more_doc.get_state()
        more_doc.get("elements", type=Map)["late"] = 1
        await store.append_updates({"b": [more_doc.get_update(before)]})
        assert (await store.compact("b")).merged_updates == 1
        stored = await store.load_updates("b")
        assert len(stored) == 1
        assert rebuilt_state(stored) == more_doc.get("elements", type=Map).to_py()
        rebuilt = Doc()
        rebuilt.apply_update(stored[0])
        assert state_vector(rebuilt) == state_vector(more_doc)
        assert (await store.compact("b")).merged_updates == 0
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_updates_appended_during_a_compaction_are_kept(db_url, monkeypatch):
    store = await open_store(db_url)
    try:
        doc, updates = make_updates(40)
        await store.append_updates({"b": updates[:30]})
        real_merge = store_module.merge_updates_into_snapshot

        def merge_while_another_process_appends(stored):
            # Between the compaction's read of the log and its write: another process (its
            # own engine, in a thread, as a second server would) appends 10 updates.
            thread = threading.Thread(target=asyncio.run,
                                      args=(_append_elsewhere(db_url, "b", updates[30:]),))
            thread.start()
            thread.join(30)
            return real_merge(stored)

        monkeypatch.setattr(store_module, "merge_updates_into_snapshot",
                            merge_while_another_process_appends)
        result = await store.compact("b")
        monkeypatch.undo()
        assert result.merged_updates == 30  # only what it had read
        stored = await store.load_updates("b")
        assert len(stored) == 1 + 10  # the snapshot, and the rows appended meanwhile
        assert stored[1:] == updates[30:]
        assert rebuilt_state(stored) == doc.get("elements", type=Map).to_py()
        assert (await store.compact("b")).merged_updates == 10
        assert rebuilt_state(await store.load_updates("b")) == \
            doc.get("elements", type=Map).to_py()
    finally:
        await store.close()


async def _append_elsewhere(url: str, board_id: str, batch: list[bytes]) -> None:
    other = await open_store(url)
    try:
        await other.append_updates({board_id: batch})
    finally:
        await other.close()


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("table, operation", [(updates_table.name, "DELETE"),
                                              (snapshots_table.name, "INSERT")])
async def test_a_compaction_failing_between_its_steps_leaves_the_store_as_it_was(
        db_url, table, operation):
    """Compaction writes the snapshot and deletes the log rows it merged in one transaction:
    a failure at either step (a trigger that raises) leaves exactly the old rows."""
    store = await open_store(db_url)
    try:
        doc, updates = make_updates(20)
        await store.append_updates({"b": updates})
        before = await store.load_updates("b")
        info = await store.board_info("b")
        await _refuse(store, table, operation)
        with pytest.raises(SQLAlchemyError, match="injected failure"):
            await store.compact("b")
        assert await store.load_updates("b") == before  # no snapshot, no row lost
        assert await store.board_info("b") == info
        await _allow(store, table)
        assert (await store.compact("b")).merged_updates == 20
        assert rebuilt_state(await store.load_updates("b")) == \
            doc.get("elements", type=Map).to_py()
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_files_are_stored_once_by_id(db_url):
    store = await open_store(db_url)
    try:
        await store.save_file("abc", "image/png", b"\x89PNG...")
        await store.save_file("abc", "image/png", b"\x89PNG...")
        assert await store.load_file("abc") == ("image/png", b"\x89PNG...")
        assert await store.load_file("nope") is None
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_writer_group_commits_and_compacts_past_the_threshold(db_url):
    store = await open_store(db_url)
    writer = UpdateWriter(store, flush_delay_ms=20, retry_max_s=1, compact_after_updates=10,
                          compact_after_bytes=1 << 30)
    writer.start()
    try:
        _doc, updates = make_updates(25)
        for update in updates:
            writer.append("b", update)
        assert writer.pending_updates == 25
        await writer.flush()
        assert writer.pending_updates == 0
        assert writer.commits == 1  # one group commit for all 25
        for update in make_updates(30)[1][25:]:
            writer.append("b", update)
        await writer.flush()
        for _ in range(100):
            if writer.compactions:
                break
            await asyncio.sleep(0.05)
        assert writer.compactions >= 1
        assert rebuilt_state(await store.load_updates("b")) == \
            make_updates(30)[0].get("elements", type=Map).to_py()
    finally:
        await writer.close()
        await store.close()


@pytest.mark.gen_test(timeout=30)
async def test_bad_database_urls_raise_a_store_error_naming_the_url(tmp_path):
    for url in ("nonsense://x", "sqlite+aiosqlite:////proc/forbidden/x.db"):
        with pytest.raises(StoreError, match="x"):
            await open_store(url)


def test_merge_into_snapshot_drops_deleted_content():
    doc, updates = make_updates(30)
    merged = merge_updates_into_snapshot(updates)
    assert len(merged) < sum(map(len, updates))
    rebuilt = Doc()
    rebuilt.apply_update(merged)
    assert state_vector(rebuilt) == state_vector(doc)


@pytest.mark.gen_test(timeout=60)
async def test_writer_retries_a_batch_the_database_refuses_until_it_is_accepted(
        db_url, caplog):
    """No root needed: a trigger makes the database refuse every append (as a full disk or a
    lock would); the batch stays pending, each retry is logged, and it lands once allowed."""
    store = await open_store(db_url)
    writer = UpdateWriter(store, flush_delay_ms=10, retry_max_s=0.1, compact_after_updates=1000,
                          compact_after_bytes=10**9)
    writer.start()
    try:
        doc, updates = make_updates(12)
        writer.append("b", updates[0])
        await writer.flush()
        await _refuse(store, updates_table.name, "INSERT")
        for update in updates[1:6]:
            writer.append("b", update)
        await _wait(lambda: _retries_logged(caplog) >= 3, "three failed commits")
        assert writer.degraded and "injected failure" in writer.last_error
        assert writer.pending_updates == 5  # nothing dropped
        for update in updates[6:]:  # edits go on arriving while the database refuses
            writer.append("b", update)
        assert len(await store.load_updates("b")) == 1
        await _allow(store, updates_table.name)
        await asyncio.wait_for(writer.flush(), 30)
        assert not writer.degraded and writer.pending_updates == 0
        assert await store.load_updates("b") == updates  # each once, in order
        assert rebuilt_state(updates) == doc.get("elements", type=Map).to_py()
    finally:
        await writer.close()
        await store.close()


def _retries_logged(caplog) -> int:
    return sum("database write of" in r.getMessage() and r.levelname == "ERROR"
               for r in caplog.records)


async def _wait(predicate, what: str, timeout_s: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def _refuse(store, table: str, operation: str) -> None:
    """A trigger that makes every ``operation`` on ``table`` fail ("injected failure")."""
    if store.dialect == "postgresql":
        statements = [
            "CREATE OR REPLACE FUNCTION syncboard_test_refuse() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            f"CREATE TRIGGER refuse_{table} BEFORE {operation} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION syncboard_test_refuse()"]
    else:
        statements = [f"CREATE TRIGGER refuse_{table} BEFORE {operation} ON {table} "
                      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]
    async with store.engine.connect() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)
        await conn.commit()


async def _allow(store, table: str) -> None:
    on_table = f" ON {table}" if store.dialect == "postgresql" else ""
    async with store.engine.connect() as conn:
        await conn.exec_driver_sql(f"DROP TRIGGER refuse_{table}{on_table}")
        await conn.commit()


@pytest.mark.gen_test(timeout=30)
async def test_every_pooled_sqlite_connection_commits_with_synchronous_full(tmp_path):
    """synchronous=FULL (fsync at every commit) is what makes a commit survive a power cut;
    a kill -9 does not show its absence (the OS keeps the page cache), so check each of the
    pool's connections, all held at once so that none is handed out twice."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/pragmas.db")
    try:
        size = store.engine.pool.size()
        assert size >= 1
        async with contextlib.AsyncExitStack() as stack:
            conns = [await stack.enter_async_context(store.engine.connect())
                     for _ in range(size)]
            for conn in conns:
                pragmas = {name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                           for name in ("synchronous", "journal_mode", "busy_timeout",
                                        "foreign_keys")}
                assert pragmas == {"synchronous": 2, "journal_mode": "wal",
                                   "busy_timeout": 10000, "foreign_keys": 1}  # 2 = FULL
                await conn.rollback()
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_writer_creates_rows_of_new_boards_with_the_group_commit(db_url):
    store = await open_store(db_url)
    writer = UpdateWriter(store, flush_delay_ms=20, retry_max_s=1, compact_after_updates=1000,
                          compact_after_bytes=10**9)
    writer.start()
    try:
        for i in range(50):
            writer.ensure_board(f"new-{i}")
        writer.ensure_board("new-0")  # twice: one row
        await store.create_board("existing")
        writer.ensure_board("existing")
        assert writer.pending_updates == 51
        await writer.flush()
        assert writer.pending_updates == 0
        ids = {info.board_id for info in await store.list_boards()}
        assert ids == {f"new-{i}" for i in range(50)} | {"existing"}
        assert (await store.board_info("new-7")).update_count == 0
    finally:
        await writer.close()
        await store.close()
