"""Team spaces against a real server: tokens on every endpoint, search of text typed a moment
ago, thumbnails that follow edits, trash and restore, rename/duplicate/move/add/rotate, and two
processes on one PostgreSQL database (backend/space_handlers.py, space_indexer.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.parse
import urllib.request

import pytest
from pycrdt import Map, Text
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from backend.export.__main__ import main as export_main
from backend.store.spaces import SpaceStore
from backend.store.store import open_store
from tests.services import reachable
from tests.upgrade.fixture_data import create_pg_database, drop_pg_database
from tests.yclient import YClient

# Indexing and thumbnails run every 50 ms here (1 s by default), so the waits stay short.
FAST = {"auth": "token", "space_index_interval_s": 0.05, "thumbnail_quiet_s": 0.2}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def call(server, method: str, path: str, token: str | None = None,
               body: dict | None = None) -> tuple[int, dict | bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    elif method in ("POST", "PATCH"):
        data = b""
    try:
        response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{server.port}{path}",
                                                 method=method, headers=headers, body=data,
                                                 allow_nonstandard_methods=True)
    except HTTPClientError as exc:
        response = exc.response
    if response.headers.get("Content-Type", "").startswith("image/"):
        return response.code, response.body
    return response.code, (json.loads(response.body) if response.body else {})


async def new_space(server, name: str = "Team") -> dict:
    code, space = await call(server, "POST", "/api/spaces", body={"name": name})
    assert code == 201, space
    return space


async def new_board(server, space: dict, title: str = "") -> dict:
    code, board = await call(server, "POST", "/api/boards", space["editToken"],
                             {"space": space["id"], "title": title})
    assert code == 201, board
    return board


async def listing(server, space: dict, token: str | None = None, **query: str) -> list[dict]:
    path = f"/api/spaces/{space['id']}/boards?{urllib.parse.urlencode(query)}"
    code, body = await call(server, "GET", path, token or space["viewToken"])
    assert code == 200, body
    return body["boards"]


async def until(predicate, what: str, timeout_s: float = 20):
    """Await ``predicate()`` (a coroutine function) until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def board_socket(server, board: dict, token: str) -> YClient:
    return YClient(f"ws://127.0.0.1:{server.port}/ws/{board['id']}?token={token}")


def add_sticky(element_id: str, words: str):
    def change(doc) -> None:
        doc.get("elements", type=Map)[element_id] = Map(
            {"type": "sticky", "x": 10.0, "y": 10.0, "w": 200.0, "h": 200.0, "z": 1.0,
             "fill": "#ffec99", "text": Text(words)})
    return change


@pytest.mark.gen_test(timeout=60)
async def test_every_space_endpoint_enforces_space_tokens_on_the_server(sb_server):
    server = await sb_server(**FAST)
    space, other = await new_space(server), await new_space(server, "Other")
    board = await new_board(server, space, "Plan")
    trashed = await new_board(server, space, "Old")
    assert (await call(server, "DELETE", f"/api/spaces/{space['id']}/boards/{trashed['id']}",
                       space["editToken"]))[0] == 200
    loose_code, loose = await call(server, "POST", "/api/boards")
    assert loose_code == 201
    forged = space["editToken"][:-4] + ("AAAA" if not space["editToken"].endswith("AAAA")
                                        else "BBBB")
    sid, bid = space["id"], board["id"]
    view_endpoints = [
        ("GET", f"/api/spaces/{sid}", None),
        ("GET", f"/api/spaces/{sid}/boards?q=plan&sort=title", None),
        ("GET", f"/api/spaces/{sid}/boards?trash=1", None),
        ("GET", f"/api/spaces/{sid}/boards/{bid}/thumbnail.png", None),
        ("GET", f"/api/spaces/{sid}/boards/{bid}/links", None),
        ("GET", f"/api/spaces/{sid}/boards/{bid}", None),  # the board page's link back
    ]
    edit_endpoints = [
        ("PATCH", f"/api/spaces/{sid}", {"name": "Renamed"}),
        ("POST", "/api/boards", {"space": sid}),
        ("POST", f"/api/spaces/{sid}/boards", {"board": loose["id"],
                                               "boardToken": loose["editToken"]}),
        ("PATCH", f"/api/spaces/{sid}/boards/{bid}", {"title": "New title"}),
        ("POST", f"/api/spaces/{sid}/boards/{bid}/duplicate", None),
        ("POST", f"/api/spaces/{sid}/boards/{bid}/rotate", None),
        ("POST", f"/api/spaces/{sid}/boards/{trashed['id']}/restore", None),
        ("POST", f"/api/spaces/{sid}/boards/{bid}/move", {"space": other["id"],
                                                           "token": other["editToken"]}),
        ("DELETE", f"/api/spaces/{sid}/boards/{bid}", None),
        ("POST", f"/api/spaces/{sid}/rotate", None),
    ]
    wrong = {None: 401, forged: 401, other["editToken"]: 403, other["viewToken"]: 403,
             board["editToken"]: 401}  # a board token is no space token (another key)
    for method, path, body in view_endpoints + edit_endpoints:
        for token, status in wrong.items():
            code, answer = await call(server, method, path, token, body)
            assert code == status, (method, path, token, answer)
    for method, path, body in edit_endpoints:
        code, answer = await call(server, method, path, space["viewToken"], body)
        assert (code, answer["detail"]) == (403, "this space token is view-only"), (path,
                                                                                  answer)
    # Rotating the space's links revokes both old tokens at once.
    code, rotated = await call(server, "POST", f"/api/spaces/{sid}/rotate", space["editToken"])
    assert code == 200 and rotated["editToken"] != space["editToken"]
    for token in (space["editToken"], space["viewToken"]):
        for method, path, body in view_endpoints + edit_endpoints:
            code, answer = await call(server, method, path, token, body)
            assert code == 403 and "revoked" in answer["detail"], (method, path, answer)
    # A space id that does not exist is 404 whatever the token; the move needs the other
    # space's edit token, not its view token.
    assert (await call(server, "GET", "/api/spaces/AAAAAAAAAAAAAAAAAAAAAA",
                       rotated["editToken"]))[0] == 404
    code, answer = await call(server, "POST", f"/api/spaces/{sid}/boards/{bid}/move",
                              rotated["editToken"], {"space": other["id"],
                                                     "token": other["viewToken"]})
    assert code == 403
    # With the current tokens everything is allowed (the view token only reads).
    for method, path, body in view_endpoints[:3] + view_endpoints[4:]:
        assert (await call(server, method, path, rotated["viewToken"], body))[0] == 200
    assert (await call(server, "GET", f"/api/spaces/{sid}/boards/{bid}",
                       rotated["viewToken"]))[1] == {"id": bid, "space": sid,
                                                     "spaceName": "Team", "role": "view"}
    assert (await call(server, "GET", f"/api/spaces/{sid}/boards/{trashed['id']}",
                       rotated["viewToken"]))[0] == 404  # in the trash: no way back shown
    for method, path, body in edit_endpoints[:-2]:  # the last move takes the board away
        code, answer = await call(server, method, path, rotated["editToken"], body)
        assert code in ((200, 201) if method == "POST" else (200,)), (method, path, answer)
    assert bid in [b["id"] for b in await listing(server, other)]


@pytest.mark.gen_test(timeout=60)
async def test_search_finds_a_word_typed_into_a_sticky_note_a_moment_ago(sb_server):
    server = await sb_server(**FAST)
    space, other = await new_space(server), await new_space(server, "Other")
    board = await new_board(server, space, "Roadmap")
    await new_board(server, space, "Retro")
    unrelated = await new_board(server, other, "Kumquat planning")
    client = await board_socket(server, board, board["editToken"]).sync()
    try:
        await client.edit(add_sticky("n1", "Ship the Kumquat release"))

        async def found():
            return await listing(server, space, q="kumq")
        hits = await until(found, "the sticky's word in the search")
        assert [hit["id"] for hit in hits] == [board["id"]]
        # Every word must match, each as a prefix; the title is searched too; another
        # space's board with the same word is not this space's.
        assert [b["id"] for b in await listing(server, space, q="roadm release")] == \
            [board["id"]]
        assert await listing(server, space, q="kumquat nothing") == []
        assert [b["id"] for b in await listing(server, other, q="kumquat")] == \
            [unrelated["id"]]
        # Punctuation and FTS syntax are only separators, never query syntax.
        assert [b["id"] for b in await listing(server, space, q='"kumquat" OR *')] == []
        assert [b["id"] for b in await listing(server, space, q='kumquat*)(')] == \
            [board["id"]]
        # The last editor is the name the editing client shows in its presence.
        await client.set_presence(client.doc.client_id, 1, {"user": {"name": "Ada"}})
        await client.edit(add_sticky("n2", "zanzibar"))

        async def edited_by_ada():
            hits = await listing(server, space, q="zanzibar")
            return hits and hits[0]["lastEditor"] == "Ada" and hits
        hits = await until(edited_by_ada, "the last editor's name")
        assert hits[0]["live"] == 1
    finally:
        client.close()


@pytest.mark.gen_test(timeout=90)
async def test_thumbnails_appear_and_follow_edits(sb_server):
    server = await sb_server(**FAST)
    space = await new_space(server)
    board = await new_board(server, space, "Sketch")
    path = f"/api/spaces/{space['id']}/boards/{board['id']}/thumbnail.png"

    async def thumbnail_after(after: float):
        boards = await listing(server, space)
        at = boards[0]["thumbnailAt"]
        return at is not None and at > after and at
    first_at = await until(lambda: thumbnail_after(0), "a first thumbnail", 60)
    code, first = await call(server, "GET", path, space["viewToken"])
    assert code == 200 and first.startswith(PNG_SIGNATURE)
    client = await board_socket(server, board, board["editToken"]).sync()
    try:
        await client.edit(add_sticky("n1", "a note"))
    finally:
        client.close()
    await until(lambda: thumbnail_after(first_at), "a thumbnail of the edited board", 60)
    code, second = await call(server, "GET", path, space["viewToken"])
    assert code == 200 and second.startswith(PNG_SIGNATURE) and second != first
    assert server.spaces.thumbnails_total >= 2


@pytest.mark.gen_test(timeout=60)
async def test_delete_trash_restore_keeps_every_element_and_the_stored_history(sb_server):
    server = await sb_server(**FAST)
    space = await new_space(server)
    board = await new_board(server, space, "Keep me")
    client = await board_socket(server, board, board["editToken"]).sync()
    for n in range(5):
        await client.edit(add_sticky(f"n{n}", f"note {n}"))
    elements = client.snapshot()

    async def all_applied():
        room = server.registry.rooms.get(board["id"])
        return room is not None and len(room.document.doc.get("elements", type=Map)) == 5
    await until(all_applied, "the five notes on the server")
    await server.writer.flush()
    info = await server.store.board_info(board["id"])
    stored = await server.store.load_updates(board["id"])
    sid, bid = space["id"], board["id"]
    code, _ = await call(server, "DELETE", f"/api/spaces/{sid}/boards/{bid}", space["editToken"])
    assert code == 200
    assert await client.wait_closed() == 4403  # the open socket is refused at once
    assert await listing(server, space) == []
    trash = await listing(server, space, trash="1")
    assert [b["id"] for b in trash] == [bid]
    assert (await call(server, "GET", f"/api/spaces/{space['id']}/boards/{bid}/links",
                       space["editToken"]))[0] == 404  # no links while in the trash
    # The board's old links no longer work, over HTTP and WebSocket.
    assert (await call(server, "GET", f"/api/boards/{bid}", board["viewToken"]))[0] == 403
    with pytest.raises(HTTPClientError) as refused:
        await board_socket(server, board, board["editToken"]).connect()
    assert refused.value.code == 403
    # Not editable in the trash; restored, it is listed again with working links.
    assert (await call(server, "PATCH", f"/api/spaces/{sid}/boards/{bid}", space["editToken"],
                       {"title": "x"}))[0] == 404
    code, restored = await call(server, "POST", f"/api/spaces/{sid}/boards/{bid}/restore",
                                space["editToken"])
    assert code == 200
    assert [b["id"] for b in await listing(server, space)] == [bid]
    assert await server.store.load_updates(bid) == stored  # the log, row for row
    assert (await server.store.board_info(bid)).update_count == info.update_count
    back = await board_socket(server, board, restored["editToken"]).sync()
    try:
        assert back.snapshot() == elements
    finally:
        back.close()
    # After the trash's 30 days a trashed board is deleted for good.
    await call(server, "DELETE", f"/api/spaces/{sid}/boards/{bid}", space["editToken"])
    assert await server.spaces.purge_trash(time.time() + 29 * 86400) == []
    assert await server.spaces.purge_trash(time.time() + 31 * 86400) == [bid]
    assert await server.store.board_info(bid) is None
    assert await listing(server, space, trash="1") == []


@pytest.mark.gen_test(timeout=60)
async def test_rename_duplicate_move_add_and_rotate_a_board(sb_server):
    server = await sb_server(**FAST)
    space, other = await new_space(server), await new_space(server, "Other")
    board = await new_board(server, space, "Draft")
    sid, bid = space["id"], board["id"]
    client = await board_socket(server, board, board["editToken"]).sync()
    try:
        await client.edit(add_sticky("n1", "hello"))
        # Rename goes through the board's content: the open client sees the new title.
        code, _ = await call(server, "PATCH", f"/api/spaces/{sid}/boards/{bid}",
                             space["editToken"], {"title": "Final plan"})
        assert code == 200
        meta = client.doc.get("meta", type=Map)
        await client.wait_for(lambda: meta.get("title") == "Final plan", what="new title")
        assert (await listing(server, space))[0]["title"] == "Final plan"
        code, copy = await call(server, "POST", f"/api/spaces/{sid}/boards/{bid}/duplicate",
                                space["editToken"])
        assert code == 201 and copy["title"] == "Final plan (copy)"
        twin = await board_socket(server, copy, copy["editToken"]).sync()
        try:
            assert twin.snapshot() == client.snapshot()
            assert twin.doc.get("meta", type=Map).get("title") == "Final plan (copy)"
        finally:
            twin.close()
        # Rotating the board's links closes sockets opened with the old token.
        code, fresh = await call(server, "POST", f"/api/spaces/{sid}/boards/{bid}/rotate",
                                 space["editToken"])
        assert code == 200 and fresh["editToken"] != board["editToken"]
        assert await client.wait_closed() == 4403
        links = f"/api/spaces/{sid}/boards/{bid}/links"
        code, edit_links = await call(server, "GET", links, space["editToken"])
        assert code == 200 and edit_links["editToken"] == fresh["editToken"]
        code, view_links = await call(server, "GET", links, space["viewToken"])
        assert code == 200 and "editToken" not in view_links and "editUrl" not in view_links
        assert view_links["viewToken"] == fresh["viewToken"]
    finally:
        client.close()
    # Move it to the other space (its edit token in the body).
    code, _ = await call(server, "POST", f"/api/spaces/{sid}/boards/{bid}/move",
                         space["editToken"], {"space": other["id"], "token": other["editToken"]})
    assert code == 200
    assert [b["id"] for b in await listing(server, other)] == [bid]
    assert [b["id"] for b in await listing(server, space)] == [copy["id"]]
    # An existing board joins with its own edit token (not its view token), only once.
    _, loose = await call(server, "POST", "/api/boards")
    path = f"/api/spaces/{sid}/boards"
    code, _ = await call(server, "POST", path, space["editToken"],
                         {"board": loose["id"], "boardToken": loose["viewToken"]})
    assert code == 403
    code, _ = await call(server, "POST", path, space["editToken"],
                         {"board": loose["id"], "boardToken": loose["editToken"]})
    assert code == 200
    code, _ = await call(server, "POST", f"/api/spaces/{other['id']}/boards",
                         other["editToken"], {"board": loose["id"],
                                              "boardToken": loose["editToken"]})
    assert code == 409
    assert {b["id"] for b in await listing(server, space, sort="created")} == \
        {copy["id"], loose["id"]}


needs_pg = pytest.mark.skipif(not reachable(5432), reason="no PostgreSQL on 127.0.0.1:5432")


@needs_pg
def test_two_processes_on_postgresql_show_the_same_list(server_process, tmp_path):
    name, url = create_pg_database()
    try:
        options = {"db": url, "auth": "token", "secret": "two-process-secret",
                   "space_index_interval_s": "0.05"}
        first = server_process(**options)
        second = server_process(**options)
        space = _post(first.base_url + "/api/spaces", None, {"name": "Shared"})
        for n, server in enumerate((first, second, first)):
            _post(server.base_url + "/api/boards", space["editToken"],
                  {"space": space["id"], "title": f"Board {n}"})
        # Each process answers from the database: both lists are the same at once, titles
        # included (a title is stored before its board is listed).
        lists = [_get(f"{server.base_url}/api/spaces/{space['id']}/boards?sort=title",
                      space["viewToken"]) for server in (first, second)]
        titles = [[b["title"] for b in listed["boards"]] for listed in lists]
        assert titles[0] == titles[1] == ["Board 0", "Board 1", "Board 2"]
        assert [b["id"] for b in lists[0]["boards"]] == [b["id"] for b in lists[1]["boards"]]
        # A rename through one process is listed by the other.
        board = lists[0]["boards"][0]
        request = urllib.request.Request(
            f"{second.base_url}/api/spaces/{space['id']}/boards/{board['id']}",
            json.dumps({"title": "Alpha"}).encode(),
            {"Content-Type": "application/json",
             "Authorization": f"Bearer {space['editToken']}"}, method="PATCH")
        urllib.request.urlopen(request, timeout=30).close()
        listed = _get(f"{first.base_url}/api/spaces/{space['id']}/boards?sort=title",
                      space["viewToken"])
        assert [b["title"] for b in listed["boards"]] == ["Alpha", "Board 1", "Board 2"]
    finally:
        for process in (locals().get("first"), locals().get("second")):
            if process is not None:
                process.stop()
        drop_pg_database(name)


@needs_pg
def test_postgresql_search_of_one_board_reads_the_gin_index_not_every_row():
    """The statement the server sends for a search, EXPLAINed with its bound parameters
    (the plan asyncpg's first executions get) and as a generic plan (the one a prepared
    statement may switch to): a search matching one board of 200 reads it from the GIN
    index. With revision 0006's fastupdate, every row the indexer wrote sat in the index's
    pending list and the planner scanned every board_text row instead (revision
    0007_search_no_pending_list)."""
    name, url = create_pg_database()
    try:
        plans = asyncio.run(_search_plans(url, "unique17marker", boards=200))
    finally:
        drop_pg_database(name)
    for mode, plan in plans.items():
        assert "Bitmap Index Scan on ix_board_text_tsv" in plan, (mode, plan)
        assert "Seq Scan on board_text" not in plan, (mode, plan)


async def _search_plans(url: str, query: str, boards: int) -> dict[str, str]:
    """Index ``boards`` boards of 2-3 KB of random words (as the indexer stores them, no
    VACUUM since), then EXPLAIN the listing of ``query``: {"custom"|"generic": plan}."""
    store = await open_store(url)
    try:
        spaces = SpaceStore(store.engine)
        space_id = "S" * 22
        await spaces.create_space(space_id, "Plans")
        rng = random.Random(5)
        words = ["".join(rng.choice(("ka", "lo", "mi", "ra", "sta", "vo")) for _ in range(3))
                 for _ in range(300)]
        for n in range(boards):
            board_id = f"plan-{n}"
            await store.create_board(board_id)
            await spaces.add_board(space_id, board_id, f"Board {n}")
            body = f"Board {n} unique{n}marker " + " ".join(rng.choices(words, k=400))
            info = await store.board_info(board_id)
            await spaces.save_index(board_id, f"Board {n}", body, info.updated_at)
        compiled = spaces.listing(space_id, query, "edited", False).compile(
            dialect=store.engine.dialect)
        values = tuple(compiled.params[key] for key in compiled.positiontup)
        async with store.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            custom = await conn.exec_driver_sql(f"EXPLAIN {compiled}", values)
            plans = {"custom": "\n".join(row[0] for row in custom)}
            await conn.exec_driver_sql(f"PREPARE listing AS {compiled}")
            await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            arguments = ", ".join(
                f"'{value}'" if isinstance(value, str) else str(value) for value in values)
            generic = await conn.exec_driver_sql(f"EXPLAIN EXECUTE listing({arguments})")
            plans["generic"] = "\n".join(row[0] for row in generic)
        return plans
    finally:
        await store.close()


def _post(url: str, token: str | None, body: dict) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_export_script_backs_up_a_whole_space_from_the_server_or_the_database(
        server_process, tmp_path, capsys):
    server = server_process(auth="token", db=f"sqlite+aiosqlite:///{tmp_path}/space.db")
    space = _post(server.base_url + "/api/spaces", None, {"name": "Backup"})
    boards = [_post(server.base_url + "/api/boards", space["editToken"],
                    {"space": space["id"], "title": title}) for title in ("One", "Two", "Gone")]
    note = {"schemaVersion": 1, "meta": {"title": "One"}, "elements": [
        {"id": "n1", "type": "sticky", "x": 0, "y": 0, "w": 100, "h": 100, "text": "backed up"}]}
    _post(f"{server.base_url}/api/boards/{boards[0]['id']}/import", boards[0]["editToken"], note)
    request = urllib.request.Request(
        f"{server.base_url}/api/spaces/{space['id']}/boards/{boards[2]['id']}", method="DELETE",
        headers={"Authorization": f"Bearer {space['editToken']}"})
    urllib.request.urlopen(request, timeout=30).close()
    for source in (["--server", server.base_url, "--token", space["viewToken"]],
                   ["--db", f"sqlite+aiosqlite:///{tmp_path}/space.db"]):
        out = tmp_path / source[0].strip("-")
        # The script's own main, in-process (tests/test_export_script.py runs it as a script).
        assert export_main([*source, "--space", space["id"], "--out-dir", str(out)]) == 0
        manifest = json.loads((out / f"space-{space['id']}.json").read_text())
        assert manifest["name"] == "Backup"
        assert [(b["title"], b["file"]) for b in manifest["boards"]] == [  # newest first
            ("Two", f"{boards[1]['id']}.json"), ("One", f"{boards[0]['id']}.json")]
        first = json.loads((out / f"{boards[0]['id']}.json").read_text())
        assert [e["text"] for e in first["elements"]] == ["backed up"]
        assert not (out / f"{boards[2]['id']}.json").exists()  # in the trash
    assert export_main(["--server", server.base_url, "--token", boards[0]["editToken"],
                        "--space", space["id"], "--out-dir", str(tmp_path / "no")]) == 1
    assert "server answered 401: invalid token signature" in capsys.readouterr().err
