"""Version history over HTTP: list, save, export and restore a past state, through the CRDT
path to connected clients; edit token only."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zlib

import pytest
from pycrdt import Array, Doc, Map, Text
from sqlalchemy import insert

from backend.store import open_store
from backend.store.schema import versions
from backend.version_handlers import SAVES_BURST
from tests import yjs_updates as y
from tests.export_helpers import base_url, fetch, fetch_json
from tests.faults.clients import wait_until
from tests.yclient import state_vector


def _rect(x: float, fill: str = "#ffffff", z: str = "a0") -> Map:
    return Map({"type": "rect", "x": x, "y": 10.0, "w": 40.0, "h": 30.0, "fill": fill, "z": z})


def _sticky(text: str, z: str) -> Map:
    return Map({"type": "sticky", "x": 0.0, "y": 0.0, "text": Text(text), "z": z})


async def _server_caught_up(server, client, board: str) -> None:
    """Wait until the server's copy of ``board`` holds everything ``client`` has."""
    await client.wait_for(lambda: board in server.registry.rooms and state_vector(
        server.registry.rooms[board].document.doc) == state_vector(client.doc),
        what="the server to have the client's edits")


async def _export(base: str, path: str) -> dict:
    code, body = await fetch_json(f"{base}/api/boards/{path}/export.json")
    assert code == 200, body
    return body


async def _save(base: str, board: str, label: str, **headers: str) -> dict:
    code, body = await fetch_json(f"{base}/api/boards/{board}/versions", method="POST",
                                  body=json.dumps({"label": label}), headers=headers)
    assert code == 201, body
    return body


@pytest.mark.gen_test(timeout=60)
async def test_restore_after_deletes_moves_and_recolours_gives_back_the_versions_export(
        sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "restore_exact")

    def draw(doc) -> None:
        elements = doc.get("elements", type=Map)
        for i in range(6):
            elements[f"r{i}"] = _rect(10.0 * i, z=f"a{i}")
        elements["note"] = _sticky("keep me", "b0")
        elements["pen"] = Map({"type": "stroke", "x": 1.0, "y": 2.0, "z": "c0",
                               "points": Array([0.0, 0.0, 5.0, 8.0])})
        doc.get("meta", type=Map)["title"] = "before"

    await alice.edit(draw)
    await _server_caught_up(server, alice, "restore_exact")
    saved = await _save(base, "restore_exact", "good state")
    assert saved["kind"] == "named" and saved["label"] == "good state"
    assert saved["elements"] == 8
    wanted = await _export(base, f"restore_exact/versions/{saved['id']}")

    def vandalise(doc) -> None:
        elements = doc.get("elements", type=Map)
        for i in range(3):
            del elements[f"r{i}"]
        elements["r3"]["x"] = 500.0
        elements["r4"]["fill"] = "#ff0000"
        elements["r5"]["strokeStyle"] = "dashed"
        elements["note"]["text"] += " (edited)"
        elements["pen"]["points"].extend([9.0, 9.0])
        elements["later"] = _rect(900.0, z="d0")
        doc.get("meta", type=Map)["title"] = "after"

    await alice.edit(vandalise)
    await _server_caught_up(server, alice, "restore_exact")
    assert (await _export(base, "restore_exact"))["elements"] != wanted["elements"]
    code, answer = await fetch_json(
        f"{base}/api/boards/restore_exact/versions/{saved['id']}/restore", method="POST",
        body=b"")
    assert code == 200, answer
    assert answer["restored"] == saved["id"] and answer["before"]["kind"] == "before-restore"
    assert answer["changed"] == 9  # 3 back, 5 set back, 1 gone
    assert await _export(base, "restore_exact") == wanted
    await alice.wait_for(lambda: "later" not in alice.elements and "r0" in alice.elements,
                         what="the restore at the connected client")
    assert alice.elements["r3"]["x"] == 30.0 and str(alice.elements["note"]["text"]) == "keep me"
    # The state before the restore is a version too, and exports as it was.
    before = await _export(base, f"restore_exact/versions/{answer['before']['id']}")
    assert {e["id"] for e in before["elements"]} == {"r3", "r4", "r5", "note", "pen", "later"}
    code, listed = await fetch_json(f"{base}/api/boards/restore_exact/versions")
    assert [v["kind"] for v in listed["versions"]] == ["before-restore", "named"]
    for fmt in ("svg", "png"):
        response = await fetch(f"{base}/api/boards/restore_exact/versions/{saved['id']}"
                               f"/export.{fmt}?scale=0.5")
        assert response.code == 200 and response.body


@pytest.mark.gen_test(timeout=60)
async def test_partial_restore_brings_back_one_deleted_note_and_touches_nothing_else(
        sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "partial")

    def draw(doc) -> None:
        elements = doc.get("elements", type=Map)
        elements["note"] = _sticky("the one", "a0")
        elements["box"] = _rect(0.0, z="a1")

    await alice.edit(draw)
    await _server_caught_up(server, alice, "partial")
    saved = await _save(base, "partial", "")
    version_note = next(e for e in (await _export(
        base, f"partial/versions/{saved['id']}"))["elements"] if e["id"] == "note")

    def change(doc) -> None:
        elements = doc.get("elements", type=Map)
        del elements["note"]
        elements["box"]["x"] = 300.0
        elements["new"] = _rect(50.0, z="a2")

    await alice.edit(change)
    await _server_caught_up(server, alice, "partial")
    code, answer = await fetch_json(f"{base}/api/boards/partial/versions/{saved['id']}/restore",
                                    method="POST", body=json.dumps({"elements": ["note"]}))
    assert code == 200 and answer["changed"] == 1, answer
    now = {e["id"]: e for e in (await _export(base, "partial"))["elements"]}
    assert now["note"] == version_note
    assert now["box"]["x"] == 300.0 and "new" in now
    await alice.wait_for(lambda: "note" in alice.elements, what="the note back at the client")
    for bad in (b'{"elements": "note"}', b'{"elements": [1]}', b"[1]", b"{"):
        code, _ = await fetch_json(f"{base}/api/boards/partial/versions/{saved['id']}/restore",
                                   method="POST", body=bad)
        assert code == 400, bad
    code, _ = await fetch_json(f"{base}/api/boards/partial/versions/999/restore", method="POST",
                               body=b"")
    assert code == 404


@pytest.mark.gen_test(timeout=90)
async def test_restore_while_two_clients_keep_drawing_converges_and_keeps_their_new_work(
        sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "concurrent")
    bob = await yclient(server, "concurrent")

    def draw(doc) -> None:
        elements = doc.get("elements", type=Map)
        for i in range(20):
            elements[f"v{i}"] = _rect(float(i), z=f"a{i:02d}")

    await alice.edit(draw)
    await _server_caught_up(server, alice, "concurrent")
    saved = await _save(base, "concurrent", "base")

    def delete_half(doc) -> None:
        elements = doc.get("elements", type=Map)
        for i in range(0, 20, 2):
            del elements[f"v{i}"]
        elements["v1"]["fill"] = "#000000"

    await bob.edit(delete_half)
    await _server_caught_up(server, bob, "concurrent")
    stop = asyncio.Event()

    async def keep_drawing(client, name: str) -> None:
        count = 0
        while not stop.is_set():
            await client.put(f"{name}{count}", _rect(float(count), z=f"z{name}{count:04d}"))
            count += 1
            await asyncio.sleep(0.005)  # pacing only: nothing waits on it

    drawers = [asyncio.create_task(keep_drawing(alice, "a")),
               asyncio.create_task(keep_drawing(bob, "b"))]
    await alice.wait_for(lambda: "b3" in alice.elements and "a3" in bob.elements)
    code, answer = await fetch_json(
        f"{base}/api/boards/concurrent/versions/{saved['id']}/restore", method="POST",
        body=b"")
    assert code == 200, answer
    # Work done after the restore answered survives it.
    await alice.put("after_a", _rect(1.0, z="zz1"))
    await bob.put("after_b", _rect(2.0, z="zz2"))
    stop.set()
    await asyncio.gather(*drawers)
    room = server.registry.rooms["concurrent"]

    def server_elements() -> dict:
        return json.loads(str(room.document.doc.get("elements", type=Map)))

    await alice.wait_for(lambda: alice.snapshot() == bob.snapshot() == server_elements(),
                         what="all three documents to agree")
    final = alice.snapshot()
    assert {f"v{i}" for i in range(20)} <= final.keys()
    assert final["v1"]["fill"] == "#ffffff" and final["v0"]["x"] == 0.0
    assert {"after_a", "after_b"} <= final.keys()
    await server.writer.flush()
    assert server_elements() == final


@pytest.mark.gen_test(timeout=60)
async def test_versions_need_an_edit_token_viewers_get_403_and_bad_tokens_401(sb_server,
                                                                            yclient):
    server = await sb_server(auth="token")
    base = base_url(server)
    code, links = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    assert code == 201
    board = links["id"]
    edit = {"Authorization": f"Bearer {links['editToken']}"}
    saved = await _save(base, board, "mine", **edit)
    paths = [("GET", "versions"), ("POST", "versions"), ("GET", f"versions/{saved['id']}"),
             ("GET", f"versions/{saved['id']}/update"),
             ("GET", f"versions/{saved['id']}/export.json"),
             ("GET", f"versions/{saved['id']}/export.svg"),
             ("POST", f"versions/{saved['id']}/restore"), ("GET", "versions/at/9999999999")]
    for token, expected in ((None, 401), ("bogus.e0.x", 401), (links["viewToken"], 403)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in paths:
            response = await fetch(f"{base}/api/boards/{board}/{path}", method=method,
                                   headers=headers, **({"body": b"{}"} if method == "POST"
                                                       else {}))
            assert response.code == expected, (token, method, path)
    for method, path in paths:
        response = await fetch(f"{base}/api/boards/{board}/{path}", method=method,
                               headers=edit, **({"body": b"{}"} if method == "POST" else {}))
        assert response.code in (200, 201), (method, path, response.body)


@pytest.mark.gen_test(timeout=60)
async def test_listing_is_paginated_newest_first_with_authors_and_versions_go_with_the_board(
        sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "paged")
    await alice.set_presence(alice.doc.client_id, 1, {"user": {"name": "Alice",
                                                               "color": "#123456"}})
    ids = []
    for i in range(5):
        await alice.put(f"e{i}", _rect(float(i), z=f"a{i}"))
        await _server_caught_up(server, alice, "paged")
        ids.append((await _save(base, "paged", f"v{i}"))["id"])
    code, first = await fetch_json(f"{base}/api/boards/paged/versions?limit=2")
    assert code == 200 and [v["id"] for v in first["versions"]] == ids[:-3:-1]
    assert first["next"] == ids[3]
    code, rest = await fetch_json(f"{base}/api/boards/paged/versions?limit=10"
                                  f"&before={first['next']}")
    assert [v["id"] for v in rest["versions"]] == ids[2::-1] and rest["next"] is None
    assert rest["versions"][-1]["authors"] == ["Alice"]
    assert [v["elements"] for v in rest["versions"]] == [3, 2, 1]
    code, at = await fetch_json(f"{base}/api/boards/paged/versions/at/"
                                f"{first['versions'][1]['created_at']}")
    assert code == 200 and at["id"] == ids[3]
    for query in ("limit=0", "limit=x", "before=-1"):
        code, _ = await fetch_json(f"{base}/api/boards/paged/versions?{query}")
        assert code == 400, query
    alice.close()
    assert await server.store.history_bytes("paged") > 0
    assert (await fetch(f"{base}/api/boards/paged", method="DELETE")).code == 204
    assert await server.store.list_versions("paged", 10) == []
    assert await server.store.history_bytes("paged") == 0


@pytest.mark.gen_test(timeout=60)
async def test_saving_versions_is_rate_limited_per_address(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    await yclient(server, "spam")  # the board exists once someone opened it
    for i in range(SAVES_BURST):
        await _save(base, "spam", f"v{i}")
    response = await fetch(f"{base}/api/boards/spam/versions", method="POST",
                           body=json.dumps({"label": "one too many"}))
    assert response.code == 429 and int(response.headers["Retry-After"]) >= 1
    assert len(await server.store.list_versions("spam", 100)) == SAVES_BURST


@pytest.mark.gen_test(timeout=60)
async def test_every_import_records_what_it_overwrites_as_a_before_import_version(
        sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "import_history")
    await alice.put("r0", _rect(0))
    await _server_caught_up(server, alice, "import_history")
    before = await _export(base, "import_history")
    imported = {"schemaVersion": 2, "meta": {}, "elements": [
        {"id": "n1", "type": "rect", "x": 50, "y": 50, "w": 10, "h": 10, "z": "b0"}]}
    for query in ("", "?convert=1"):  # applied here / handed to the page to write itself
        code, answer = await fetch_json(f"{base}/api/boards/import_history/import{query}",
                                        method="POST", body=json.dumps(imported))
        assert code == 200, answer
    code, listed = await fetch_json(f"{base}/api/boards/import_history/versions")
    assert [v["kind"] for v in listed["versions"]] == ["before-import", "before-import"]
    first = listed["versions"][-1]["id"]
    assert await _export(base, f"import_history/versions/{first}") == before
    alice.close()


@pytest.mark.gen_test(timeout=60)
async def test_version_ids_past_64_bits_are_404_not_500(sb_server, yclient):
    server = await sb_server()
    base = base_url(server)
    alice = await yclient(server, "ids")
    await alice.put("a", _rect(0.0))
    await _server_caught_up(server, alice, "ids")
    saved = await _save(base, "ids", "")
    for vid in (2**63, 2**64 + 5, 10**30):
        for path, method in (("", "GET"), ("/update", "GET"), ("/export.json", "GET"),
                             ("/restore", "POST")):
            response = await fetch(f"{base}/api/boards/ids/versions/{vid}{path}",
                                   method=method, **({"body": b""} if method == "POST" else {}))
            assert response.code == 404, (vid, path, response.body)
    for path in ("", "/update"):
        assert (await fetch(f"{base}/api/boards/ids/versions/{2**63 - 1}{path}")).code == 404
        assert (await fetch(f"{base}/api/boards/ids/versions/{saved['id']}{path}")).code == 200


async def _seed_poisoned_versions(db: str) -> None:
    """Version rows holding a Y.Map nested 20,000 deep (it applies, then crashes the reader),
    written straight into ``board_versions`` as a server before the pre-check could have
    stored them: ``bomb_checkpoint`` has it as its checkpoint (version 1; version 2 is a
    good delta after it), ``bomb_delta`` as a delta (version 4) after a good checkpoint
    (version 3). Nothing here hands the poison to pycrdt."""
    good = Doc()
    updates: list[bytes] = []
    good.observe(lambda event: updates.append(event.update))
    for step in range(2):
        good.get("elements", type=Map)[f"r{step}"] = _rect(10.0 * step, z=f"a{step}")
    bomb = y.deep_map_update(20_000, client=77)
    store = await open_store(db)
    try:
        rows = []
        for board, chain in (("bomb_checkpoint", [bomb, updates[1]]),
                             ("bomb_delta", [updates[0], bomb])):
            await store.create_board(board)
            rows += [{"board_id": board, "created_at": 1000.0 + len(rows), "kind": "named",
                      "label": "", "elements": 1, "authors": "[]", "checkpoint": int(not i),
                      "chain": i, "chain_bytes": len(data) if i else 0,
                      "base_bytes": len(chain[0]), "state_vector": b"\x00",
                      "data": zlib.compress(data, 1)} for i, data in enumerate(chain)]
        async with store.engine.begin() as conn:
            for row in rows:  # ids 1 to 4, in this order
                await conn.execute(insert(versions).values(**row))
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_version_holding_a_stored_time_bomb_is_refused_clearly_every_time(
        sb_server, tmp_path, caplog):
    """Version exports check the checkpoint and the deltas before pycrdt reads them, and a
    refused checkpoint is not remembered as checked: each export of such a version is a 500
    naming the reason in the log, the server stays up and good versions still export."""
    db = f"sqlite+aiosqlite:///{tmp_path}/bombs.db"
    await _seed_poisoned_versions(db)
    server = await sb_server(db=db)
    base = base_url(server)
    keeper = server.registry.versions
    for number, path in enumerate(("bomb_checkpoint/versions/1", "bomb_checkpoint/versions/2",
                                   "bomb_checkpoint/versions/2", "bomb_delta/versions/4",
                                   "bomb_delta/versions/4")):
        code, body = await fetch_json(f"{base}/api/boards/{path}/export.json")
        assert (code, body["detail"]) == (500, "this version cannot be rebuilt (see the server "
                                               "log)"), path
        if number == 2:
            assert keeper.checked.hits_total == 0  # the refused checkpoint: walked each time
    refused = [r.getMessage() for r in caplog.records
               if r.levelname == "ERROR" and "cannot be rebuilt" in r.getMessage()]
    assert len(refused) == 5 and all("shared types nested deeper than 100" in line
                                     for line in refused), refused
    assert keeper.checked.hits_total == 1  # version 4's good checkpoint, checked once
    good = await _export(base, "bomb_delta/versions/3")
    assert [e["id"] for e in good["elements"]] == ["r0"] and keeper.checked.hits_total == 2


@pytest.mark.gen_test(timeout=120)
async def test_a_poisoned_delta_is_refused_after_its_checkpoint_was_checked_and_read(
        sb_server, tmp_path):
    """The outcome of checking a checkpoint and its read for a JSON export are kept
    (``CheckedStates``, ``CheckpointReads``), yet a delta written by plain SQL after it is
    still checked: 500 each time, and the good version still exports the same bytes."""
    db = f"sqlite+aiosqlite:///{tmp_path}/bombs.db"
    await _seed_poisoned_versions(db)
    server = await sb_server(db=db)
    url = f"{base_url(server)}/api/boards/bomb_delta/versions"
    first = await fetch(f"{url}/3/export.json")
    assert first.code == 200
    for _ in range(2):
        code, body = await fetch_json(f"{url}/4/export.json")
        assert (code, body["detail"]) == (500, "this version cannot be rebuilt (see the server "
                                               "log)")
    again = await fetch(f"{url}/3/export.json")
    assert again.code == 200 and again.body == first.body
    keeper = server.registry.versions
    assert keeper.checked.hits_total == 3 and keeper.reads.hits_total == 1


def _checkpoint_marks(path) -> dict[int, bytes | None]:
    """``board_versions.checked`` of each checkpoint row, read straight from the file."""
    with sqlite3.connect(path) as connection:
        return dict(connection.execute(
            "SELECT id, checked FROM board_versions WHERE checkpoint = 1 ORDER BY id"))


async def _marked_board(sb_server, yclient, db: str, path, board: str):
    """A server on ``db`` with one board of three rectangles and a named version of it (a
    checkpoint), once the writer has checked and marked that checkpoint."""
    server = await sb_server(db=db)
    alice = await yclient(server, board)

    def draw(doc) -> None:
        for i in range(3):
            doc.get("elements", type=Map)[f"r{i}"] = _rect(10.0 * i, z=f"a{i}")

    await alice.edit(draw)
    await _server_caught_up(server, alice, board)
    saved = await _save(base_url(server), board, "marked")
    await wait_until(lambda: _checkpoint_marks(path).get(saved["id"]) is not None, 120,
                     "the writer to mark the checkpoint")
    alice.close()
    return server, saved["id"]


@pytest.mark.gen_test(timeout=240)
async def test_the_first_export_after_a_restart_trusts_the_mark_kept_with_the_checkpoint(
        sb_server, yclient, tmp_path):
    """The writer checks a checkpoint it records and keeps the outcome with the row: the
    first export, before and after a restart, walks nothing (``checks_total`` stays 0). A
    row whose mark was lost (written before marks existed) is checked at its first export,
    marked then, and not checked again after the next restart."""
    path = tmp_path / "marks.db"
    db = f"sqlite+aiosqlite:///{path}"
    first, vid = await _marked_board(sb_server, yclient, db, path, "marked")
    wanted = await _export(base_url(first), f"marked/versions/{vid}")
    assert [e["id"] for e in wanted["elements"]] == ["r0", "r1", "r2"]
    assert (first.registry.versions.checked.checks_total,
            first.registry.versions.checked.marks_trusted_total) == (0, 1)
    await first.stop()
    second = await sb_server(db=db)
    assert await _export(base_url(second), f"marked/versions/{vid}") == wanted
    assert (second.registry.versions.checked.checks_total,
            second.registry.versions.checked.marks_trusted_total) == (0, 1)
    await second.stop()

    with sqlite3.connect(path) as connection:  # as a row of the previous release
        connection.execute("UPDATE board_versions SET checked = NULL")
    third = await sb_server(db=db)
    assert await _export(base_url(third), f"marked/versions/{vid}") == wanted
    assert third.registry.versions.checked.checks_total == 1
    assert _checkpoint_marks(path)[vid] is not None
    await third.stop()
    fourth = await sb_server(db=db)
    assert await _export(base_url(fourth), f"marked/versions/{vid}") == wanted
    assert (fourth.registry.versions.checked.checks_total,
            fourth.registry.versions.checked.marks_trusted_total) == (0, 1)


@pytest.mark.gen_test(timeout=240)
async def test_a_checkpoint_changed_in_the_database_after_it_was_marked_is_checked_again(
        sb_server, yclient, tmp_path, caplog):
    """A marked checkpoint whose bytes are replaced by plain SQL (a time bomb, the mark
    left as it was) is walked again and refused (500, the reason logged), on every export;
    a mark whose depths were altered (the good bytes kept) vouches for nothing either: the
    checkpoint is walked again and exports as before."""
    path = tmp_path / "tampered.db"
    db = f"sqlite+aiosqlite:///{path}"
    first, vid = await _marked_board(sb_server, yclient, db, path, "tampered")
    wanted = await _export(base_url(first), f"tampered/versions/{vid}")
    await first.stop()
    with sqlite3.connect(path) as connection:
        good_data, mark = connection.execute(
            "SELECT data, checked FROM board_versions WHERE id = ?", (vid,)).fetchone()
        connection.execute("UPDATE board_versions SET data = ? WHERE id = ?",
                           (zlib.compress(y.deep_map_update(20_000, client=77), 1), vid))
    second = await sb_server(db=db)
    for _ in range(2):
        code, body = await fetch_json(
            f"{base_url(second)}/api/boards/tampered/versions/{vid}/export.json")
        assert (code, body["detail"]) == (500, "this version cannot be rebuilt (see the "
                                               "server log)")
    keeper = second.registry.versions.checked
    assert (keeper.checks_total, keeper.marks_trusted_total, keeper.hits_total) == (2, 0, 0)
    refused = [r.getMessage() for r in caplog.records
               if r.levelname == "ERROR" and "cannot be rebuilt" in r.getMessage()]
    assert len(refused) == 2 and all("shared types nested deeper than 100" in line
                                     for line in refused), refused
    assert _checkpoint_marks(path)[vid] == mark  # a refused checkpoint is not marked
    await second.stop()

    forged = mark[:-1] + bytes([mark[-1] ^ 1])  # the depths altered, the digest kept
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE board_versions SET data = ?, checked = ? WHERE id = ?",
                           (good_data, forged, vid))
    third = await sb_server(db=db)
    assert await _export(base_url(third), f"tampered/versions/{vid}") == wanted
    assert (third.registry.versions.checked.checks_total,
            third.registry.versions.checked.marks_trusted_total) == (1, 0)
