"""``--ws-path``: the stock provider reaches boards under another prefix, or at the root, and
the browser app's own routes (``/``, ``/b/<id>``, ``/static``, ``/api``, ``/healthz``) keep
working when the prefix is ``/``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.gen_test(timeout=60)
async def test_ws_path_root_serves_boards_at_the_root_and_the_app_still_works(
        server_process, node_client):
    server = server_process(ws_path="/")
    root_url = f"ws://127.0.0.1:{server.port}"
    tabs = await node_client()
    # Names that look like the app's own routes are boards too: only upgrades are boards.
    for doc, room in (("a", "board-at-root"), ("b", "api/boards"), ("c", "static/app.js"),
                      ("d", "b/xyz")):
        await tabs.connect_synced(root_url, room, doc=doc)
        await tabs.call("set", doc=doc, key="room", value=room)
    other = await node_client()
    await other.connect_synced(root_url, "api/boards")
    await other.wait_for(lambda s: s["maps"]["elements"] == {"room": "api/boards"},
                         what="a board named like an API route syncs")

    status, page = _get(server.base_url + "/")
    assert status == 200 and b'<meta name="syncboard-ws-path" content="/">' in page
    status, page = _get(server.base_url + "/b/abcdefghijklmnopqrstuv")
    assert status == 200 and b"syncboard-ws-path" in page
    assert _get(server.base_url + "/static/app.js")[0] == 200
    status, body = _get(server.base_url + "/api/boards")  # --auth none: the list is open
    assert status == 200
    assert {"board-at-root", "api/boards", "static/app.js", "b/xyz"} <= {
        board["id"] for board in json.loads(body)["boards"]}
    assert server.health()["status"] == "ok"


@pytest.mark.gen_test(timeout=60)
async def test_ws_path_prefix_moves_the_boards_and_the_page_is_told(server_process,
                                                                     node_client):
    server = server_process(ws_path="/collab/sync")
    tab = await node_client()
    await tab.connect_synced(f"ws://127.0.0.1:{server.port}/collab/sync", "org:42/notes")
    await tab.call("set", key="k", value=1)
    reader = await node_client()
    await reader.connect_synced(f"ws://127.0.0.1:{server.port}/collab/sync", "org:42/notes")
    await reader.wait_for(lambda s: s["maps"]["elements"] == {"k": 1}, what="synced")
    status, page = _get(server.base_url + "/")
    assert status == 200 and b'content="/collab/sync"' in page
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    assert _get(server.base_url + "/ws/k", upgrade)[0] == 404  # the old prefix is no board

