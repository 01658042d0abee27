"""Imports obey --max-board-bytes like live edits (issue 18 item 13), over HTTP against a real
server process and through scripts/import_board.py --db."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.faults.liveness import Bystanders, HealthProbe
from tests.yclient import YClient

CAP = 128 * 1024


def strokes_board(count: int, points: int = 200) -> dict:
    """A schema-valid board of ``count`` long strokes (about 1 KiB of update each)."""
    return {"schemaVersion": 1, "meta": {}, "elements": [
        {"id": f"s{i}", "type": "stroke", "x": i, "y": 0, "z": f"a{i}", "stroke": "#000000",
         "strokeWidth": 2, "points": [float(p % 97) + 0.5 for p in range(points)]}
        for i in range(count)]}


def post_import(base_url: str, board_id: str, data: dict | bytes) -> tuple[int, dict]:
    """``(status, JSON answer)`` of an import of ``data`` (a board, or a file's bytes)."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    request = urllib.request.Request(
        f"{base_url}/api/boards/{board_id}/import", data=body,
        method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.gen_test(timeout=120)
async def test_an_import_past_the_board_cap_is_refused_with_413(server_process):
    server = server_process(max_board_bytes=CAP)
    bystanders = await Bystanders(server.ws_url).start()
    watcher = await YClient(f"{server.ws_url}/import_cap").sync()
    with HealthProbe(server.base_url) as probe:
        status, body = post_import(server.base_url, "import_cap", strokes_board(20))
        assert status == 200, body
        await watcher.wait_for(lambda: len(watcher.elements) == 20, what="the small import")
        status, body = post_import(server.base_url, "import_cap", strokes_board(120))
        await bystanders.check()
    probe.assert_fast()
    assert status == 413
    assert f"over the {CAP}-byte cap" in body["detail"]
    assert len(watcher.elements) == 20  # nothing of the refused import arrived
    status, body = post_import(server.base_url, "import_cap_new", strokes_board(120))
    assert status == 413
    with pytest.raises(urllib.error.HTTPError) as refused:  # no empty board left behind
        urllib.request.urlopen(f"{server.base_url}/api/boards/import_cap_new", timeout=10)
    assert refused.value.code == 404
    bystanders.close()


def test_the_import_script_refuses_past_the_board_cap(tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path}/import.db"
    big = tmp_path / "big.json"
    big.write_text(json.dumps(strokes_board(120)))
    result = subprocess.run(
        [sys.executable, "scripts/import_board.py", str(big), "--board", "capped", "--db", db,
         "--max-board-bytes", str(CAP)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"over the {CAP}-byte cap" in result.stderr and "nothing was written" in result.stderr
    listing = subprocess.run(
        [sys.executable, "scripts/export_board.py", "--db", db, "--board", "capped", "--out",
         "-"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "no such board" in listing.stderr
