"""Interop: the unmodified JS y-websocket provider (under Node) against a syncboard process.

The tests run against real ``python -m backend`` subprocesses, with one Node process per
simulated browser tab, so a tab can be killed without a goodbye frame. Boards are named after
the test, so the tests that take ``server`` share one process (``shared_server``: none restarts
it or reads its totals); a test needing other options starts its own with ``server_process``.
Tests taking the ``y_websocket`` fixture run once per release (1.5, 2.1, 3.1); the others use
3.1.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.protocol import MessageType, parse_frame, read_var_uint
from tests.yclient import YClient

# Awareness removal must reach the other tabs well before the 30 s awareness timeout.
PRESENCE_REMOVAL_LIMIT_S = 2.0
# The v3 client drops a socket that received nothing for 30 s; watch a lone client longer,
# in the client's time: its clock runs IDLE_TIME_SCALE times faster (fast_clock.mjs), so the
# watch takes 35 / 5 = 7 real seconds and its 15 s awareness renewals come every 3 s.
IDLE_WATCH_S = 35.0
IDLE_TIME_SCALE = 5
# With 1 s pings and a 1 s pong timeout a frozen tab is dead after at most 2 s; allow 1.5 s more.
FROZEN_DROP_LIMIT_S = 3.5
# A small frame limit, and how long to watch a client whose edit is over it.
OVERSIZED_LIMIT_BYTES = 100_000
OVERSIZED_WATCH_S = 5.0


def _awareness_client_ids(frame: bytes) -> list[int]:
    """Client ids in one awareness frame (empty for any other frame)."""
    parsed = parse_frame(frame)
    if parsed.message_type != MessageType.AWARENESS:
        return []
    payload = parsed.payload
    count, pos = read_var_uint(payload, 0)
    client_ids = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        _clock, pos = read_var_uint(payload, pos)
        length, pos = read_var_uint(payload, pos)
        pos += length
        client_ids.append(client_id)
    return client_ids


@pytest.fixture
def server(shared_server):
    """The module's one server process (each test on its own board)."""
    return shared_server


@pytest.mark.gen_test(timeout=60)
async def test_two_js_providers_converge_both_ways(server, node_client, board, y_websocket):
    a, b = await node_client(y_websocket), await node_client(y_websocket)
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)

    await a.call("set", key="rect-1", value={"type": "rect", "x": 10, "y": 20})
    await b.wait_for(lambda s: "rect-1" in s["maps"]["elements"], what="B sees A's rect")
    await b.call("set", key="line-1", value={"type": "line", "points": [0, 0, 5, 5]})
    await b.call("delete", key="rect-1")

    expected = {"line-1": {"type": "line", "points": [0, 0, 5, 5]}}
    state_a = await a.wait_for(lambda s: s["maps"]["elements"] == expected,
                               what="A sees B's line and delete")
    state_b = await b.dump()
    assert state_b["maps"] == state_a["maps"] == {"elements": expected}


@pytest.mark.gen_test(timeout=60)
async def test_js_provider_and_pycrdt_peer_converge(server, node_client, board):
    js = await node_client()
    await js.connect_synced(server.ws_url, board)
    await js.call("set", key="from-js", value={"n": 1, "tags": ["a", "b"]})

    py = await YClient(f"{server.ws_url}/{board}").sync()
    try:
        await py.wait_for(lambda: "from-js" in py.snapshot(), what="pycrdt peer sees JS edit")
        await py.put("from-py", {"n": 2, "nested": {"ok": True}})
        expected = {"from-js": {"n": 1, "tags": ["a", "b"]},
                    "from-py": {"n": 2, "nested": {"ok": True}}}
        await js.wait_for(lambda s: s["maps"]["elements"] == expected,
                          what="JS provider sees pycrdt edit")
        assert py.snapshot() == expected
    finally:
        py.close()


@pytest.mark.gen_test(timeout=60)
async def test_presence_appears_and_is_removed_promptly_when_a_tab_dies(
        server, node_client, board, y_websocket):
    a, b = await node_client(y_websocket), await node_client(y_websocket)
    id_a = await a.connect_synced(server.ws_url, board, state={"user": "ann", "cursor": [1, 2]})
    id_b = await b.connect_synced(server.ws_url, board, state={"user": "bob"})

    await b.wait_for(lambda s: s["peers"].get(str(id_a)) == {"user": "ann", "cursor": [1, 2]},
                     what="B sees A's presence")
    await a.wait_for(lambda s: s["peers"].get(str(id_b)) == {"user": "bob"},
                     what="A sees B's presence")
    await a.call("awareness", state={"user": "ann", "cursor": [7, 8]})
    await b.wait_for(lambda s: s["peers"].get(str(id_a)) == {"user": "ann", "cursor": [7, 8]},
                     what="B sees A's cursor move")

    # SIGKILL: the provider sends no awareness removal, only the server can announce it.
    killed_at = time.monotonic()
    a.kill()
    state = await b.wait_for(lambda s: str(id_a) not in s["peers"],
                             timeout_s=PRESENCE_REMOVAL_LIMIT_S,
                             what=f"A's presence removed within {PRESENCE_REMOVAL_LIMIT_S} s")
    removal_s = time.monotonic() - killed_at
    assert removal_s < PRESENCE_REMOVAL_LIMIT_S
    assert state["status"] == "connected"
    assert state["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_presence_echoes_of_stock_clients_are_not_multiplied(server, node_client, board):
    """y-websocket 3.1 re-sends every awareness update it receives; the server must not
    forward those echoes, or each cursor move would cost one frame per tab per tab."""
    tabs = await node_client()
    names = [f"tab-{i}" for i in range(4)]
    ids = {name: await tabs.connect_synced(server.ws_url, board, doc=name, state={"n": name})
           for name in names}
    observer = await YClient(f"{server.ws_url}/{board}").sync()
    try:
        await observer.wait_for(lambda: set(ids.values()) <= set(observer.present()),
                                what="observer sees every tab")
        for name in names:
            await tabs.wait_for(lambda s: len(s["peers"]) == len(names) - 1, doc=name,
                                what=f"{name} sees the other tabs")
        await asyncio.sleep(0.3)
        mark = len(observer.frames)
        moves = 10
        for i in range(moves):
            await tabs.call("awareness", doc="tab-0", state={"n": "tab-0", "cursor": i})
        last = {"n": "tab-0", "cursor": moves - 1}
        await observer.wait_for(lambda: observer.present().get(ids["tab-0"]) == last,
                                what="observer sees the last cursor move")
        await asyncio.sleep(0.5)  # time for any echo of the other tabs to come through
        frames_with_tab0 = [f for f in observer.frames[mark:]
                            if ids["tab-0"] in _awareness_client_ids(f)]
        assert 1 <= len(frames_with_tab0) <= moves + 1, (
            f"{len(frames_with_tab0)} awareness frames carried {moves} moves of one tab")
    finally:
        observer.close()


@pytest.mark.slow
@pytest.mark.gen_test(timeout=IDLE_WATCH_S / IDLE_TIME_SCALE + 30)
async def test_lone_provider_on_empty_board_stays_connected_while_idle(server, node_client, board):
    lone = await node_client(time_scale=IDLE_TIME_SCALE)
    await lone.connect_synced(server.ws_url, board)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + IDLE_WATCH_S / IDLE_TIME_SCALE
    while loop.time() < deadline:
        state = await lone.dump()
        assert state["closes"] == [], f"socket dropped while idle: {state['closes']}"
        assert state["status"] == "connected"
        await asyncio.sleep(0.2)

    # Still the same socket, and it still carries edits to a newcomer.
    await lone.call("set", key="after-idle", value=1)
    newcomer = await node_client()
    await newcomer.connect_synced(server.ws_url, board)
    await newcomer.wait_for(lambda s: s["maps"]["elements"] == {"after-idle": 1},
                            what="newcomer sees the edit made after the idle period")
    assert (await lone.dump())["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_late_joiner_gets_everything_after_the_board_was_unloaded(
        server_process, node_client, board):
    server = server_process(idle_unload_s=0.5)
    a = await node_client()
    await a.connect_synced(server.ws_url, board)
    for i in range(20):
        await a.call("set", key=f"shape-{i}", value={"i": i})
    await a.call("push", array="order", values=[f"shape-{i}" for i in range(20)])
    expected = await a.dump(arrays=["order"])
    await a.quit()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while server.health()["boards_loaded"] != 0:
        assert loop.time() < deadline, f"board never unloaded: {server.health()}"
        await asyncio.sleep(0.1)

    c = await node_client()
    await c.connect_synced(server.ws_url, board)
    state = await c.dump(arrays=["order"])
    assert state["maps"] == expected["maps"]
    assert state["arrays"] == expected["arrays"]
    assert len(state["maps"]["elements"]) == 20


@pytest.mark.gen_test(timeout=60)
async def test_offline_edits_reach_others_after_reconnect_without_duplicates(
        server, node_client, board, y_websocket):
    a, b = await node_client(y_websocket), await node_client(y_websocket)
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("push", array="strokes", values=["online-a"])
    await b.wait_for(lambda s: s["arrays"]["strokes"] == ["online-a"], arrays=["strokes"],
                     what="B sees A's online stroke")

    await a.call("disconnect")
    await a.wait_for(lambda s: s["status"] == "disconnected", what="A offline")
    for i in range(3):
        await a.call("push", array="strokes", values=[f"offline-a-{i}"])
    await a.call("set", key="offline-note", value={"by": "a"})
    await b.call("push", array="strokes", values=["online-b"])

    await a.call("connect_again")
    strokes = {"online-a", "online-b", "offline-a-0", "offline-a-1", "offline-a-2"}

    def merged(state: dict) -> bool:
        return (set(state["arrays"]["strokes"]) == strokes
                and "offline-note" in state["maps"]["elements"])

    state_b = await b.wait_for(merged, arrays=["strokes"], what="B sees A's offline edits")
    state_a = await a.wait_for(merged, arrays=["strokes"], what="A sees B's edit")
    assert len(state_b["arrays"]["strokes"]) == len(strokes)
    assert state_a["arrays"] == state_b["arrays"]

    # A newcomer reads the server's copy: every stroke exactly once there too.
    c = await node_client(y_websocket)
    await c.connect_synced(server.ws_url, board)
    state_c = await c.dump(arrays=["strokes"])
    assert state_c["arrays"] == state_b["arrays"]
    assert state_c["maps"] == state_b["maps"]


@pytest.mark.gen_test(timeout=60)
async def test_concurrent_edits_to_one_note_keep_both_fields_and_both_typings(
        server, node_client, board):
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("put_element", element="note1", fields={
        "type": "sticky", "x": 0, "y": 0, "z": "a0", "text": "middle",
        "points": [0, 0, 10, 10]})
    await b.wait_for(lambda s: "note1" in s["maps"]["elements"], what="B sees the note")

    # A goes offline so both sets of edits are truly concurrent.
    await a.call("disconnect")
    await a.wait_for(lambda s: s["status"] == "disconnected", what="A offline")
    await a.call("edit_element", element="note1", key="x", value=42)
    await a.call("type_text", element="note1", index=6, text=" end")
    await b.call("edit_element", element="note1", key="fill", value="#ffcc00")
    await b.call("type_text", element="note1", index=0, text="start ")
    await a.call("connect_again")

    expected = {"type": "sticky", "x": 42, "y": 0, "z": "a0", "fill": "#ffcc00",
                "text": "start middle end", "points": [0, 0, 10, 10]}
    for client, name in ((a, "A"), (b, "B")):
        await client.wait_for(lambda s: s["maps"]["elements"].get("note1") == expected,
                              what=f"{name} has both fields and both typings")


@pytest.mark.gen_test(timeout=60)
async def test_frozen_tab_is_dropped_by_ping_timeout_and_resyncs_when_thawed(
        server_process, node_client, board):
    # Pings every second: a tab that stops answering is gone within about two seconds.
    server = server_process(ping_interval_s=1, ping_timeout_s=1)
    a, b = await node_client(), await node_client()
    id_a = await a.connect_synced(server.ws_url, board, state={"user": "ann"})
    await b.connect_synced(server.ws_url, board, state={"user": "bob"})
    await b.wait_for(lambda s: str(id_a) in s["peers"], what="B sees A's presence")

    a.freeze()  # the socket stays open, nothing answers the server's pings
    try:
        await b.wait_for(lambda s: str(id_a) not in s["peers"], timeout_s=FROZEN_DROP_LIMIT_S,
                         what="frozen A's presence removed after the ping timeout")
        await b.call("set", key="while-frozen", value=1)
    finally:
        a.thaw()

    state = await a.wait_for(lambda s: s["synced"] and "while-frozen" in s["maps"]["elements"],
                             what="thawed A reconnected and caught up")
    assert state["closes"], "A should have noticed its dropped socket"
    await b.wait_for(lambda s: s["peers"].get(str(id_a)) == {"user": "ann"},
                     what="B sees A's presence again")


@pytest.mark.gen_test(timeout=60)
async def test_stock_provider_with_an_oversized_edit_is_not_left_in_a_reconnect_loop(
        server_process, node_client, board):
    # The live update frame is over --max-message-bytes (1009, transient): the client
    # reconnects once and its sync step 2, which may be larger, carries the edit in.
    server = server_process(max_message_bytes=OVERSIZED_LIMIT_BYTES)
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("set", key="small", value=1)
    huge = "x" * (2 * OVERSIZED_LIMIT_BYTES)
    await a.call("set", key="huge", value=huge)

    await b.wait_for(lambda s: s["maps"]["elements"] == {"small": 1, "huge": huge},
                     what="B gets the oversized edit through A's step 2")
    await asyncio.sleep(OVERSIZED_WATCH_S)
    closes = (await a.dump(maps=()))["closes"]
    assert [close["code"] for close in closes] == [1009], closes
    assert (await b.dump(maps=()))["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_stock_provider_with_an_edit_over_every_limit_stops_on_4413(
        server_process, node_client, board):
    # Over --max-step2-bytes too: no path can take it, so the close is one the client obeys.
    server = server_process(max_message_bytes=OVERSIZED_LIMIT_BYTES,
                            max_step2_bytes=OVERSIZED_LIMIT_BYTES + 1000)
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("set", key="small", value=1)
    await a.call("set", key="huge", value="x" * (2 * OVERSIZED_LIMIT_BYTES))

    await asyncio.sleep(OVERSIZED_WATCH_S)
    state_b = await b.dump()
    assert state_b["maps"]["elements"] == {"small": 1}
    assert state_b["closes"] == []
    state_a = await a.dump(maps=())
    assert [close["code"] for close in state_a["closes"]] == [4413], state_a["closes"]
    assert state_a["shouldConnect"] is False
