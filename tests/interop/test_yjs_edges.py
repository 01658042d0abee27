"""Interop at the edges of what Yjs can send (issue 19 items 3-6), with unmodified y-websocket
providers against a real server process, across restarts and compaction where storage is
concerned: pending updates, subdocument ``meta``, ``Y.XmlHook`` (kept, and refused once past
its bound) and unknown message types."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import pytest
from pycrdt import create_update_message

from backend.protocol import CloseCode
from backend.xml_hooks import MAX_HOOKS
from tests.interop.node_client import Y_WEBSOCKET_PACKAGES
from tests.test_document import text_updates
from tests.yclient import YClient

RECONNECT_TIMEOUT_S = 15.0
# The restart-heavy tests run against the oldest and the newest release only: 2.x syncs with
# the same code as 1.5 (it changed connection handling and added `protocols`).
OLDEST_AND_NEWEST = pytest.mark.parametrize(
    "y_websocket", [Y_WEBSOCKET_PACKAGES["1.5"], Y_WEBSOCKET_PACKAGES["3.1"]], ids=["1.5", "3.1"])
# Long enough for the stock client's backoff (100 ms doubling to 2.5 s) to retry several times.
NO_RETRY_WATCH_S = 3.0
SUBDOCS = [{"key": "chart", "guid": "guid-chart", "meta": {"kind": "chart", "rows": 3}},
           {"key": "notes", "guid": "guid-notes", "meta": {"kind": "notes", "title": "Zoë"}}]


def _metric(server, name: str, labels: str = "") -> float:
    """One sample of the server's ``GET /metrics`` (0 when absent)."""
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def _wait_metric(server, name: str, labels: str, at_least: float,
                       timeout_s: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while _metric(server, name, labels) < at_least:
        assert loop.time() < deadline, f"{name}{labels} stayed below {at_least}"
        await asyncio.sleep(0.05)


@OLDEST_AND_NEWEST
@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_pending_updates_reach_joiners_and_survive_compaction_and_restart(
        server_process, node_client, board, y_websocket):
    server = server_process(compact_after_updates=1)
    first, second, deletion = text_updates()
    sender = await YClient(f"{server.ws_url}/{board}").sync()
    try:
        # "def" and the deletion of "b" arrive before the "abc" they depend on.
        await sender.send(create_update_message(second))
        await sender.send(create_update_message(deletion))
        await _wait_metric(server, "syncboard_compactions_total", '{outcome="merged"}', 1)
    finally:
        sender.close()
    early = await node_client(y_websocket)
    await early.connect_synced(server.ws_url, board)

    server.restart()  # what reaches the new process is what compaction stored
    await early.wait_for(lambda s: s["closes"] and s["synced"], timeout_s=RECONNECT_TIMEOUT_S,
                         what="early joiner back after the restart")
    sender = await YClient(f"{server.ws_url}/{board}").sync()
    try:
        await sender.send(create_update_message(first))
        await early.wait_for(lambda s: s["texts"]["t"] == "acdef", texts=["t"],
                             what="early joiner integrates the held parts")
    finally:
        sender.close()
    late = await node_client(y_websocket)
    await late.connect_synced(server.ws_url, board)
    assert (await late.dump(texts=["t"]))["texts"]["t"] == "acdef"


def _subdocs_as_sent(state: dict) -> dict:
    return state["subdocs"]["docs"]


EXPECTED_SUBDOCS = {d["key"]: {"guid": d["guid"], "meta": d["meta"], "autoLoad": False}
                    for d in SUBDOCS}


@OLDEST_AND_NEWEST
@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_subdocument_meta_survives_merged_relays_late_joins_compaction_and_restart(
        server_process, node_client, board, y_websocket):
    # A relay tick merges the two subdocument updates into one frame, as under load.
    server = server_process(relay_delay_ms=50, compact_after_updates=2)
    author, watcher = await node_client(y_websocket), await node_client(y_websocket)
    await author.connect_synced(server.ws_url, board)
    await watcher.connect_synced(server.ws_url, board)
    await author.call("add_subdocs", map="docs", docs=SUBDOCS)
    state = await watcher.wait_for(lambda s: len(_subdocs_as_sent(s)) == 2,
                                   subdoc_maps=["docs"], what="watcher sees both subdocs")
    assert _subdocs_as_sent(state) == EXPECTED_SUBDOCS

    late = await node_client(y_websocket)
    await late.connect_synced(server.ws_url, board)
    assert _subdocs_as_sent(await late.dump(subdoc_maps=["docs"])) == EXPECTED_SUBDOCS
    await _wait_metric(server, "syncboard_compactions_total", '{outcome="merged"}', 1)

    for client in (author, watcher, late):
        await client.quit()
    server.restart()
    fresh = await node_client(y_websocket)
    await fresh.connect_synced(server.ws_url, board, timeout_s=RECONNECT_TIMEOUT_S)
    assert _subdocs_as_sent(await fresh.dump(subdoc_maps=["docs"])) == EXPECTED_SUBDOCS


HOOK_ENTRIES = {"src": "x", "n": 2}
HOOKS_AS_SENT = [{"hook": "embed", "entries": {**HOOK_ENTRIES, "caption": "later"}}]


def _hooks(state: dict) -> list:
    return state["fragments"]["prose"]


def _hook_board_done(state: dict) -> bool:
    return _hooks(state) == HOOKS_AS_SENT and state["maps"]["elements"] == {"before": 1,
                                                                            "after": 2}


@pytest.mark.gen_test(timeout=120)
async def test_xml_hook_is_kept_through_relays_late_joins_compaction_and_restart(
        server_process, node_client, board, y_websocket):
    # A relay tick merges the hook with the edit after it into one frame, as under load.
    server = server_process(relay_delay_ms=50, compact_after_updates=2)
    author, watcher = await node_client(y_websocket), await node_client(y_websocket)
    await author.connect_synced(server.ws_url, board)
    await watcher.connect_synced(server.ws_url, board)
    await author.call("set", key="before", value=1)
    await author.call("add_xml_hook", fragment="prose", name="embed", values=HOOK_ENTRIES)
    await author.call("set", key="after", value=2)
    await author.call("hook_set", fragment="prose", index=0, key="caption", value="later")
    await watcher.wait_for(_hook_board_done, fragments=["prose"],
                           what="watcher sees the hook (a Y.XmlHook with its name and entries) "
                                "and the edits after it")
    late = await node_client(y_websocket)
    await late.connect_synced(server.ws_url, board)
    assert _hook_board_done(await late.dump(fragments=["prose"]))
    await _wait_metric(server, "syncboard_compactions_total", '{outcome="merged"}', 1)
    for client in (author, watcher, late):
        assert (await client.dump())["closes"] == []  # accepted: no close, no reconnect
        await client.quit()

    server.restart()  # what the new process loads is the compacted snapshot and the log
    fresh = await node_client(y_websocket)
    await fresh.connect_synced(server.ws_url, board, timeout_s=RECONNECT_TIMEOUT_S)
    assert _hook_board_done(await fresh.dump(fragments=["prose"]))
    await fresh.call("hook_set", fragment="prose", index=0, key="n", value=3)
    newest = await node_client(Y_WEBSOCKET_PACKAGES["3.1"])
    await newest.connect_synced(server.ws_url, board)
    state = await newest.wait_for(lambda s: _hooks(s)[0]["entries"]["n"] == 3,
                                  fragments=["prose"], what="the edit inside the hook arrives")
    assert _hooks(state)[0]["hook"] == "embed"
    assert (await fresh.dump())["closes"] == []


@pytest.mark.gen_test(timeout=60)
async def test_more_xml_hooks_than_a_board_may_hold_are_refused_once(
        server, node_client, board):
    author, other = await node_client(), await node_client()
    await author.connect_synced(server.ws_url, board)
    await other.connect_synced(server.ws_url, board)
    await author.call("add_xml_hook", fragment="prose", name="embed", values={"k": 1},
                      count=MAX_HOOKS - 1)
    await other.wait_for(lambda s: len(_hooks(s)) == MAX_HOOKS - 1, fragments=["prose"],
                         what="other sees the hooks within the limit")
    await author.call("add_xml_hook", fragment="prose", name="embed", values={"k": 2},
                      count=2)
    state = await author.wait_for(lambda s: s["closes"] and not s["shouldConnect"],
                                  what="author closed and not reconnecting")
    assert state["closes"][0]["code"] == CloseCode.WS_4422_UNSUPPORTED_CONTENT
    await asyncio.sleep(NO_RETRY_WATCH_S)
    assert len((await author.dump())["closes"]) == 1
    assert (await other.dump())["closes"] == []
    newcomer = await node_client()
    await newcomer.connect_synced(server.ws_url, board)
    assert len(_hooks(await newcomer.dump(fragments=["prose"]))) == MAX_HOOKS - 1


@pytest.mark.gen_test(timeout=60)
async def test_unknown_message_types_are_ignored_and_the_provider_keeps_syncing(
        server, node_client, board, y_websocket):
    a, b = await node_client(y_websocket), await node_client(y_websocket)
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    before = _metric(server, "syncboard_unknown_messages_total")
    # An app's own message type (100, with a body), and AUTH (2), which only servers send.
    await a.call("send_frame", hex="64" + "03616263")
    await a.call("send_frame", hex="0200")
    await a.call("set", key="after", value=2)
    await b.wait_for(lambda s: s["maps"]["elements"] == {"after": 2},
                     what="B sees A's edit sent after the unknown frames")
    assert (await a.dump())["closes"] == []
    assert _metric(server, "syncboard_unknown_messages_total") == before + 2
