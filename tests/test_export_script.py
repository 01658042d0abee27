"""scripts/export_board.py: --db with no server running, --server over HTTP, every output
mode, the progress bar on a terminal, and its error paths (one line naming the board).

Most cases call the script's ``main`` in-process (the same code, without paying a Python start
per case); the terminal, stdout and server cases run the script as a real process."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backend.board_model import validate_board_json
from backend.export.__main__ import main
from tests.export_helpers import (
    ROOT,
    base_url,
    every_element_board,
    fetch_json,
    load_import_script,
    run_script,
)

BOARDS = ("alpha", "beta", "gamma")


def svg_ids(body: bytes) -> set[str]:
    """The element ids an SVG export draws (its ``data-id`` groups)."""
    return {node.get("data-id") for node in ET.fromstring(body).iter() if node.get("data-id")}


def script(*args: str, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "export_board.py"), *args],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, timeout=60)


@pytest.fixture(scope="module")
def filled_db(tmp_path_factory) -> str:
    """A SQLite database with three boards, filled by import_board.py (no server running)."""
    folder = tmp_path_factory.mktemp("export_script")
    source = folder / "board.json"
    source.write_text(json.dumps({"schemaVersion": 1, **every_element_board("cd" * 32)}))
    url = f"sqlite+aiosqlite:///{folder}/boards.db"
    importer = load_import_script()
    for board in BOARDS:
        assert importer.main([str(source), "--board", board, "--db", url]) == 0
    return url


def test_exports_every_format_from_the_database_with_no_server(filled_db, tmp_path):
    for fmt, magic in (("json", b"{"), ("svg", b"<?xml"), ("png", b"\x89PNG")):
        out = tmp_path / f"alpha.{fmt}"
        assert main(["--db", filled_db, "--board", "alpha", "--format", fmt, "--out", str(out),
                     "--scale", "0.5"]) == 0
        assert out.read_bytes().startswith(magic)
    exported = json.loads((tmp_path / "alpha.json").read_text())
    assert validate_board_json(exported) == [] and len(exported["elements"]) == 8


def test_all_boards_go_to_the_out_dir_and_one_board_can_go_to_stdout(filled_db, tmp_path):
    assert main(["--db", filled_db, "--all", "--out-dir", str(tmp_path / "backup")]) == 0
    files = sorted(p.name for p in (tmp_path / "backup").iterdir())
    assert files == sorted(f"{b}.json" for b in BOARDS)
    stdout = script("--db", filled_db, "--board", "beta", "--out", "-")
    assert stdout.returncode == 0
    assert stdout.stdout == (tmp_path / "backup" / "beta.json").read_bytes()


def test_progress_bar_is_drawn_only_on_a_terminal(filled_db, tmp_path):
    plain = script("--db", filled_db, "--all", "--out-dir", str(tmp_path / "a"))
    assert plain.stderr == b""
    controller, terminal = pty.openpty()
    try:
        done = script("--db", filled_db, "--all", "--out-dir", str(tmp_path / "b"),
                      stderr=terminal)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal side is closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)
    assert done.returncode == 0
    assert b"[" + b"#" * 30 + b"] 3/3" in shown


def test_unknown_board_fails_with_one_line_naming_it_and_the_others_still_export(
        filled_db, tmp_path, capsys):
    assert main(["--db", filled_db, "--board", "alpha", "--board", "nope",
                 "--out-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "error: board 'nope': no such board\n"
    assert (tmp_path / "alpha.json").is_file() and not (tmp_path / "nope.json").exists()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///{tmp}/missing.db", "nosuchdb://x/y",
                                 "not a url"])
def test_bad_database_url_fails_with_one_line_and_creates_nothing(url, tmp_path, capsys):
    assert main(["--db", url.format(tmp=tmp_path), "--board", "alpha"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "database" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_usage_exits_2_naming_the_option(filled_db, capsys):
    cases = [(["--board", "a", "--board", "b", "--out", "x"], "--out"),
             (["--board", "a", "--scale", "0"], "scale"),
             (["--board", "a", "--background", "red"], "background"),
             (["--board", "a", "--format", "gif"], "--format")]
    for args, named in cases:
        with pytest.raises(SystemExit) as exited:
            main(["--db", filled_db, *args])
        assert exited.value.code == 2 and named in capsys.readouterr().err, args


@pytest.mark.gen_test(timeout=60)
async def test_server_mode_exports_over_http_and_names_an_unknown_board(sb_server, tmp_path):
    server = await sb_server()
    base = base_url(server)
    code, out, err = await run_script(
        "import_board.py", "-", "--board", "live", "--server", base,
        stdin=json.dumps({"schemaVersion": 1, **every_element_board("ef" * 32)}).encode())
    assert code == 0 and out == b"live\n", err
    code, out, err = await run_script("export_board.py", "--server", base, "--board", "live",
                                      "--format", "svg", "--out", "-")
    assert code == 0 and out.startswith(b"<?xml") and b'data-id="sticky1"' in out, err
    code, _, err = await run_script("export_board.py", "--server", base, "--board", "ghost",
                                    "--out-dir", str(tmp_path))
    assert code == 1 and err == "error: board 'ghost': no such board\n"
    assert not Path(tmp_path, "ghost.json").exists()


def test_unreachable_server_fails_with_one_line(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        assert main(["--server", f"http://127.0.0.1:{port}", "--board", "x", "--out", "-"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: board 'x': cannot reach")


@pytest.mark.slow
@pytest.mark.gen_test(timeout=60)
async def test_server_mode_with_tokens_imports_with_an_edit_token_and_exports_with_a_view_token(
        sb_server, tmp_path):
    server = await sb_server(auth="token")
    base = base_url(server)
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"schemaVersion": 1, **every_element_board("ef" * 32)}))
    code, out, err = await run_script("import_board.py", str(source), "--server", base)
    assert code == 0, err  # a new board: created, then filled with its own edit token
    assert f"edit link: {base}/b/{out.decode().strip()}#t=" in err
    _, links = await fetch_json(f"{base}/api/boards", method="POST", body=b"")
    board = links["id"]
    code, _, err = await run_script("import_board.py", str(source), "--server", base,
                                    "--board", board, "--token", links["editToken"])
    assert code == 0, err
    code, _, err = await run_script("export_board.py", "--server", base, "--board", board,
                                    "--out", "-")
    assert code == 1 and err.startswith(f"error: board '{board}': server answered 401")
    code, out, err = await run_script("export_board.py", "--server", base, "--board", board,
                                      "--token", links["viewToken"], "--out", "-")
    assert code == 0 and len(json.loads(out)["elements"]) == 8, err


SELECTION_GRID = 3000
"""Rectangles of the board a big selection is exported from (live and as a version);
``PICKED`` of them are selected, past the 2,000 ids a URL holds."""
PICKED = [f"r{i}" for i in range(SELECTION_GRID) if i % 6 != 5]


def _post_json(url: str, body: dict) -> dict:
    """The JSON answer to POSTing ``body`` to ``url`` (a 2xx)."""
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_server_mode_exports_a_selection_past_the_urls_2000_ids(server_process, tmp_path,
                                                                 capsys):
    server = server_process()
    _post_json(f"{server.base_url}/api/boards/big/import", {"schemaVersion": 2, "meta": {},
               "elements": [{"id": f"r{i}", "type": "rect", "x": 20 * (i % 60),
                             "y": 20 * (i // 60), "w": 10, "h": 10, "z": "a0"}
                            for i in range(SELECTION_GRID)]})
    assert len(PICKED) == 2500
    listing = tmp_path / "picked.txt"  # one per line, and commas and spaces, as people write
    listing.write_text("\n".join(PICKED[:2000]) + "\n" + ", ".join(PICKED[2000:]) + ",\n")
    source = ["--server", server.base_url, "--board", "big"]
    assert main([*source, "--format", "svg", "--ids-file", str(listing),
                 "--out", str(tmp_path / "picked.svg")]) == 0
    assert svg_ids((tmp_path / "picked.svg").read_bytes()) == set(PICKED)
    assert main([*source, "--ids", ",".join(PICKED), "--out", str(tmp_path / "picked.json")]) \
        == 0
    exported = json.loads((tmp_path / "picked.json").read_text())
    assert sorted(e["id"] for e in exported["elements"]) == sorted(PICKED)
    # A small selection: the same file as the URL form (?ids=) gives.
    assert main([*source, "--format", "svg", "--ids", "r7,r1,r2",
                 "--out", str(tmp_path / "three.svg")]) == 0
    with urllib.request.urlopen(f"{server.base_url}/api/boards/big/export.svg?ids=r1,r2,r7",
                                timeout=60) as response:
        assert (tmp_path / "three.svg").read_bytes() == response.read()
    # None of the ids on the board: one line, nothing written.
    assert main([*source, "--format", "svg", "--ids", "gone",
                 "--out", str(tmp_path / "gone.svg")]) == 1
    assert "board 'big': none of the 1 selected elements is on this board" in \
        capsys.readouterr().err
    assert not (tmp_path / "gone.svg").exists()
    # A version's selection is posted as well: 2,500 ids of the board as it was, without the
    # element added since (named, but not in the version).
    version = _post_json(f"{server.base_url}/api/boards/big/versions", {"label": "picked"})
    _post_json(f"{server.base_url}/api/boards/big/import", {"schemaVersion": 2, "meta": {},
               "elements": [{"id": "late", "type": "rect", "x": 0, "y": 0, "w": 5, "h": 5,
                             "z": "b0"}]})
    listing.write_text(listing.read_text() + "late\n")
    for fmt in ("svg", "json"):
        out = tmp_path / f"then.{fmt}"
        assert main([*source, "--format", fmt, "--ids-file", str(listing), "--version",
                     str(version["id"]), "--out", str(out)]) == 0, capsys.readouterr().err
        ids = svg_ids(out.read_bytes()) if fmt == "svg" else \
            {e["id"] for e in json.loads(out.read_text())["elements"]}
        assert ids == set(PICKED), len(ids)
    assert main([*source, "--format", "svg", "--ids", "late", "--version",
                 str(version["id"]), "--out", str(tmp_path / "late.svg")]) == 1
    assert "board 'big': none of the 1 selected elements is on this board" in \
        capsys.readouterr().err
    # Bad usage, exit 2: a file that names nothing or is missing, more ids than a board holds.
    (tmp_path / "empty.txt").write_text(" \n,\n")
    too_many = tmp_path / "too-many.txt"
    too_many.write_text("\n".join(f"e{i}" for i in range(200_001)))
    cases = [(["--ids-file", str(tmp_path / "empty.txt")], "names no element id"),
             (["--ids-file", str(tmp_path / "missing.txt")], "cannot read"),
             (["--ids-file", str(too_many)], "more than 200000 elements"),
             (["--ids", "r1", "--ids-file", str(listing)], "not allowed with")]
    for args, named in cases:
        with pytest.raises(SystemExit) as exited:
            main([*source, *args])
        assert exited.value.code == 2 and named in capsys.readouterr().err, args
