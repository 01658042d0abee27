"""Room names as apps send them: the stock provider opens ``doc.1``, ``org:42``, ``my doc``,
``Zoë``, ``prosemirror-demo-2024/06`` and long names as boards; a name that cannot be a board
is closed with 4400, which the stock client stops on; with ``--auth token`` a named board
still needs a token of that board (issued by ``PUT /api/boards/<name>``, admin)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from backend.board_names import MAX_BOARD_NAME_CHARS
from backend.protocol import CloseCode

ADMIN = "test-admin-token"
NAMES = ("doc.1", "org:42", "my doc", "Zoë", "prosemirror-demo-2024/06", "a/../b",
         "日本語のボード", "100%", "q" * MAX_BOARD_NAME_CHARS)
# Long enough for the stock client's backoff (100 ms doubling to 2.5 s) to retry several times.
NO_RETRY_WATCH_S = 3.0


def _request(server, method: str, path: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(server.base_url + path, data=b"" if method != "GET" else None,
                                     method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _api_path(name: str) -> str:
    return "/api/boards/" + urllib.parse.quote(name, safe="")


@pytest.mark.gen_test(timeout=90)
async def test_stock_provider_opens_any_room_name_an_app_sends_and_they_persist(
        server_process, node_client):
    server = server_process(admin_token=ADMIN)
    writer, reader = await node_client(), await node_client()
    # The client's URL parser folds dot segments ("a/../b" reaches the server as "b") and
    # leaves a "%" that starts no escape as it is; what arrives is a board all the same.
    for index, name in enumerate(NAMES):
        await writer.connect_synced(server.ws_url, name, doc=f"w{index}")
        await writer.call("set", doc=f"w{index}", key="name", value=name)
    for index, name in enumerate(NAMES):
        await reader.connect_synced(server.ws_url, name, doc=f"r{index}")
        await reader.wait_for(lambda s, n=name: s["maps"]["elements"].get("name") == n,
                              doc=f"r{index}", what=f"{name!r} synced through the server")
    # Each name is its own board: nothing of one appears in another.
    for index in range(len(NAMES)):
        elements = (await reader.dump(doc=f"r{index}"))["maps"]["elements"]
        assert list(elements) == ["name"], elements

    server.stop()
    server.start()
    status, listed = _request(server, "GET", "/api/boards", ADMIN)
    assert status == 200
    stored = {board["id"] for board in listed["boards"]}
    assert {"doc.1", "org:42", "my doc", "Zoë", "prosemirror-demo-2024/06", "日本語のボード",
            "q" * MAX_BOARD_NAME_CHARS} <= stored
    fresh = await node_client()
    await fresh.connect_synced(server.ws_url, "prosemirror-demo-2024/06")
    assert (await fresh.dump())["maps"]["elements"] == {"name": "prosemirror-demo-2024/06"}
    status, info = _request(server, "GET", _api_path("Zoë"), ADMIN)
    assert status == 200 and info["id"] == "Zoë"
    export = urllib.request.Request(server.base_url + _api_path("prosemirror-demo-2024/06")
                                    + "/export.json", headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(export, timeout=10) as response:
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="prosemirror-demo-2024_06.json"; '
            "filename*=UTF-8''prosemirror-demo-2024%2F06.json")


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("name", ["q" * (MAX_BOARD_NAME_CHARS + 1), "ctl\x01char", ""],
                         ids=["too-long", "control", "empty"])
async def test_refused_room_name_closes_with_4400_and_the_stock_provider_stops(
        server_process, node_client, name):
    server = server_process()
    tab = await node_client()
    await tab.connect(server.ws_url, name)
    state = await tab.wait_for(lambda s: s["closes"], what="the refused provider is closed")
    assert state["closes"][0]["code"] == CloseCode.WS_4400_BAD_REQUEST
    assert "board name" in state["closes"][0]["reason"]

    await asyncio.sleep(NO_RETRY_WATCH_S)
    state = await tab.dump()
    assert state["shouldConnect"] is False
    assert len(state["closes"]) == 1, f"provider kept reconnecting: {state['closes']}"
    assert [e["code"] for e in tab.events if e.get("event") == "closed"] == [
        CloseCode.WS_4400_BAD_REQUEST]
    # The stock provider also logged why (its auth "permission denied" handler).
    assert "Permission denied" in tab.stderr_text() and "board name" in tab.stderr_text()
    assert server.health()["boards_loaded"] == 0


@pytest.mark.gen_test(timeout=60)
async def test_with_token_auth_a_named_room_needs_a_token_of_that_board(
        server_process, node_client):
    server = server_process(auth="token", admin_token=ADMIN)
    name = "prosemirror-demo-2024/06"
    assert _request(server, "PUT", _api_path(name))[0] == 401
    status, links = _request(server, "PUT", _api_path(name), ADMIN)
    assert status == 201 and links["id"] == name and "editUrl" not in links
    status, again = _request(server, "PUT", _api_path(name), ADMIN)
    assert status == 200 and again["editToken"] == links["editToken"]
    _, other = _request(server, "PUT", _api_path("org:42"), ADMIN)

    tabs = await node_client()
    await tabs.connect_synced(server.ws_url, name, doc="editor",
                              params={"token": links["editToken"]})
    await tabs.call("set", doc="editor", key="k", value=1)
    await tabs.connect_synced(server.ws_url, name, doc="viewer",
                              params={"token": links["viewToken"]})
    await tabs.wait_for(lambda s: s["maps"]["elements"] == {"k": 1}, doc="viewer",
                        what="the view token reads the named board")
    for doc, params in (("anonymous", {}), ("wrong", {"token": other["editToken"]})):
        await tabs.connect(server.ws_url, name, doc=doc, params=params)
    for doc in ("anonymous", "wrong"):
        await tabs.wait_for(lambda s: len(s["closes"]) >= 2, doc=doc,
                            what=f"{doc} refused (and retrying, as for any HTTP refusal)")
        assert (await tabs.dump(doc=doc))["synced"] is False
    # The token of the named board opens its HTTP API too (percent-encoded name).
    status, info = _request(server, "GET", _api_path(name), links["viewToken"])
    assert status == 200 and info["id"] == name
    assert _request(server, "GET", _api_path(name), other["viewToken"])[0] == 403
