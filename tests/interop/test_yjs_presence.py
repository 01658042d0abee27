"""Interop: presence of many unmodified y-websocket tabs joining one board at once.

The stock provider sends the server every awareness change it applies: echoes of what the
server relayed, and, with BroadcastChannel on (its default, which the browser app keeps),
the presence of the browser's other tabs of the same board, which often reaches the server
over a sibling's connection before the tab's own connection opened. The server must show
each tab's presence as that tab's own (so its edits are not taken for clock squatting and
its presence stays when the sibling leaves) and must not log ordinary tabs as going over
``--presence-max-ids-per-peer`` (SECURITY.md, "Limits on presence").

One Node process is one browser whose tabs share BroadcastChannel; a second process holds
clients with BroadcastChannel off, each like a browser of its own. Runs once per release.
"""

from __future__ import annotations

import pytest

FIRST_TABS = 4  # connected before the batch: each relays every sibling that joins
JOINING_TABS = 12  # tabs of that browser opened at once
OTHER_CLIENTS = 12  # other people joining at the same moment
WAIT_S = 90  # bounded waits on a loaded machine; each ends as soon as its condition holds


def _state(name: str) -> dict:
    return {"user": {"name": name}, "cursor": None}


@pytest.mark.slow
@pytest.mark.gen_test(timeout=400)
async def test_tabs_and_clients_joining_in_a_batch_all_see_each_other_and_keep_presence(
    server, node_client, board, y_websocket
):
    browser = await node_client(y_websocket)
    others = await node_client(y_websocket)
    where: dict[str, object] = {}
    ids: dict[str, int] = {}
    for i in range(FIRST_TABS):
        name = f"tab-{i}"
        ids[name] = await browser.connect(
            server.ws_url, board, doc=name, state=_state(name), bc=True
        )
        where[name] = browser
    for name in list(ids):
        await browser.wait_for(
            lambda s: s["synced"] and len(s["peers"]) == FIRST_TABS - 1,
            doc=name,
            timeout_s=WAIT_S,
            what=f"{name} sees the first tabs",
        )

    # The batch: no waiting between the connects.
    for i in range(FIRST_TABS, FIRST_TABS + JOINING_TABS):
        name = f"tab-{i}"
        ids[name] = await browser.connect(
            server.ws_url, board, doc=name, state=_state(name), bc=True
        )
        where[name] = browser
    for i in range(OTHER_CLIENTS):
        name = f"other-{i}"
        ids[name] = await others.connect(server.ws_url, board, doc=name, state=_state(name))
        where[name] = others
    everyone = {str(client_id): _state(name) for name, client_id in ids.items()}

    def sees_everyone(name):
        expected = {key: value for key, value in everyone.items() if key != str(ids[name])}
        return lambda s: s["synced"] and s["peers"] == expected

    for name in ids:  # every client sees every other's state, through the server
        await where[name].wait_for(
            sees_everyone(name),
            doc=name,
            timeout_s=WAIT_S,
            what=f"{name} sees all {len(ids) - 1} others",
        )

    # Every client edits: a tab whose id the server gave to a sibling's connection had its
    # own update refused as clock squatting (1007).
    for name in ids:
        await where[name].call(
            "put_element",
            doc=name,
            element=name,
            fields={"type": "rect", "x": 1, "y": 2, "w": 3, "h": 4},
        )
    for name in ids:
        state = await where[name].wait_for(
            lambda s: set(s["maps"]["elements"]) == set(ids) or s["closes"],
            doc=name,
            timeout_s=WAIT_S,
            what=f"{name} holds every client's element",
        )
        assert state["closes"] == [], f"{name} was closed: {state['closes']}"
        assert set(state["maps"]["elements"]) == set(ids)

    # The first tabs leave: the tabs that joined after them keep their presence elsewhere.
    first = {str(ids[f"tab-{i}"]) for i in range(FIRST_TABS)}
    for i in range(FIRST_TABS):
        await browser.call("disconnect", doc=f"tab-{i}")
    watcher = "other-0"
    state = await others.wait_for(
        lambda s: not first & set(s["peers"]),
        doc=watcher,
        timeout_s=WAIT_S,
        what="the first tabs removed",
    )
    left = {
        key: value
        for key, value in everyone.items()
        if key not in first and key != str(ids[watcher])
    }
    assert state["peers"] == left

    log = server.log()
    assert "dropping presence" not in log
    assert "clock squatting" not in log
    for name in ids:  # nobody was closed by the server (the first tabs closed themselves:
        # 1.5 reports that as 1005, no status code, the later releases as null)
        state = await where[name].dump(name)
        gone = str(ids[name]) in first
        codes = [close["code"] for close in state["closes"]]
        assert (len(codes) == 1 and codes[0] in (None, 1005)) if gone else codes == [], (
            f"{name}: {state['closes']}"
        )
        assert state["status"] == ("disconnected" if gone else "connected")
