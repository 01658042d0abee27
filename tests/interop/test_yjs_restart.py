"""Interop across server restarts: stock y-websocket providers reconnect on their own and
hand back what the server lost or never saw (the server's sync step 1 asks them for it)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from backend.protocol import CloseCode

# The v3 client retries after 100 ms doubling to 2.5 s; leave room for the server's start.
RECONNECT_TIMEOUT_S = 15.0
# Tabs of one board that all come back at once when the server restarts.
RETURNING_TABS = 20


def _stored_update_count(server, board: str) -> int:
    """Updates the server has committed for ``board`` (its ``GET /api/boards/<id>``)."""
    url = f"{server.base_url}/api/boards/{board}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["update_count"]


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_providers_reconnect_after_restart_with_edits_made_while_server_was_down(
        server, node_client, board, y_websocket):
    a, b = await node_client(y_websocket), await node_client(y_websocket)
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("set", key="before", value=1)
    await b.wait_for(lambda s: "before" in s["maps"]["elements"], what="B sees A's edit")

    server.stop()
    for client, name in ((a, "A"), (b, "B")):
        state = await client.wait_for(lambda s: s["closes"], what=f"{name} sees the close")
        assert state["closes"][0]["code"] == CloseCode.WS_1001_GOING_AWAY
    await a.call("set", key="a-while-down", value=2)
    await b.call("set", key="b-while-down", value=3)

    server.start()
    expected = {"before": 1, "a-while-down": 2, "b-while-down": 3}
    for client, name in ((a, "A"), (b, "B")):
        await client.wait_for(lambda s: s["synced"] and s["maps"]["elements"] == expected,
                              timeout_s=RECONNECT_TIMEOUT_S,
                              what=f"{name} reconnected and has both offline edits")
    newcomer = await node_client(y_websocket)
    await newcomer.connect_synced(server.ws_url, board)
    assert (await newcomer.dump())["maps"]["elements"] == expected


@pytest.mark.gen_test(timeout=90)
async def test_provider_resends_what_a_killed_server_had_not_committed(
        server_process, node_client, board):
    server = server_process(flush_delay_ms=10_000)  # nothing reaches the disk before the kill
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    await a.call("push", array="strokes", values=[f"s{i}" for i in range(10)])
    for i in range(10):
        await a.call("set", key=f"shape-{i}", value={"i": i})
    await b.wait_for(lambda s: len(s["maps"]["elements"]) == 10, what="B sees A's edits")
    assert _stored_update_count(server, board) == 0

    server.kill()
    server.start()
    expected = await a.wait_for(lambda s: s["synced"], timeout_s=RECONNECT_TIMEOUT_S,
                                arrays=["strokes"], what="A reconnected after the kill")
    await b.wait_for(lambda s: s["synced"], timeout_s=RECONNECT_TIMEOUT_S,
                     what="B reconnected after the kill")

    newcomer = await node_client()
    await newcomer.connect_synced(server.ws_url, board)
    state = await newcomer.wait_for(
        lambda s: s["arrays"]["strokes"] == expected["arrays"]["strokes"],
        arrays=["strokes"], what="newcomer sees every stroke once")
    assert state["maps"] == expected["maps"]
    assert len(state["maps"]["elements"]) == 10


@pytest.mark.gen_test(timeout=90)
async def test_many_providers_return_together_after_restart_and_the_board_loads_once(
        server, node_client, board):
    tabs = await node_client()
    names = [f"tab-{i}" for i in range(RETURNING_TABS)]
    for name in names:
        await tabs.connect_synced(server.ws_url, board, doc=name)
        await tabs.call("set", doc=name, key=name, value="online")

    server.stop()
    for name in names[::2]:  # half the tabs keep editing while the server is down
        await tabs.call("set", doc=name, key=f"{name}-offline", value="offline")
    server.start()

    expected = {name: "online" for name in names}
    expected.update({f"{name}-offline": "offline" for name in names[::2]})
    for name in names:
        await tabs.wait_for(lambda s: s["synced"] and s["maps"]["elements"] == expected,
                            doc=name, timeout_s=RECONNECT_TIMEOUT_S,
                            what=f"{name} back and converged")
    health = server.health()
    assert health["board_loads_total"] == 1, health
    assert health["connections"] == RETURNING_TABS, health
