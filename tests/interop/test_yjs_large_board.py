"""Interop on a sizeable board: stock providers exchange thousands of elements (Y.Map each,
with Y.Array points) live and through the store, and end with identical documents."""

from __future__ import annotations

import asyncio

import pytest

ELEMENTS = 2000
BATCH_ELEMENTS = 200
POINTS_PER_ELEMENT = 50
SYNC_TIMEOUT_S = 20.0


def _stroke(index: int) -> dict:
    points = [coordinate for step in range(POINTS_PER_ELEMENT)
              for coordinate in (step * 3 + index % 7, step * 2 - index % 5)]
    return {"type": "stroke", "x": index * 1.5, "y": -index, "z": f"a{index:05d}",
            "stroke": "#1e1e1e", "strokeWidth": 2, "points": points}


@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_large_board_reaches_live_peers_and_late_joiners_identically(
        server_process, node_client, board):
    server = server_process(idle_unload_s=0.5)
    writer, live = await node_client(), await node_client()
    await writer.connect_synced(server.ws_url, board)
    await live.connect_synced(server.ws_url, board)

    for start in range(0, ELEMENTS, BATCH_ELEMENTS):
        batch = {f"el-{i:05d}": _stroke(i) for i in range(start, start + BATCH_ELEMENTS)}
        await writer.call("put_elements", elements=batch)
    written = await writer.dump(maps=())
    await live.wait_for(lambda s: s["stateVector"] == written["stateVector"], maps=(),
                        timeout_s=SYNC_TIMEOUT_S, what="live peer has every element")
    await writer.quit()
    await live.quit()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while server.health()["boards_loaded"] != 0:
        assert loop.time() < deadline, f"board never unloaded: {server.health()}"
        await asyncio.sleep(0.1)

    joiner = await node_client()
    await joiner.connect_synced(server.ws_url, board, timeout_s=SYNC_TIMEOUT_S)
    state = await joiner.dump()
    assert state["stateVector"] == written["stateVector"]
    elements = state["maps"]["elements"]
    assert len(elements) == ELEMENTS
    for index in (0, ELEMENTS // 2, ELEMENTS - 1):
        assert elements[f"el-{index:05d}"] == _stroke(index)
