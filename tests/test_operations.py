"""docs/operations.md: the systemd unit it gives is valid for ``systemd-analyze verify``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "operations.md"
INSTALLED_SERVER = "/opt/syncboard/venv/bin/syncboard"


def unit_text() -> str:
    """The ``syncboard.service`` block of the operations page."""
    blocks = re.findall(r"```ini\n# /etc/systemd/system/syncboard.service\n(.*?)```",
                        DOC.read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_unit_starts_the_installed_server_and_stops_it_with_sigterm():
    unit = unit_text()
    assert f"ExecStart={INSTALLED_SERVER} " in unit
    assert "KillSignal=SIGTERM" in unit and "RestartPreventExitStatus=2" in unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_unit(tmp_path):
    # The same unit, with ExecStart pointing at an executable that exists on this machine.
    unit = unit_text().replace(INSTALLED_SERVER, f"{sys.executable} -m backend")
    path = tmp_path / "syncboard.service"
    path.write_text(unit)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                          text=True, timeout=60)
    # Units this one orders itself after may be missing here; anything about it is an error.
    problems = [line for line in done.stderr.splitlines() if "syncboard.service" in line]
    assert done.returncode == 0 and not problems, done.stderr
