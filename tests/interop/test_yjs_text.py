"""Interop on text: stock clients type into one note's Y.Text (UTF-16 positions) with
characters outside the BMP; every JS tab and the pycrdt view through the server agree."""

from __future__ import annotations

import pytest
from pycrdt import Map, Text

from tests.yclient import YClient


@pytest.mark.gen_test(timeout=60)
async def test_concurrent_typing_with_emoji_and_cjk_reads_the_same_in_yjs_and_pycrdt(
        server, node_client, board):
    a, b = await node_client(), await node_client()
    await a.connect_synced(server.ws_url, board)
    await b.connect_synced(server.ws_url, board)
    start = "héllo 👋"  # 8 UTF-16 units, 7 code points, 11 UTF-8 bytes
    await a.call("put_element", element="note", fields={"type": "sticky", "text": start})
    await b.wait_for(lambda s: s["maps"]["elements"].get("note", {}).get("text") == start,
                     what="B sees the note")

    await a.call("disconnect")
    await a.wait_for(lambda s: s["status"] == "disconnected", what="A offline")
    await a.call("type_text", element="note", index=8, text="🎨!")
    await b.call("type_text", element="note", index=0, text="日本 ")
    await b.call("type_text", element="note", index=9, text="🙂")  # just before 👋
    await a.call("connect_again")

    expected = "日本 héllo 🙂👋🎨!"
    for client, name in ((a, "A"), (b, "B")):
        await client.wait_for(lambda s: s["maps"]["elements"]["note"]["text"] == expected,
                              what=f"{name} has both typings in order")

    view = await YClient(f"{server.ws_url}/{board}").sync()
    try:
        note = view.doc.get("elements", type=Map)["note"]
        assert isinstance(note, Map)
        text = note["text"]
        assert isinstance(text, Text)
        assert str(text) == expected
    finally:
        view.close()
