"""Command lines: ids and tokens starting with ``-`` work in every script option (both
``--board -x`` and ``--board=-x``), new ids never start with ``-``, and every script of
scripts/ runs as ``./scripts/NAME`` with whatever ``python3`` is first on the PATH."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess

import pytest

from backend.access import new_board_id
from backend.cli_args import ArgumentParser, join_option_values
from backend.config import load_settings
from backend.export.__main__ import main as export_main
from tests.export_helpers import (
    ROOT,
    base_url,
    every_element_board,
    fetch_json,
    load_import_script,
    run_script,
)

DASH_BOARD = "-dashBoardStartsWithMinus"  # as token_urlsafe makes about one id in 64
ADMIN_TOKEN = "-admin-token-with-a-dash"


def test_option_values_starting_with_a_dash_are_joined_to_their_option():
    options = {"--board": True, "--token": True, "--all": False, "-o": True}
    assert join_option_values(["--board", "-x", "--all", "-o", "-", "--token", "--all"],
                              options) == ["--board=-x", "--all", "-o=-", "--token", "--all"]
    assert join_option_values(["--board=-x", "--", "--board", "-y"], options) == \
        ["--board=-x", "--", "--board", "-y"]


def test_parser_takes_dash_values_in_both_spellings_and_still_reports_a_missing_value(capsys):
    parser = ArgumentParser(prog="demo")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--board", action="append", default=[])
    parser.add_argument("--token")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(["--board", "-a", "--board=-b", "--token", "-t", "--quiet"])
    assert args.board == ["-a", "-b"] and args.token == "-t" and args.quiet
    with pytest.raises(SystemExit):
        parser.parse_args(["--token", "--quiet"])
    assert "expected one argument" in capsys.readouterr().err


def test_server_options_take_secrets_starting_with_a_dash():
    for argv in (["--admin-token", "-adm", "--secret", "-sec"],
                 ["--admin-token=-adm", "--secret=-sec"]):
        settings = load_settings(argv, environ={})
        assert settings.admin_token == "-adm" and settings.secret == "-sec"


def test_new_board_ids_never_start_with_a_dash(monkeypatch):
    drawn = iter(["-firstDrawStartsWithDash", "secondDrawIsFineAsItIs"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _n: next(drawn))
    assert new_board_id() == "secondDrawIsFineAsItIs"


@pytest.mark.gen_test(timeout=30)
async def test_boards_api_never_hands_out_an_id_starting_with_a_dash(sb_server, monkeypatch):
    server = await sb_server(auth="token")
    real = secrets.token_urlsafe
    drawn = iter(["-" + real(16)[1:], real(16).replace("-", "x")])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn, None) or real(n))
    code, links = await fetch_json(f"{base_url(server)}/api/boards", method="POST", body=b"")
    assert code == 201 and not links["id"].startswith("-")
    assert not links["editToken"].startswith("-")


@pytest.mark.gen_test(timeout=120)
async def test_ids_and_tokens_starting_with_a_dash_work_in_the_export_and_import_scripts(
        sb_server, tmp_path):
    # The scripts' own main() with an argv, in a thread (they block, the server shares this
    # loop); the --help test below runs them as processes.
    export, importer = export_main, load_import_script().main
    server = await sb_server(auth="token", admin_token=ADMIN_TOKEN)
    base = base_url(server)
    source = tmp_path / "board.json"
    source.write_text(json.dumps({"schemaVersion": 1, **every_element_board("ab" * 32)}))

    async def exported(*args: str) -> int:
        out = tmp_path / "out.json"
        out.unlink(missing_ok=True)
        assert await asyncio.to_thread(export, [*args, "--out", str(out)]) == 0, args
        return len(json.loads(out.read_text())["elements"])

    # An existing board whose id starts with "-" (made before ids stopped doing so).
    assert await asyncio.to_thread(importer, [str(source), "--server", base, "--board",
                                              DASH_BOARD, "--token", ADMIN_TOKEN]) == 0
    code, links = await fetch_json(f"{base}/api/boards/{DASH_BOARD}/rotate", method="POST",
                                   body=b"", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert code == 200 and links["viewToken"].startswith("-")  # tokens start with the id
    assert await asyncio.to_thread(importer, [str(source), "--server", base,
                                              f"--board={DASH_BOARD}",
                                              f"--token={links['editToken']}"]) == 0
    assert await exported("--server", base, "--board", DASH_BOARD,
                          "--token", links["viewToken"]) == 8
    assert await exported("--server", base, f"--board={DASH_BOARD}",
                          f"--token={links['viewToken']}") == 8
    # Straight from and to databases, with no server in between.
    await server.writer.flush()
    copy = f"sqlite+aiosqlite:///{tmp_path}/copy.db"
    assert await asyncio.to_thread(importer, [str(source), "--db", copy,
                                              "--board", DASH_BOARD]) == 0
    for db in (server.settings.db, copy):
        assert await exported("--db", db, "--board", DASH_BOARD) == 8, db
    # And as a real process, the way a user types it.
    code, out, err = await run_script("export_board.py", "--db", copy, "--board", DASH_BOARD,
                                      "--out", "-")
    assert code == 0 and len(json.loads(out)["elements"]) == 8, err


def _without_project_venv() -> dict[str, str]:
    """The environment of a fresh shell: no venv activated, the project's .venv not on PATH."""
    venv_bin = str(ROOT / ".venv" / "bin")
    path = [p for p in os.environ["PATH"].split(os.pathsep)
            if p and os.path.realpath(p) != os.path.realpath(venv_bin)]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "PATH": os.pathsep.join(path)}


@pytest.mark.parametrize("script", ["export_board.py", "import_board.py", "history.py",
                                    "bench_export.py",
                                    "soak.py", "bench/run.py", "bench/scaleout.py", "serve"])
def test_every_script_runs_as_typed_from_a_shell_without_the_venv(script):
    done = subprocess.run([f"./scripts/{script}", "--help"], cwd=ROOT, env=_without_project_venv(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: "), done.stdout[:200]
