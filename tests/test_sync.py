"""Sync behaviour over real sockets: convergence, relay with echo, late joiners, offline edits."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Array, Doc, Map, create_sync_message, handle_sync_message

from backend.protocol import MessageType, SyncType
from tests.yclient import YClient, awareness_entries, state_vector


@pytest.mark.gen_test(timeout=30)
async def test_two_clients_converge(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "test_two_clients_converge")
    bob = await yclient(server, "test_two_clients_converge")
    await alice.put("a", {"type": "rect", "x": 1})
    await bob.put("b", {"type": "ellipse", "x": 2})
    for client in (alice, bob):
        await client.wait_for(lambda c=client: set(c.snapshot()) == {"a", "b"}, what="both keys")
    assert alice.snapshot() == bob.snapshot()
    assert state_vector(alice.doc) == state_vector(bob.doc)


@pytest.mark.gen_test(timeout=30)
async def test_server_sends_step1_on_connect_and_answers_step1_with_only_missing(
        sb_server, yclient):
    server = await sb_server()
    writer = await yclient(server, "test_step1")
    await writer.put("old", 1)
    await writer.wait_for(lambda: state_vector(server.registry.rooms["test_step1"].document.doc)
                          == state_vector(writer.doc), what="server has the update")
    # A client that already holds everything gets an empty step 2 back.
    late = YClient(writer.url, doc=Doc())
    late.doc.apply_update(writer.doc.get_update())
    await late.sync()
    try:
        first = late.frames[0]
        assert first[:2] == bytes([MessageType.SYNC, SyncType.STEP1])
        step2 = next(f for f in late.frames if f[:2] == bytes([MessageType.SYNC, SyncType.STEP2]))
        assert step2[2:] == b"\x02\x00\x00"  # length 2, the empty update
    finally:
        late.close()


@pytest.mark.gen_test(timeout=30)
async def test_update_is_relayed_to_everyone_including_the_sender(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "test_echo")
    bob = await yclient(server, "test_echo")
    before_a, before_b = len(alice.frames), len(bob.frames)
    await alice.put("k", "v")
    is_update = lambda f: f[:2] == bytes([MessageType.SYNC, SyncType.UPDATE])  # noqa: E731
    await alice.wait_for(lambda: any(is_update(f) for f in alice.frames[before_a:]),
                         what="echo to the sender")
    await bob.wait_for(lambda: any(is_update(f) for f in bob.frames[before_b:]),
                       what="relay to the other peer")
    assert bob.snapshot() == {"k": "v"}


@pytest.mark.gen_test(timeout=30)
async def test_late_joiner_gets_the_board_after_everyone_left_and_it_was_unloaded(
        sb_server, yclient):
    server = await sb_server(idle_unload_s=0.2)
    alice = await yclient(server, "test_late_joiner")
    for i in range(20):
        await alice.put(f"e{i}", {"i": i})
    expected = alice.snapshot()
    alice.close()
    await alice.wait_for(lambda: "test_late_joiner" not in server.registry.rooms, timeout_s=10,
                         what="idle unload")
    late = await yclient(server, "test_late_joiner")
    assert late.snapshot() == expected
    assert server.registry.loads_total == 2


@pytest.mark.gen_test(timeout=30)
async def test_step2_from_client_is_treated_as_an_update_offline_edits_merge_without_duplicates(
        sb_server, yclient):
    server = await sb_server()
    board = "test_offline"
    alice = await yclient(server, board)
    bob = await yclient(server, board)
    await alice.append("strokes", "first")
    await bob.wait_for(lambda: len(bob.doc.get("strokes", type=Array)) == 1, what="first")
    alice.close()
    await alice.wait_closed()
    # Offline: alice edits locally only; bob keeps editing online.
    alice.doc.get("strokes", type=Array).append("offline-1")
    alice.doc.get("strokes", type=Array).append("offline-2")
    await bob.append("strokes", "online")
    # Reconnecting sends alice's offline edits in her step 2 answer to the server's step 1.
    await alice.sync()
    for client in (alice, bob):
        await client.wait_for(lambda c=client: len(c.doc.get("strokes", type=Array)) == 4,
                              what="4 strokes")
    strokes = sorted(bob.doc.get("strokes", type=Array).to_py())
    assert strokes == ["first", "offline-1", "offline-2", "online"]
    assert sorted(alice.doc.get("strokes", type=Array).to_py()) == strokes
    # Nothing arrives twice later: markers sent after everything are seen after it.
    await alice.put("marker-a", 1)
    await bob.put("marker-b", 1)
    for client in (alice, bob):
        await client.wait_for(lambda c=client: {"marker-a", "marker-b"} <= set(c.snapshot()),
                              what="both markers")
        assert len(client.doc.get("strokes", type=Array)) == 4


@pytest.mark.gen_test(timeout=60)
async def test_two_hundred_simultaneous_joins_load_the_board_once(sb_server, yclient):
    server = await sb_server(idle_unload_s=0.1)
    board = "test_storm"
    seed = await yclient(server, board)
    await seed.put("seed", 1)
    seed.close()
    await seed.wait_closed()
    await seed.wait_for(lambda: board not in server.registry.rooms, what="idle unload")
    loads_before = server.registry.loads_total
    clients = [YClient(f"ws://127.0.0.1:{server.port}/ws/{board}") for _ in range(200)]
    try:
        await asyncio.gather(*(c.sync(timeout_s=30) for c in clients))
        assert server.registry.loads_total == loads_before + 1
        assert all(c.snapshot() == {"seed": 1} for c in clients)
    finally:
        for c in clients:
            c.close()


@pytest.mark.gen_test(timeout=30)
async def test_query_awareness_and_step1_reply_use_the_same_document(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "test_query")
    bob = await yclient(server, "test_query")
    await alice.put("x", 1)
    await alice.set_presence(1001, 4, {"name": "Alice"})
    await bob.wait_for(lambda: 1001 in bob.present(), what="alice's presence")
    # A second step 1 is answered with a step 2 holding what the asker lacks.
    doc = Doc()
    before = len(bob.frames)
    await bob.send(create_sync_message(doc))
    await bob.wait_for(lambda: any(f[:2] == b"\x00\x01" for f in bob.frames[before:]),
                       what="second step 2")
    step2 = next(f for f in bob.frames[before:] if f[:2] == b"\x00\x01")
    handle_sync_message(step2[1:], doc)
    assert doc.get("elements", type=Map).to_py() == {"x": 1}
    # Query-awareness is answered with every known state, to the asker only.
    before_bob, before_alice = len(bob.frames), len(alice.frames)
    await bob.send(bytes([MessageType.QUERY_AWARENESS]))
    await bob.wait_for(lambda: any(f[0] == MessageType.AWARENESS for f in bob.frames[before_bob:]),
                       what="the awareness reply")
    reply = next(f for f in bob.frames[before_bob:] if f[0] == MessageType.AWARENESS)
    assert awareness_entries(reply) == [(1001, 4, {"name": "Alice"})]
    await alice.put("marker", 1)  # relayed after any awareness frame the query could cause
    await alice.wait_for(lambda: "marker" in alice.snapshot(), what="the marker echo")
    assert not any(f[0] == MessageType.AWARENESS for f in alice.frames[before_alice:])


@pytest.mark.gen_test(timeout=30)
async def test_relay_tick_merges_a_burst_into_one_frame_per_peer(sb_server, yclient):
    tick_s = 0.2
    server = await sb_server(relay_delay_ms=tick_s * 1000)
    alice = await yclient(server, "tick")
    bob = await yclient(server, "tick")
    before = len(bob.frames)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(10):
        await alice.put(f"k{i}", i)
    await bob.wait_for(lambda: len(bob.snapshot()) == 10, what="all ten")
    elapsed_s = loop.time() - started
    updates = [f for f in bob.frames[before:] if f[:2] == bytes([MessageType.SYNC,
                                                                  SyncType.UPDATE])]
    # At most one frame per tick that can have ended while the burst was on its way, however
    # slow the machine: a loaded machine stretches the burst, never merges less per tick.
    ticks = int(elapsed_s / tick_s) + 1
    assert len(updates) <= ticks, f"{len(updates)} frames in {elapsed_s:.2f} s"
