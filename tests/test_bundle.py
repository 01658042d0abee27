"""The bundle (backend/export/bundle.py): a board and its images in one file, restored on a
server with an empty database so that exporting it again gives the same bytes."""

from __future__ import annotations

import base64
import json

import pytest

from backend import import_board as importer
from backend.export import __main__ as exporter
from tests.excalidraw_embed import base_png
from tests.export_helpers import CYAN_PNG, base_url, every_element_board, fetch, fetch_json


@pytest.mark.gen_test(timeout=60)
async def test_bundle_restores_board_and_images_on_a_fresh_server_byte_for_byte(sb_server):
    first, fresh = await sb_server(), await sb_server()
    await fetch(f"{base_url(first)}/api/boards/orig/import", method="POST",
                body=json.dumps({"schemaVersion": 1, "meta": {}, "elements": []}))
    code, upload = await fetch_json(f"{base_url(first)}/api/boards/orig/files", method="POST",
                                    body=CYAN_PNG, headers={"Content-Type": "image/png"})
    board = {"schemaVersion": 1, **every_element_board(upload["fileId"])}
    await fetch(f"{base_url(first)}/api/boards/orig/import", method="POST",
                body=json.dumps(board))
    response = await fetch(f"{base_url(first)}/api/boards/orig/export.bundle")
    bundle = response.body
    assert response.headers["Content-Disposition"] == 'attachment; filename="orig.syncboard.json"'
    parsed = json.loads(bundle)
    assert parsed["type"] == "syncboard-bundle" and list(parsed["files"]) == [upload["fileId"]]
    assert await fresh.store.load_file(upload["fileId"]) is None
    # The file name says nothing: the server recognises the bundle by its content.
    code, answer = await fetch_json(f"{base_url(fresh)}/api/boards/restored/import",
                                    method="POST", body=bundle)
    assert code == 200 and answer["kind"] == "bundle", answer
    assert answer["report"] == "8 elements imported from a syncboard bundle"
    again = (await fetch(f"{base_url(fresh)}/api/boards/restored/export.bundle")).body
    assert again == bundle
    image = await fetch(f"{base_url(fresh)}/api/files/{upload['fileId']}")
    assert image.code == 200 and image.body == CYAN_PNG


def test_whole_server_backup_by_script_restores_into_an_empty_database(tmp_path, capsys):
    source, target = f"sqlite+aiosqlite:///{tmp_path}/a.db", f"sqlite+aiosqlite:///{tmp_path}/b.db"
    seed = tmp_path / "seed.json"
    file_id = "87d21ff5ceb0f9140c70642949986f381d3cd49a50edfe92b4016781177648c2"
    seed.write_text(json.dumps({
        "type": "syncboard-bundle", "version": 1,
        "board": {"schemaVersion": 1, **every_element_board(file_id)},
        "files": {file_id: {"mime": "image/png", "data": _b64(CYAN_PNG)}}}))
    for board in ("alpha", "beta"):
        assert importer.main([str(seed), "--db", source, "--board", board]) == 0
    assert exporter.main(["--db", source, "--all", "--format", "bundle", "--quiet",
                          "--out-dir", str(tmp_path / "backup")]) == 0
    backups = sorted((tmp_path / "backup").iterdir())
    assert [p.name for p in backups] == ["alpha.syncboard.json", "beta.syncboard.json"]
    capsys.readouterr()
    for path in backups:
        assert importer.main([str(path), "--db", target,
                              "--board", path.name.split(".")[0]]) == 0
        assert "8 elements imported from a syncboard bundle" in capsys.readouterr().err
    assert exporter.main(["--db", target, "--all", "--format", "bundle", "--quiet",
                          "--out-dir", str(tmp_path / "again")]) == 0
    for path in backups:
        restored = (tmp_path / "again" / path.name).read_bytes()
        assert restored == path.read_bytes()
        assert json.loads(restored)["files"][file_id]["data"] == _b64(CYAN_PNG)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.slow
@pytest.mark.gen_test(timeout=60)
async def test_a_selections_or_frames_bundle_carries_only_the_images_they_show(sb_server):
    server, fresh = await sb_server(), await sb_server()
    base = base_url(server)
    await fetch(f"{base}/api/boards/parts/import", method="POST",
                body=json.dumps({"schemaVersion": 2, "meta": {}, "elements": []}))
    uploads = []
    for picture in (CYAN_PNG, base_png()):
        code, upload = await fetch_json(f"{base}/api/boards/parts/files", method="POST",
                                        body=picture, headers={"Content-Type": "image/png"})
        assert code == 201
        uploads.append(upload["fileId"])
    cyan, grey = uploads
    board = {"schemaVersion": 2, "meta": {}, "elements": [
        {"id": "loose", "type": "image", "x": 0, "y": 0, "w": 40, "h": 40, "z": "a0",
         "fileId": cyan},
        {"id": "box", "type": "rect", "x": 60, "y": 0, "w": 40, "h": 40, "z": "a1"},
        {"id": "frame1", "type": "frame", "x": 0, "y": 100, "w": 200, "h": 100, "z": "a2",
         "name": "Held"},
        {"id": "held", "type": "image", "x": 10, "y": 110, "w": 40, "h": 40, "z": "a3",
         "fileId": grey, "frameId": "frame1"}]}
    code, _ = await fetch_json(f"{base}/api/boards/parts/import", method="POST",
                               body=json.dumps(board))
    assert code == 200
    whole = json.loads((await fetch(f"{base}/api/boards/parts/export.bundle")).body)
    assert sorted(whole["files"]) == sorted(uploads)
    selected = await fetch(f"{base}/api/boards/parts/export.bundle", method="POST",
                           body=json.dumps({"ids": ["loose", "box"]}),
                           headers={"Content-Type": "application/json"})
    parsed = json.loads(selected.body)
    assert [e["id"] for e in parsed["board"]["elements"]] == ["loose", "box"]
    assert list(parsed["files"]) == [cyan]
    framed = json.loads((await fetch(f"{base}/api/boards/parts/export.bundle?frame=frame1"))
                        .body)
    assert [e["id"] for e in framed["board"]["elements"]] == ["frame1", "held"]
    assert list(framed["files"]) == [grey]
    # The selection's bundle restores on a server that has never seen its image.
    code, answer = await fetch_json(f"{base_url(fresh)}/api/boards/copy/import",
                                    method="POST", body=selected.body)
    assert code == 200 and answer["elements"] == 2, answer
    assert (await fetch(f"{base_url(fresh)}/api/files/{cyan}")).body == CYAN_PNG
    assert await fresh.store.load_file(grey) is None
