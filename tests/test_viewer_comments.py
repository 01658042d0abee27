"""Comments from view-only links (issue 20), enforced by the server: with
``meta.commentsForViewers`` off a viewer's comment is dropped; with it on, a viewer's update is
applied only if every struct and deletion lies in the comments map, and anything else closes
that connection with 4403 and stores nothing. Sent as raw updates by stock pycrdt clients."""

from __future__ import annotations

import pytest
from pycrdt import Array, Doc, Map, Text

from backend.protocol import CloseCode
from tests.test_access import new_board, ws
from tests.yclient import YClient


def comments(doc: Doc) -> Map:
    return doc.get("comments", type=Map)


def reply(text: str):
    """A change appending a message to thread ``t1``."""
    def change(doc: Doc) -> None:
        comments(doc)["t1"]["messages"].append(Map({"id": text[:8], "author": "Vic",
                                                     "text": Text(text)}))
    return change


def server_messages(server, board: str) -> list[str]:
    thread = comments(server.registry.rooms[board].document.doc)["t1"]
    return [str(message["text"]) for message in thread["messages"]]


@pytest.mark.gen_test(timeout=60)
async def test_viewers_comment_only_when_the_board_allows_it_and_only_comments(sb_server):
    server = await sb_server(auth="token")
    links = await new_board(server)
    board = links["id"]
    editor = await YClient(ws(server, board, links["editToken"])).sync()
    clients = [editor]

    async def viewer() -> YClient:
        client = await YClient(ws(server, board, links["viewToken"])).sync()
        clients.append(client)
        return client

    try:
        def setup(doc: Doc) -> None:
            doc.get("elements", type=Map)["shape"] = Map({"type": "rect", "x": 1})
            comments(doc)["t1"] = Map({"x": 1, "y": 2, "messages": Array([
                Map({"id": "m1", "author": "Ann", "text": Text("first")})])})
        await editor.edit(setup)
        room = server.registry.rooms[board]
        await editor.wait_for(lambda: "t1" in comments(room.document.doc), what="thread stored")

        # Off (the default): the viewer's reply is dropped, the connection stays.
        vic = await viewer()
        await vic.edit(reply("dropped reply"))
        await vic.wait_for(lambda: room.dropped_viewer_edits == 1, what="reply dropped")
        assert server_messages(server, board) == ["first"] and not vic.closed.is_set()

        # On: replies, an edit of a message, a deletion and a new thread all land.
        await editor.edit(lambda doc: doc.get("meta", type=Map).__setitem__(
            "commentsForViewers", True))
        await editor.wait_for(room.document.viewers_may_comment, what="setting stored")
        una = await viewer()
        await una.edit(reply("viewer reply"))
        await una.edit(lambda doc: comments(doc)["t1"]["messages"][0]["text"].insert(5, "!"))
        await una.edit(lambda doc: comments(doc).__setitem__(
            "t2", Map({"x": 5, "messages": Array()})))
        await una.edit(lambda doc: comments(doc).pop("t2"))
        await editor.wait_for(lambda: server_messages(server, board) == ["first!", "viewer reply"]
                              and len(comments(editor.doc)["t1"]["messages"]) == 2
                              and "t2" not in comments(room.document.doc)
                              and room.size_estimate > 0, what="viewer comments applied")
        assert not una.closed.is_set()

        # Anything outside the comments map closes with 4403, and none of it is stored:
        # a new element, a mixed update (comment + meta), a deletion of an element.
        attempts = [
            lambda doc: doc.get("elements", type=Map).__setitem__("vandal", Map({"type": "rect"})),
            lambda doc: (reply("mixed")(doc),
                         doc.get("meta", type=Map).__setitem__("commentsForViewers", False)),
            lambda doc: doc.get("elements", type=Map).pop("shape"),
        ]
        for attempt in [None, *attempts[1:]]:
            client = una if attempt is None else await viewer()
            await client.edit(attempts[0] if attempt is None else attempt)
            assert await client.wait_closed() == CloseCode.WS_4403_FORBIDDEN
            assert "comments only" in client.close_reason
        await server.writer.flush()
        document = room.document.doc
        assert set(document.get("elements", type=Map).keys()) == {"shape"}
        assert room.document.viewers_may_comment()
        assert server_messages(server, board) == ["first!", "viewer reply"]
        assert set(editor.snapshot()) == {"shape"} and not editor.closed.is_set()
    finally:
        for client in clients:
            client.close()


@pytest.mark.gen_test(timeout=60)
async def test_viewer_comments_survive_a_restart(sb_server, tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path}/restart.db"
    server = await sb_server(auth="token", db=db)
    links = await new_board(server)
    board = links["id"]
    editor = await YClient(ws(server, board, links["editToken"])).sync()

    def setup(doc: Doc) -> None:
        doc.get("meta", type=Map)["commentsForViewers"] = True
        comments(doc)["t1"] = Map({"messages": Array()})
    await editor.edit(setup)
    room = server.registry.rooms[board]
    await editor.wait_for(room.document.viewers_may_comment, what="setting stored")
    vic = await YClient(ws(server, board, links["viewToken"])).sync()
    await vic.edit(reply("see you tomorrow"))
    await editor.wait_for(lambda: server_messages(server, board) == ["see you tomorrow"],
                          what="reply applied")
    for client in (editor, vic):
        client.close()
    await server.stop()

    again = await sb_server(auth="token", db=db)
    reader = await YClient(ws(again, board, links["viewToken"])).sync()
    try:
        thread = comments(reader.doc)["t1"]
        assert [str(m["text"]) for m in thread["messages"]] == ["see you tomorrow"]
    finally:
        reader.close()
