"""Settings: flags beat environment variables beat defaults; bad values stop start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.config import Settings, load_settings
from tests.conftest import ROOT


def test_defaults():
    settings = load_settings([], environ={})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.db == "sqlite+aiosqlite:///data/syncboard.db"
    assert settings.max_message_bytes == 8 * 1024 * 1024
    assert settings.idle_unload_s == 60 and settings.flush_delay_ms <= 100


def test_environment_then_flag_precedence():
    env = {"SYNCBOARD_PORT": "9001", "SYNCBOARD_DB": "sqlite+aiosqlite:///x.db"}
    assert load_settings([], environ=env).port == 9001
    assert load_settings(["--port", "9002"], environ=env).port == 9002
    assert load_settings([], environ=env).db == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize("argv", [["--port", "abc"], ["--port", "-1"], ["--log-level", "loud"]])
def test_bad_value_names_the_option(argv, capsys):
    with pytest.raises(SystemExit):
        load_settings(argv, environ={})
    assert argv[0] in capsys.readouterr().err


def test_help_lists_every_option_with_env_and_default():
    out = subprocess.run([sys.executable, "-m", "backend", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    out = " ".join(out.split())  # argparse wraps lines
    for name in Settings().option_names():
        assert "--" + name.replace("_", "-") in out
        assert "SYNCBOARD_" + name.upper() in out
    assert "Default: 127.0.0.1" in out


def test_a_ws_path_that_cannot_be_a_prefix_stops_start_up(capsys):
    for bad in ("ws", "/ws/", "/a b", "/x?y"):
        with pytest.raises(SystemExit):
            load_settings(["--ws-path", bad], environ={})
        assert "--ws-path" in capsys.readouterr().err
    assert load_settings(["--ws-path", "/"], environ={}).ws_path == "/"
    assert load_settings([], environ={"SYNCBOARD_WS_PATH": "/yjs"}).ws_path == "/yjs"
    assert Settings().ws_path == "/ws"


def test_a_repeatable_flag_collects_every_value_and_the_variable_takes_a_list():
    settings = load_settings(["--webhook", "https://a.example/h", "--webhook=https://b.example/h",
                              "--webhook-allow-host", "127.0.0.1"], environ={})
    assert settings.webhook.split() == ["https://a.example/h", "https://b.example/h"]
    assert settings.webhook_allow_host == "127.0.0.1"
    from_env = load_settings([], environ={"SYNCBOARD_WEBHOOK": "https://a.example/h "
                                                               "https://b.example/h"})
    assert from_env.webhook.split() == ["https://a.example/h", "https://b.example/h"]
