"""scripts/import_board.py: validates before writing, creates or fills a board in the database
or through a running server (where connected clients see the elements at once)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from backend.board_model import read_update
from backend.store import open_store
from backend.store.store import merge_updates_into_snapshot
from backend.versioning import load_version_state
from tests.export_helpers import (
    base_url,
    every_element_board,
    load_import_script,
    run_script,
)


def board_file(tmp_path, **changes) -> str:
    data = {"schemaVersion": 1, **every_element_board("12" * 32)}
    for index, fields in changes.items():
        data["elements"][int(index.removeprefix("e"))].update(fields)
    path = tmp_path / "board.json"
    path.write_text(json.dumps(data))
    return str(path)


async def stored_board(url: str, board_id: str):
    store = await open_store(url)
    try:
        if await store.board_info(board_id) is None:
            return None
        return read_update(merge_updates_into_snapshot(await store.load_updates(board_id)))
    finally:
        await store.close()


async def stored_versions(url: str, board_id: str) -> list[tuple[str, object]]:
    """``(kind, content)`` of each version of the board, newest first."""
    store = await open_store(url)
    try:
        return [(v.kind, read_update(await load_version_state(store, board_id, v.id)))
                for v in await store.list_versions(board_id, 100)]
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_db_import_creates_a_new_board_and_refills_it_keeping_what_it_overwrote(
        tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/import.db"
    code, out, err = await run_script("import_board.py", board_file(tmp_path), "--db", url)
    assert code == 0, err
    board_id = out.decode().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", board_id)
    assert "8 elements imported" in err
    first = content = await stored_board(url, board_id)
    assert [e["id"] for e in content.elements][:2] == ["rect1", "ellipse1"]
    assert await stored_versions(url, board_id) == []  # a new board overwrites nothing
    code, _, err = await run_script("import_board.py", board_file(tmp_path, e0={"fill": "#00ff00"}),
                                    "--db", url, "--board", board_id)
    assert code == 0, err
    content = await stored_board(url, board_id)
    assert len(content.elements) == 8 and content.elements[0]["fill"] == "#00ff00"
    versions = await stored_versions(url, board_id)
    assert [kind for kind, _ in versions] == ["before-import"]
    assert versions[0][1].elements == first.elements  # the board as the refill found it


def test_invalid_file_is_reported_with_its_path_and_nothing_is_written(tmp_path, capsys,
                                                                         monkeypatch):
    importer = load_import_script()
    url = f"sqlite+aiosqlite:///{tmp_path}/import.db"
    bad = board_file(tmp_path, e6={"fontSize": 10_000})
    assert importer.main([bad, "--db", url, "--board", "b1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {bad}: $.elements[6].fontSize: 10000 is greater than")
    assert err.rstrip().endswith("nothing was written") and err.count("\n") == 1
    assert not (tmp_path / "import.db").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("{oops"))
    assert importer.main(["-", "--db", url]) == 1
    assert capsys.readouterr().err.startswith("error: -: $: invalid JSON")
    assert importer.main([str(tmp_path / "none.json"), "--db", url]) == 1
    assert capsys.readouterr().err.startswith("error: cannot read")
    with pytest.raises(SystemExit) as exited:
        importer.main([bad, "--db", url, "--board", "line\nbreak"])  # spaces are fine now
    assert exited.value.code == 2 and "--board" in capsys.readouterr().err


@pytest.mark.gen_test(timeout=60)
async def test_server_import_reaches_connected_clients(sb_server, yclient, tmp_path):
    server = await sb_server()
    base = base_url(server)
    watcher = await yclient(server, "script_live")
    code, out, err = await run_script("import_board.py", board_file(tmp_path), "--board",
                                      "script_live", "--server", base)
    assert code == 0 and out == b"script_live\n", err
    await watcher.wait_for(lambda: len(watcher.elements) == 8, what="imported elements")
    code, out, err = await run_script("import_board.py", board_file(tmp_path), "--server", base)
    assert code == 0, err
    new_id = out.decode().strip()
    assert await server.store.board_info(new_id) is not None


@pytest.mark.gen_test(timeout=120)
async def test_db_import_reads_excalidraw_and_tldraw_files_whatever_they_are_called(tmp_path):
    """The script tells the kind by content (issue 15): an Excalidraw scene named ``.txt``
    and a tldraw file named ``.json``, each with its image."""
    url = f"sqlite+aiosqlite:///{tmp_path}/other-apps.db"
    fixtures = Path(__file__).parent / "fixtures" / "interchange"
    cases = (("diagram.excalidraw", "notes.txt", "9 elements imported from an Excalidraw file"),
             ("diagram.tldr", "board.json", "10 elements imported from a tldraw file"))
    for fixture, name, said in cases:
        renamed = tmp_path / name
        renamed.write_bytes((fixtures / fixture).read_bytes())
        code, out, err = await run_script("import_board.py", str(renamed), "--db", url)
        assert code == 0 and said in err, err
        content = await stored_board(url, out.decode().strip())
        assert int(said.split()[0]) == len(content.elements)
        store = await open_store(url)
        try:
            image = next(e for e in content.elements if e["type"] == "image")
            assert await store.load_file(image["fileId"]) is not None
        finally:
            await store.close()
