"""scripts/history.py and export_board.py --version / --at, with --db (no server) and with
--server (tokens), and their error lines. The scripts' ``main`` runs in-process (in a thread
when a server shares the loop), as in tests/test_export_script.py."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from pycrdt import Doc, Map

from backend.export.__main__ import main as export_main
from backend.history_cli import format_time, main, parse_time
from backend.store import open_store
from tests.export_helpers import base_url, every_element_board, fetch_json, load_import_script


def _exported(path) -> dict:
    return json.loads(path.read_text())


async def _delete_stored_elements(url: str, board: str, ids: list[str]) -> None:
    """What a person deleting things does, written to the log (server stopped)."""
    store = await open_store(url)
    try:
        doc = Doc()
        for update in await store.load_updates(board):
            doc.apply_update(update)
        before = doc.get_state()
        elements = doc.get("elements", type=Map)
        with doc.transaction():
            for element_id in ids:
                del elements[element_id]
        await store.append_updates({board: [doc.get_update(before)]})
    finally:
        await store.close()


def test_save_list_export_and_restore_a_version_in_the_database(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path}/h.db"
    source = tmp_path / "board.json"
    source.write_text(json.dumps({"schemaVersion": 1, **every_element_board("cd" * 32)}))
    assert load_import_script().main([str(source), "--board", "b", "--db", url]) == 0
    capsys.readouterr()
    assert main(["--db", url, "--board", "b", "save", "--label", "all eight"]) == 0
    saved_line = capsys.readouterr().out
    assert "named" in saved_line and "8 elements 'all eight'" in saved_line
    version_id = int(saved_line.split()[0])
    assert export_main(["--db", url, "--board", "b", "--version", str(version_id),
                        "--out", str(tmp_path / "v.json")]) == 0
    before = _exported(tmp_path / "v.json")
    asyncio.run(_delete_stored_elements(url, "b", ["rect1", "sticky1", "stroke1"]))
    assert export_main(["--db", url, "--board", "b", "--out", str(tmp_path / "now.json")]) == 0
    assert len(_exported(tmp_path / "now.json")["elements"]) == 5
    # --at: the newest version made at or before then.
    assert export_main(["--db", url, "--board", "b", "--at", format_time(time.time() + 60),
                        "--out", str(tmp_path / "at.json")]) == 0
    assert _exported(tmp_path / "at.json") == before
    assert main(["--db", url, "--board", "b", "restore", str(version_id),
                 "--elements", "sticky1"]) == 0
    assert "1 elements changed" in capsys.readouterr().out
    assert export_main(["--db", url, "--board", "b", "--out", str(tmp_path / "now.json")]) == 0
    assert len(_exported(tmp_path / "now.json")["elements"]) == 6
    assert main(["--db", url, "--board", "b", "restore", str(version_id)]) == 0
    capsys.readouterr()
    assert export_main(["--db", url, "--board", "b", "--out", str(tmp_path / "now.json")]) == 0
    assert _exported(tmp_path / "now.json") == before
    assert main(["--db", url, "--board", "b", "list", "--json"]) == 0
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["before-restore", "before-restore", "named"]
    # Errors: one line naming the board, status 1; bad usage, status 2.
    for argv, message in (
            (["--db", url, "--board", "nope", "list"], "error: board 'nope': no such board"),
            (["--db", url, "--board", "b", "restore", "999"], "error: board 'b': no version 999"),
            (["--db", f"sqlite+aiosqlite:///{tmp_path}/missing.db", "--board", "b", "list"],
             "does not exist")):
        assert main(argv) == 1
        assert message in capsys.readouterr().err
    assert export_main(["--db", url, "--board", "b", "--at", "2000-01-01T00:00:00Z",
                        "--out", "-"]) == 1
    assert "error: board 'b': no version at or before 2000-01-01T00:00:00Z" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        export_main(["--db", url, "--board", "b", "--at", "yesterday"])
    assert usage.value.code == 2
    assert parse_time("2026-12-01T10:00:00Z") == parse_time("2026-12-01T10:00:00") \
        == 1796119200.0


@pytest.mark.gen_test(timeout=60)
async def test_history_and_export_scripts_over_http_need_the_edit_token(sb_server, yclient,
                                                                       capsys):
    server = await sb_server(auth="token")
    base = base_url(server)
    code, links = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    assert code == 201
    board, edit, view = links["id"], links["editToken"], links["viewToken"]
    client = await yclient(server, f"{board}?token={edit}")
    await client.put("keep", Map({"type": "rect", "z": "a0"}))
    await client.wait_for(lambda: board in server.registry.rooms and len(
        server.registry.rooms[board].document.doc.get("elements", type=Map)) == 1)

    def run(*argv: str) -> int:
        return main(["--server", base, "--board", board, *argv])

    assert await asyncio.to_thread(run, "--token", edit, "save", "--label", "one") == 0
    version_id = int(capsys.readouterr().out.split()[0])
    await client.edit(lambda doc: doc.get("elements", type=Map).pop("keep"))
    await client.wait_for(lambda: len(server.registry.rooms[board].document.doc.get(
        "elements", type=Map)) == 0)
    assert await asyncio.to_thread(run, "--token", view, "list") == 1
    assert "server answered 403: this token is view-only" in capsys.readouterr().err
    assert await asyncio.to_thread(run, "--token", edit, "restore", str(version_id)) == 0
    assert "restored version" in capsys.readouterr().out
    await client.wait_for(lambda: "keep" in client.elements, what="the restore at the client")
    assert await asyncio.to_thread(run, "--token", edit, "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and "before-restore" in listed[0] and "'one'" in listed[1]
    out = server.settings.data_dir + "/v.json"
    saved_at = (await server.store.get_version(board, version_id)).created_at
    for extra in (["--version", str(version_id)], ["--at", str(saved_at)]):
        assert await asyncio.to_thread(export_main, [
            "--server", base, "--board", board, "--token", edit, *extra, "--out", out]) == 0
        with open(out) as file:
            assert [e["id"] for e in json.load(file)["elements"]] == ["keep"]
    assert await asyncio.to_thread(export_main, [
        "--server", base, "--board", board, "--token", edit, "--version", "999",
        "--out", out]) == 1
    assert f"error: board {board!r}: no such board or no version 999" in \
        capsys.readouterr().err
