"""``Y.XmlHook`` content across processes (issue 19 item 5): an unmodified y-websocket client
on one process writes a hook, clients on another process get it back as a ``Y.XmlHook`` with
its name and entries, through the Redis broker and from the shared database."""

from __future__ import annotations

import pytest

from tests.interop.node_client import Y_WEBSOCKET_PACKAGES, NodeClient, missing_setup
from tests.scaleout.conftest import board_name

EXPECTED = [{"hook": "embed", "entries": {"src": "x", "n": 2}}]


def _hooks(state: dict) -> list:
    return state["fragments"]["prose"]


@pytest.mark.gen_test(timeout=90)
async def test_a_hook_written_on_one_process_reaches_clients_of_another(cluster):
    problem = missing_setup()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    a, b = cluster(2)
    board = board_name("xml-hook")
    clients = [await NodeClient.start(package=Y_WEBSOCKET_PACKAGES[version])
               for version in ("3.1", "1.5", "2.1")]
    author, watcher, late = clients
    try:
        await author.connect_synced(a.ws_url, board)
        await watcher.connect_synced(b.ws_url, board)
        await author.call("add_xml_hook", fragment="prose", name="embed",
                          values={"src": "x", "n": 2})
        await author.call("set", key="after", value=1)
        await watcher.wait_for(lambda s: _hooks(s) == EXPECTED and s["maps"]["elements"]
                               == {"after": 1}, fragments=["prose"],
                               what="the hook and the edit after it, through the broker")
        await late.connect_synced(b.ws_url, board)  # b holds the board: its own encoding
        assert _hooks(await late.dump(fragments=["prose"])) == EXPECTED
        for client in clients:
            assert (await client.dump())["closes"] == []
    finally:
        for client in clients:
            await client.quit()
