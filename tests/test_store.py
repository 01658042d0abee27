"""Store and writer against real databases: SQLite always, PostgreSQL when one is reachable."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pycrdt import Doc, Map
from sqlalchemy.exc import OperationalError

from backend.store import StoreError, UpdateWriter, open_store
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
        assert rebuilt_state(await store.load_updates("b"))["late"] == 1
        assert (await store.compact("b")).merged_updates == 0
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_updates_appended_during_a_compaction_are_kept(db_url):
    store = await open_store(db_url)
    try:
        doc, updates = make_updates(40)
        await store.append_updates({"b": updates[:30]})
        compaction = asyncio.ensure_future(store.compact("b"))
        for update in updates[30:]:
            await store.append_updates({"b": [update]})
        await compaction
        assert rebuilt_state(await store.load_updates("b")) == \
            doc.get("elements", type=Map).to_py()
        await store.compact("b")
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


def test_operational_error_is_what_the_writer_retries():
    # The writer catches SQLAlchemyError; make sure the driver's failures arrive as such.
    from sqlalchemy.exc import SQLAlchemyError
    assert issubclass(OperationalError, SQLAlchemyError)


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
