"""FileSweeper: images no board names are deleted after the grace, never before (issue 18.14).

A real in-process server with its SQLite file, images uploaded over HTTP and image elements
written by a Yjs client; sweeps are run by the test with a chosen clock (``now``) so that a
week of grace passes in an instant.
"""

from __future__ import annotations

import hashlib
import time

import pytest
from pycrdt import Map

from backend.file_sweeper import file_ids_named
from tests.export_helpers import CYAN_PNG, base_url, fetch, fetch_json

GRACE_S = 3600.0


def png_variant(n: int) -> bytes:
    """A distinct PNG (the signature is what the upload checks)."""
    return CYAN_PNG + b"\0" * n


async def upload(server, board_id: str, data: bytes) -> str:
    code, answer = await fetch_json(f"{base_url(server)}/api/boards/{board_id}/files",
                                    method="POST", body=data,
                                    headers={"Content-Type": "image/png"})
    assert code == 201, answer
    return answer["fileId"]


async def stored(server, file_id: str) -> bool:
    return (await fetch(f"{base_url(server)}/api/files/{file_id}")).code == 200


async def place_image(client, element_id: str, file_id: str) -> None:
    def change(doc):
        doc.get("elements", type=Map)[element_id] = Map(
            {"type": "image", "fileId": file_id, "x": 0, "y": 0, "w": 10, "h": 10})
    await client.edit(change)


def test_file_ids_are_found_in_update_bytes_without_decoding():
    from pycrdt import Doc
    doc = Doc()
    file_id = hashlib.sha256(b"x").hexdigest()
    with doc.transaction():
        doc.get("elements", type=Map)["a"] = Map({"type": "image", "fileId": file_id})
        doc.get("elements", type=Map)["b"] = Map({"type": "text", "text": "not a file id"})
        doc.get("elements", type=Map)["c"] = Map({"type": "text", "text": "f" * 64})
    # Any 64-hex string counts: the search may keep a file longer, never delete a named one.
    assert file_ids_named([doc.get_update()]) == {file_id, "f" * 64}


@pytest.mark.gen_test(timeout=60)
async def test_unnamed_files_go_after_the_grace_and_named_or_in_flight_ones_stay(
        sb_server, yclient):
    server = await sb_server(file_grace_s=GRACE_S)
    sweeper = server.files
    await server.store.create_board("gallery")
    client = await yclient(server, "gallery")
    kept, dropped, in_flight = [await upload(server, "gallery", png_variant(i))
                                for i in range(3)]
    await place_image(client, "img1", kept)
    await client.wait_for(lambda: "img1" in server.registry.rooms["gallery"].document.doc.get(
        "elements", type=Map), what="element applied")
    t0 = time.time()
    assert await sweeper.sweep(now=t0) == []  # orphans are marked, nothing deleted yet
    # The in-flight upload's element arrives after that sweep, within the grace.
    await place_image(client, "img2", in_flight)
    await client.wait_for(lambda: "img2" in server.registry.rooms["gallery"].document.doc.get(
        "elements", type=Map), what="second element applied")
    assert await sweeper.sweep(now=t0 + GRACE_S + 1) == [dropped]
    assert await stored(server, kept) and await stored(server, in_flight)
    assert not await stored(server, dropped)

    # Deleting the element starts the grace; uploading the bytes again starts it over.
    def remove(doc):
        del doc.get("elements", type=Map)["img1"]
    await client.edit(remove)
    await client.wait_for(lambda: "img1" not in server.registry.rooms["gallery"].document.doc
                          .get("elements", type=Map), what="deletion applied")
    await server.registry.writer.flush()
    await server.store.compact("gallery")  # the log's deleted content no longer names it
    assert await sweeper.sweep(now=t0 + 2 * GRACE_S) == []
    assert await upload(server, "gallery", png_variant(0)) == kept
    assert await sweeper.sweep(now=t0 + 3 * GRACE_S + 10) == []
    assert await sweeper.sweep(now=t0 + 4 * GRACE_S + 20) == [kept]
    assert await stored(server, in_flight)


@pytest.mark.gen_test(timeout=60)
async def test_a_deleted_boards_images_are_collected_and_other_boards_keep_theirs(sb_server,
                                                                               yclient):
    server = await sb_server(file_grace_s=GRACE_S, admin_token="admin")
    for board in ("a", "b"):
        await server.store.create_board(board)
    shared = await upload(server, "a", png_variant(7))
    only_a = await upload(server, "a", png_variant(8))
    a, b = await yclient(server, "a"), await yclient(server, "b")
    await place_image(a, "i1", shared)
    await place_image(a, "i2", only_a)
    await place_image(b, "i1", shared)  # pasted into another board: same file id
    for client, board, count in ((a, "a", 2), (b, "b", 1)):
        await client.wait_for(lambda board=board, count=count: len(
            server.registry.rooms[board].document.doc.get("elements", type=Map)) == count,
            what="elements applied")
    t0 = time.time()
    assert await server.files.sweep(now=t0) == []
    a.close()
    await a.wait_closed()
    code = (await fetch(f"{base_url(server)}/api/boards/a", method="DELETE",
                        headers={"Authorization": "Bearer admin"})).code
    assert code == 204
    await server.files.sweep(now=t0 + 1)
    assert await server.files.sweep(now=t0 + GRACE_S + 2) == [only_a]
    assert await stored(server, shared)
