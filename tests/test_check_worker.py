"""The pre-check worker (``backend/check_worker.py``) through a real in-process server: big
updates are checked there while the board keeps its order, another board goes on, the queue
bound closes with 1013, and the worker refuses with the close the event loop's check gives.

The threshold is lowered to 2 KiB so that small hand-made updates take the worker's path, and
the worker is held still with SIGSTOP where a test needs a check to stay in flight."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from pycrdt import Doc, Map, create_sync_message, create_update_message, handle_sync_message
from tornado.websocket import websocket_connect

from backend.check_worker import merge_runs
from backend.protocol import CloseCode, MessageType
from backend.update_check import TypeDepths, check_update
from tests.offline_session import offline_session
from tests.worker_processes import NewChildren
from tests.yjs_updates import (
    Y_XML_HOOK,
    Update,
    any_item,
    any_string,
    deep_any_update,
    string_item,
    type_item,
)

THRESHOLD = 2048
BIG = "b" * 4000  # an update carrying it is over THRESHOLD


def _one_worker(new_children: NewChildren) -> int:
    """The pre-check worker: the one spawn child started during the test (a worker an earlier
    test of the same pytest process left may not be gone yet)."""
    pids = new_children()
    assert len(pids) == 1, pids
    return pids.pop()


def _replay(frames: list[bytes], doc: Doc, invariant) -> None:
    """Apply the sync frames one at a time, checking ``invariant(elements)`` after each."""
    for frame in frames:
        if frame[0] == MessageType.SYNC:
            handle_sync_message(frame[1:], doc)
            assert invariant(doc.get("elements", type=Map)), frame[:40]


@pytest.mark.gen_test(timeout=120)
async def test_what_comes_behind_a_big_update_waits_for_it_while_other_boards_go_on(
        sb_server, yclient, new_children):
    server = await sb_server(precheck_worker_bytes=THRESHOLD, precheck_queue_jobs=0)
    alice, bob = await yclient(server, "turns"), await yclient(server, "turns")
    other_a, other_b = await yclient(server, "turns_other"), await yclient(server, "turns_other")
    await alice.put("warm", BIG)  # starts the worker
    await bob.wait_for(lambda: bob.elements.get("warm") == BIG, 120, "the first big update")
    seen = len(bob.frames)
    worker = _one_worker(new_children)
    os.kill(worker, signal.SIGSTOP)  # the next check cannot end: what follows must wait
    try:
        await alice.put("big", BIG)
        await alice.put("after", 1)  # queued behind "big", in the socket
        await other_a.put("edit", 1)  # another board is not held up
        await other_b.wait_for(lambda: other_b.elements.get("edit") == 1, 10, "other board")
        late = await yclient(server, "turns_busy")
        await late.put("big", BIG)  # the worker runs one and may queue none: refused
        assert await late.wait_closed() == CloseCode.WS_1013_TRY_AGAIN_LATER
        assert "retry shortly" in late.close_reason
        assert "big" not in bob.elements and "after" not in bob.elements
        joiner = await yclient(server, "turns", sync=False)  # its step 1 waits behind "big"
        meanwhile = Doc()
        meanwhile.apply_update(await server.registry.snapshot("turns"))  # an export's read
        assert "warm" in meanwhile.get("elements", type=Map)
        assert "big" not in meanwhile.get("elements", type=Map)  # the board before it
    finally:
        os.kill(worker, signal.SIGCONT)
    await bob.wait_for(lambda: bob.elements.get("after") == 1, 30, "the update behind it")
    assert bob.elements.get("big") == BIG
    await joiner.wait_for(joiner.synced.is_set, 30, "the joiner's step 2")
    step2 = Doc()
    _replay([next(f for f in joiner.frames if f[:2] == b"\x00\x01")], step2, lambda e: True)
    assert step2.get("elements", type=Map).get("big") == BIG  # the board with all of it
    await joiner.wait_for(lambda: joiner.elements.get("after") == 1, 30, "what came after")
    doc = Doc()
    _replay(bob.frames[:seen], doc, lambda elements: True)
    _replay(bob.frames[seen:], doc, lambda elements: "after" not in elements or "big" in elements)
    assert not alice.closed.is_set()
    assert server.registry.checker.refused_total == 1


def _xml_hook_update() -> bytes:
    """A Y.XmlHook holding {k: "v"} (as ``test_update_shape.YJS_XML_HOOK``), padded past
    ``THRESHOLD`` with text of another client."""
    hook = [type_item(Y_XML_HOOK, "myhook", parent="x"),
            any_item([any_string("v")], parent=(444, 0), parent_sub="k")]
    padding = [string_item("p" * 100, parent="pad") for _ in range(25)]
    return Update().add(444, 0, hook).add(7, 0, padding).encode()


@pytest.mark.gen_test(timeout=120)
async def test_a_big_update_is_refused_as_the_event_loop_refuses_it(sb_server, yclient):
    update = deep_any_update(2000)
    assert len(update) > THRESHOLD
    closes = []
    for threshold in (0, THRESHOLD):  # checked on the event loop, then in the worker
        server = await sb_server(precheck_worker_bytes=threshold)
        peer, watcher = await yclient(server, "refused"), await yclient(server, "refused")
        await peer.send(create_update_message(update))
        closes.append((await peer.wait_closed(120), peer.close_reason))  # spawns the worker
        await watcher.put("still", 1)  # the board is usable and holds nothing of it
        await watcher.wait_for(lambda w=watcher: w.elements.get("still") == 1)
        assert "x" not in watcher.elements
        assert server.registry.checker.jobs_total == (1 if threshold else 0)
    assert closes[0] == closes[1]
    assert closes[0][0] == CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA


@pytest.mark.gen_test(timeout=120)
async def test_a_big_update_holding_an_xml_hook_is_checked_in_the_worker_and_kept(sb_server):
    update = _xml_hook_update()
    assert len(update) > THRESHOLD
    server = await sb_server(precheck_worker_bytes=THRESHOLD)
    # a bare socket: a pycrdt client could not read the hook relayed back (pycrdt misreads
    # hooks), and its read loop's error would be logged from a garbage-collected task
    ws = await websocket_connect(f"ws://127.0.0.1:{server.port}/ws/hooked")
    await ws.write_message(create_sync_message(Doc()), binary=True)
    await ws.write_message(create_update_message(update), binary=True)
    for _ in range(1200):  # bounded: 120 s
        room = server.registry.rooms.get("hooked")
        if room is not None and room.document.hooks.names:
            break
        await asyncio.sleep(0.1)
    assert list(room.document.hooks.names.values()) == [b"\x06myhook"]
    assert server.registry.checker.jobs_total == 1
    assert ws.close_code is None and len(room.peers) == 1
    assert b"myhook" in room.document.full_update(for_clients=True)
    ws.close()


def test_merged_runs_give_the_board_the_same_depths():
    update = offline_session(40).get_update()
    summary = check_update(update)
    merged = merge_runs(summary.runs)
    assert len(merged) < len(summary.runs) / 5
    one, other = TypeDepths(), TypeDepths()
    one.record(summary)
    summary.runs = merged
    other.record(summary)
    client, (first, end) = next(iter(summary.clocks.items()))
    assert [one.parent_depth(client, c) for c in range(first, end)] == \
        [other.parent_depth(client, c) for c in range(first, end)]
    assert one.run_count == other.run_count
