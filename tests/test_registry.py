"""Board loading and unloading: once per board, idle unload really frees memory."""

from __future__ import annotations

import asyncio
import gc

import psutil
import pytest
from pycrdt import Doc, Map, Text


def big_update(size_bytes: int) -> bytes:
    doc = Doc()
    doc.get("elements", type=Map)["note"] = Text("x" * size_bytes)
    return doc.get_update()


@pytest.mark.gen_test(timeout=120)
async def test_load_unload_cycles_do_not_grow_memory(sb_server):
    server = await sb_server(idle_unload_s=0)
    registry = server.registry
    await server.store.append_updates({"memory": [big_update(2_000_000)]})

    async def cycle() -> None:
        room = await registry.acquire("memory")
        assert len(str(room.document.doc.get("elements", type=Map)["note"])) == 2_000_000
        registry.release_if_idle(room)
        for _ in range(200):
            if "memory" not in registry.rooms:
                return
            await asyncio.sleep(0.005)
        raise AssertionError("board was not unloaded")

    process = psutil.Process()
    for _ in range(10):  # warm up allocator pools
        await cycle()
    gc.collect()
    baseline = process.memory_info().rss
    cycles = 60
    for _ in range(cycles):
        await cycle()
    gc.collect()
    growth = process.memory_info().rss - baseline
    # A leaked board would cost >= 2 MB each, 120 MB over the loop.
    assert growth < 25 * 1024 * 1024, f"RSS grew {growth / 1e6:.1f} MB over {cycles} cycles"
    assert registry.unloads_total >= cycles


@pytest.mark.gen_test(timeout=30)
async def test_join_during_idle_countdown_keeps_the_room(sb_server, yclient):
    server = await sb_server(idle_unload_s=3600)  # the countdown never ends by itself here
    alice = await yclient(server, "keep")
    await alice.put("a", 1)
    room = server.registry.rooms["keep"]
    alice.close()
    await alice.wait_closed()
    await alice.wait_for(lambda: room.unload_task is not None, what="the idle countdown")
    countdown = room.unload_task
    bob = await yclient(server, "keep")
    await bob.wait_for(countdown.done, what="the countdown cancelled")
    assert countdown.cancelled() and room.unload_task is None
    assert server.registry.rooms["keep"] is room
    assert bob.snapshot() == {"a": 1}
    assert server.registry.loads_total == 1
    bob.close()
    await bob.wait_closed()
    await bob.wait_for(lambda: room.unload_task is not None, what="a new countdown")


@pytest.mark.gen_test(timeout=30)
async def test_unloaded_board_was_flushed_first(sb_server, yclient):
    server = await sb_server(idle_unload_s=0.1, flush_delay_ms=100)
    alice = await yclient(server, "flushed")
    await alice.put("a", 1)
    alice.close()
    await alice.wait_closed()
    for _ in range(200):
        if "flushed" not in server.registry.rooms:
            break
        await asyncio.sleep(0.01)
    assert "flushed" not in server.registry.rooms
    assert server.writer.pending_updates == 0
    assert len(await server.store.load_updates("flushed")) == 1


@pytest.mark.gen_test(timeout=60)
async def test_boards_asked_for_together_are_read_with_a_few_statements(sb_server):
    """A cold start (200 new boards opened at once) shares reads: 2 SELECTs per 100 boards,
    not 2 per board; boards with stored updates (a snapshot and a log) get exactly theirs."""
    from sqlalchemy import event

    server = await sb_server()
    await server.store.append_updates({"stored-a": [big_update(10)], "stored-b": [
        big_update(20), big_update(30)]})
    await server.store.compact("stored-b")
    await server.store.append_updates({"stored-b": [big_update(40)]})
    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    engine = server.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        names = [f"cold-{i}" for i in range(198)] + ["stored-a", "stored-b"]
        rooms = await asyncio.gather(*(server.registry.acquire(name) for name in names))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [room.board_id for room in rooms] == names
    assert len(selects) <= 4 * 2, selects  # 200 boards, at most 100 per read, a spare read
    for room in rooms[-2:]:
        expected = Doc()
        for update in await server.store.load_updates(room.board_id):
            expected.apply_update(update)
        assert room.document.doc.get_state() == expected.get_state()
        assert room.document.doc.get("elements", type=Map).to_py() == \
            expected.get("elements", type=Map).to_py()
    assert rooms[-1].document.doc.get_state() != Doc().get_state()
    assert server.registry.loads_total == 200


def _pending_unloads() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks()
            if not task.done() and "_unload_when_idle" in repr(task.get_coro())]


@pytest.mark.gen_test(timeout=30)
async def test_shutdown_leaves_no_idle_unload_pending(sb_server, yclient):
    server = await sb_server(idle_unload_s=3600)
    clients = [await yclient(server, board) for board in ("stop-a", "stop-b", "stop-c")]
    clients[0].close()  # one board already counting down when the server stops
    await clients[0].wait_closed()
    await clients[0].wait_for(lambda: len(_pending_unloads()) == 1, what="one countdown")
    await server.stop()
    for client in clients[1:]:
        await client.wait_closed()  # the peers closed by the shutdown have left
    # Their leaving must not start countdowns that nothing cancels ("Task was destroyed but
    # it is pending!" at exit); give any late callback a few loop turns to show itself.
    for _ in range(10):
        await asyncio.sleep(0)
    assert _pending_unloads() == []
