"""Interop with access control on (``--auth token``): the stock provider carries its token in
its ``params`` option, a view token reads live without writing, and a 4403 close makes the
stock client stop reconnecting (its default treats 4400-4499 as permanent)."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from backend.protocol import CloseCode

# Long enough for the stock client's backoff (100 ms doubling to 2.5 s) to retry several times.
NO_RETRY_WATCH_S = 3.0


def _post(server, path: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(server.base_url + path, data=b"", method="POST",
                                     headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def token_server(server_process):
    """A server process that requires board tokens."""
    return server_process(auth="token")


@pytest.mark.gen_test(timeout=60)
async def test_view_token_provider_gets_live_edits_but_never_changes_the_board(
        token_server, node_client):
    links = _post(token_server, "/api/boards")
    tabs = await node_client()
    url, board = token_server.ws_url, links["id"]
    await tabs.connect_synced(url, board, doc="editor", params={"token": links["editToken"]})
    await tabs.connect_synced(url, board, doc="viewer", params={"token": links["viewToken"]})

    await tabs.call("set", doc="editor", key="shape", value={"type": "rect"})
    await tabs.wait_for(lambda s: s["maps"]["elements"] == {"shape": {"type": "rect"}},
                        doc="viewer", what="viewer gets the editor's change live")
    await tabs.call("set", doc="viewer", key="vandal", value=1)
    await tabs.call("set", doc="editor", key="after", value=2)

    expected = {"shape": {"type": "rect"}, "after": 2}
    await tabs.wait_for(lambda s: s["maps"]["elements"].get("after") == 2, doc="viewer",
                        what="viewer still connected and reading")
    newcomer = await node_client()
    await newcomer.connect_synced(url, board, params={"token": links["editToken"]})
    assert (await newcomer.dump())["maps"]["elements"] == expected
    assert (await tabs.dump(doc="editor"))["maps"]["elements"] == expected
    assert (await tabs.dump(doc="viewer"))["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_stock_provider_stops_reconnecting_when_its_token_is_revoked(
        token_server, node_client):
    links = _post(token_server, "/api/boards")
    tab = await node_client()
    await tab.connect_synced(token_server.ws_url, links["id"],
                             params={"token": links["editToken"]})

    _post(token_server, f"/api/boards/{links['id']}/rotate", links["editToken"])
    state = await tab.wait_for(lambda s: s["closes"], what="the revoked provider is closed")
    assert state["closes"][0]["code"] == CloseCode.WS_4403_FORBIDDEN

    await asyncio.sleep(NO_RETRY_WATCH_S)
    state = await tab.dump()
    assert state["shouldConnect"] is False
    assert state["status"] == "disconnected"
    assert len(state["closes"]) == 1, f"provider kept reconnecting: {state['closes']}"
    assert [e["code"] for e in tab.events if e.get("event") == "closed"] == [
        CloseCode.WS_4403_FORBIDDEN]
