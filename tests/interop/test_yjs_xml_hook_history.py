"""``Y.XmlHook`` content through version history, board copies and long sessions (issue 19
item 5), with unmodified y-websocket providers against a real server process: a version's
``/update``, a restore that brings deleted hooks back (after a compaction and a restart, so
only the version still knows them), a space's copy of a board, a compaction done in the
worker process, and a client that creates and deletes far more hooks than a board may hold
at once. Each joiner checks in JS that it holds a ``Y.XmlHook`` (``instanceof``) with the
hook's name and entries."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from backend.protocol import CloseCode
from backend.xml_hooks import MAX_HOOKS
from tests.interop.node_client import Y_WEBSOCKET_PACKAGES
from tests.interop.test_yjs_edges import NO_RETRY_WATCH_S, RECONNECT_TIMEOUT_S, _metric

OLDEST_AND_NEWEST = pytest.mark.parametrize(
    "y_websocket", [Y_WEBSOCKET_PACKAGES["1.5"], Y_WEBSOCKET_PACKAGES["3.1"]], ids=["1.5", "3.1"])
EMBED = {"src": "x", "n": 2}
PIC = {"a": 1}
# elements.h1 is a hook; elements.e2 a map whose field "embed" is a hook
HOOKS = {"h1": {"hook": "embed", "entries": EMBED},
         "e2": {"fields": {"embed": {"hook": "pic", "entries": PIC}}}}
COMPACTED = ("syncboard_compactions_total", '{outcome="merged"}')


async def _http(server, method: str, path: str, body: dict | None = None,
                token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    elif method == "POST":
        data = b""
    try:
        response = await AsyncHTTPClient().fetch(f"{server.base_url}{path}", method=method,
                                                 headers=headers, body=data,
                                                 request_timeout=60)
    except HTTPClientError as exc:
        response = exc.response
    return response.code, response.body


async def _json(server, method: str, path: str, body: dict | None = None,
                token: str | None = None) -> tuple[int, dict]:
    code, raw = await _http(server, method, path, body, token)
    return code, json.loads(raw) if raw else {}


async def _write_hooks(client) -> None:
    await client.call("put_hook", key="h1", name="embed", values=EMBED)
    await client.call("put_hook", key="e2", name="pic", values=PIC, field="embed")
    await client.call("set", key="plain", value=1)


def _hooks(state: dict) -> dict:
    return state["hooks"]["elements"]


async def _wait_compacted_past(server, count: float, timeout_s: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while _metric(server, *COMPACTED) <= count:
        assert loop.time() < deadline, f"no compaction past {count} in {timeout_s} s"
        await asyncio.sleep(0.05)


async def _fresh_hooks(node_client, server, board: str, package: str,
                       params: dict | None = None) -> dict:
    joiner = await node_client(package)
    await joiner.connect_synced(server.ws_url, board, params=params,
                                timeout_s=RECONNECT_TIMEOUT_S)
    return await joiner.dump(hook_maps=["elements"])


@pytest.mark.gen_test(timeout=60)
async def test_a_versions_update_holds_xml_hooks_with_their_names(server, node_client, board):
    author = await node_client()
    await author.connect_synced(server.ws_url, board)
    await _write_hooks(author)
    watcher = await node_client()
    await watcher.connect_synced(server.ws_url, board)
    await watcher.wait_for(lambda s: _hooks(s) == HOOKS and s["maps"]["elements"]["plain"] == 1,
                           hook_maps=["elements"], what="watcher holds the hooks")
    code, saved = await _json(server, "POST", f"/api/boards/{board}/versions",
                              {"label": "with hooks"})
    assert code == 201, saved
    await author.call("delete", key="h1")  # the live board changes; the version does not
    code, update = await _http(server, "GET",
                               f"/api/boards/{board}/versions/{saved['id']}/update")
    assert code == 200
    read = await watcher.call("read_update", hex=update.hex(), hookMaps=["elements"])
    assert read["hooks"]["elements"] == HOOKS
    assert read["maps"]["elements"]["plain"] == 1


@OLDEST_AND_NEWEST
@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_a_restore_brings_deleted_xml_hooks_back_as_hooks_with_their_names(
        server_process, node_client, board, y_websocket):
    server = server_process(compact_after_updates=1)
    author = await node_client(y_websocket)
    await author.connect_synced(server.ws_url, board)
    await _write_hooks(author)
    await author.wait_for(lambda s: _hooks(s) == HOOKS, hook_maps=["elements"],
                          what="author's own hooks")
    watcher = await node_client(y_websocket)
    await watcher.connect_synced(server.ws_url, board)
    await watcher.wait_for(lambda s: _hooks(s) == HOOKS and s["maps"]["elements"]["plain"] == 1,
                           hook_maps=["elements"], what="watcher holds the hooks")
    code, saved = await _json(server, "POST", f"/api/boards/{board}/versions",
                              {"label": "with hooks"})
    assert code == 201, saved
    # One hook replaced by a plain value, the other deleted with the element holding it.
    compactions = _metric(server, *COMPACTED)
    await author.call("set", key="h1", value="replaced")
    await author.call("delete", key="e2")
    await watcher.wait_for(lambda s: _hooks(s) == {} and s["maps"]["elements"] ==
                           {"h1": "replaced", "plain": 1}, hook_maps=["elements"],
                           what="watcher sees the hooks gone")
    await _wait_compacted_past(server, compactions)
    for client in (author, watcher):
        await client.quit()
    server.restart()  # the board loaded now has no trace of the hooks: only the version does

    code, answer = await _json(server, "POST",
                               f"/api/boards/{board}/versions/{saved['id']}/restore")
    assert code == 200, answer
    state = await _fresh_hooks(node_client, server, board, y_websocket)
    assert _hooks(state) == HOOKS
    assert state["maps"]["elements"]["plain"] == 1
    assert state["closes"] == []
    # and after the next restart, from what the store holds
    server.restart()
    assert _hooks(await _fresh_hooks(node_client, server, board,
                                     Y_WEBSOCKET_PACKAGES["3.1"])) == HOOKS


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_a_spaces_copy_of_a_board_holds_its_xml_hooks(server_process, node_client):
    server = server_process(auth="token")
    code, space = await _json(server, "POST", "/api/spaces", {"name": "Team"})
    assert code == 201, space
    code, original = await _json(server, "POST", "/api/boards",
                                 {"space": space["id"], "title": "Draft"}, space["editToken"])
    assert code == 201, original
    author = await node_client()
    await author.connect_synced(server.ws_url, original["id"],
                                params={"token": original["editToken"]})
    await _write_hooks(author)
    watcher = await node_client()
    await watcher.connect_synced(server.ws_url, original["id"],
                                 params={"token": original["editToken"]})
    await watcher.wait_for(lambda s: _hooks(s) == HOOKS and s["maps"]["elements"]["plain"] == 1,
                           hook_maps=["elements"], what="watcher holds the hooks")
    code, copy = await _json(server, "POST",
                             f"/api/spaces/{space['id']}/boards/{original['id']}/duplicate",
                             token=space["editToken"])
    assert code == 201, copy
    state = await _fresh_hooks(node_client, server, copy["id"], Y_WEBSOCKET_PACKAGES["1.5"],
                               params={"token": copy["editToken"]})
    assert _hooks(state) == HOOKS
    assert state["maps"]["elements"]["plain"] == 1
    server.restart()
    assert _hooks(await _fresh_hooks(node_client, server, copy["id"], "y-websocket",
                                     params={"token": copy["editToken"]})) == HOOKS


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_xml_hooks_survive_a_compaction_merged_in_the_worker_process(
        server_process, node_client, board):
    # Every compaction is merged in the pre-check worker (--precheck-worker-bytes 1).
    server = server_process(compact_after_updates=1, precheck_worker_bytes=1)
    author = await node_client()
    await author.connect_synced(server.ws_url, board)
    compactions = _metric(server, *COMPACTED)
    await _write_hooks(author)
    await author.call("set", key="after", value=2)
    await _wait_compacted_past(server, compactions)
    await author.quit()
    server.restart()
    state = await _fresh_hooks(node_client, server, board, "y-websocket")
    assert _hooks(state) == HOOKS
    assert state["maps"]["elements"]["after"] == 2


@pytest.mark.slow
@pytest.mark.gen_test(timeout=180)
async def test_a_client_creating_and_deleting_hooks_is_never_locked_out_but_the_bound_holds(
        server, node_client, board):
    author, other = await node_client(), await node_client()
    await author.connect_synced(server.ws_url, board)
    await other.connect_synced(server.ws_url, board)
    per_round = 600  # three rounds: 1,800 hooks written, at most 600 there at once
    for turn in range(3):
        await author.call("add_xml_hook", fragment="prose", name="embed", values={"t": turn},
                          count=per_round)
        await other.wait_for(lambda s: len(s["fragments"]["prose"]) == per_round,
                             fragments=["prose"], timeout_s=30,
                             what=f"other sees round {turn}'s hooks")
        await author.call("clear_fragment", fragment="prose")
        await other.wait_for(lambda s: s["fragments"]["prose"] == [], fragments=["prose"],
                             timeout_s=30, what=f"other sees round {turn}'s hooks deleted")
    assert (await author.dump())["closes"] == []
    server.restart()  # the log holds all 1,800: the board loads every row
    await author.wait_for(lambda s: s["closes"] and s["synced"], timeout_s=RECONNECT_TIMEOUT_S,
                          what="author back after the restart")
    # As many hooks as the board may hold at once are still accepted, one more is refused.
    await author.call("add_xml_hook", fragment="prose", name="last", values={"k": 1},
                      count=MAX_HOOKS)
    await other.wait_for(lambda s: len(s["fragments"]["prose"]) == MAX_HOOKS,
                         fragments=["prose"], timeout_s=30, what="other sees 1,000 hooks")
    closes = len((await author.dump())["closes"])
    await author.call("add_xml_hook", fragment="prose", name="over", values={"k": 2})
    state = await author.wait_for(lambda s: len(s["closes"]) > closes and not s["shouldConnect"],
                                  what="author closed once past the bound, not reconnecting")
    assert state["closes"][-1]["code"] == CloseCode.WS_4422_UNSUPPORTED_CONTENT
    await asyncio.sleep(NO_RETRY_WATCH_S)
    assert len((await author.dump())["closes"]) == closes + 1
    newcomer = await node_client(Y_WEBSOCKET_PACKAGES["1.5"])
    await newcomer.connect_synced(server.ws_url, board)
    children = (await newcomer.dump(fragments=["prose"]))["fragments"]["prose"]
    assert len(children) == MAX_HOOKS and {c["hook"] for c in children} == {"last"}
