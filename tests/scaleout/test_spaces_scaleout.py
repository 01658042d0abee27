"""A team space served by two processes on one PostgreSQL database and one Redis: the cards'
live counts and last editors are the same whichever process answers the space page, while
the people are connected to either (backend/live_peers.py, space_indexer.record_editors)."""

from __future__ import annotations

import json

import pytest
from pycrdt import Map, Text

from tests.export_helpers import fetch_json
from tests.test_spaces import until
from tests.yclient import YClient

OPTIONS = {"auth": "token", "secret": "scaleout-spaces-secret", "space_index_interval_s": "0.05"}


async def post(server, path: str, token: str | None, body: dict) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    code, answer = await fetch_json(server.base_url + path, method="POST", headers=headers,
                                    body=json.dumps(body))
    assert code == 201, answer
    return answer


async def cards(server, space: dict) -> dict[str, tuple[int, str]]:
    """``{board id: (live, lastEditor)}`` as ``server`` lists the space."""
    code, answer = await fetch_json(
        f"{server.base_url}/api/spaces/{space['id']}/boards",
        headers={"Authorization": f"Bearer {space['viewToken']}"})
    assert code == 200, answer
    return {b["id"]: (b["live"], b["lastEditor"]) for b in answer["boards"]}


async def person(server, board: dict, name: str) -> YClient:
    """A synced client of ``board`` on ``server`` showing ``name`` in its presence."""
    client = await YClient(f"{server.ws_url}/{board['id']}?token={board['editToken']}").sync()
    await client.set_presence(client.doc.client_id, 1, {"user": {"name": name}})
    return client


def sticky(element_id: str, words: str):
    def change(doc) -> None:
        doc.get("elements", type=Map)[element_id] = Map(
            {"type": "sticky", "x": 0.0, "y": 0.0, "w": 100.0, "h": 100.0, "z": element_id,
             "text": Text(words)})
    return change


@pytest.mark.gen_test(timeout=120)
async def test_live_counts_and_last_editors_are_the_same_on_every_process(cluster):
    first, second = cluster(2, **OPTIONS)
    space = await post(first, "/api/spaces", None, {"name": "Two processes"})
    plan = await post(first, "/api/boards", space["editToken"],
                      {"space": space["id"], "title": "Plan"})
    notes = await post(second, "/api/boards", space["editToken"],
                       {"space": space["id"], "title": "Notes"})
    ada = await person(first, plan, "Ada")
    grace = await person(second, notes, "Grace")
    linus = None
    try:
        await ada.edit(sticky("a1", "Ada's note"))
        await grace.edit(sticky("g1", "Grace's note"))
        expected = {plan["id"]: (1, "Ada"), notes["id"]: (1, "Grace")}

        async def both_list(wanted):
            listed = [await cards(server, space) for server in (first, second)]
            return listed[0] == listed[1] == wanted
        # Ada is on the first process, Grace on the second: each process counts both.
        await until(lambda: both_list(expected), f"both processes to list {expected}")

        # Linus joins Ada's board through the second process and edits after her.
        linus = await person(second, plan, "Linus")
        await linus.wait_for(lambda: "a1" in linus.elements, what="Ada's note on the second")
        await linus.edit(sticky("l1", "Linus's note"))
        expected = {plan["id"]: (2, "Linus"), notes["id"]: (1, "Grace")}
        await until(lambda: both_list(expected), f"both processes to list {expected}")

        # Ada edits again on the first process: hers is now the latest edit everywhere; then
        # she leaves, and both processes count one person on the board.
        await ada.edit(sticky("a2", "Ada again"))
        expected = {plan["id"]: (2, "Ada"), notes["id"]: (1, "Grace")}
        await until(lambda: both_list(expected), f"both processes to list {expected}")
        ada.close()
        expected = {plan["id"]: (1, "Ada"), notes["id"]: (1, "Grace")}
        await until(lambda: both_list(expected), f"both processes to list {expected}")
    finally:
        for client in (ada, grace, linus):
            if client is not None:
                client.close()
