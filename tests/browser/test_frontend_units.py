"""The frontend's pure functions (z keys, z-order, tolerant element reading, the unsynced-changes
count, camera and hit arithmetic) are tested with Node's own runner in frontend/test/; this runs
that suite as part of pytest so ./scripts/test covers it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


@pytest.mark.slow
def test_frontend_unit_suite_passes():
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "yjs").is_dir():
        pytest.skip("node or frontend/node_modules missing: run `cd frontend && npm ci`")
    result = subprocess.run(
        [node, "--test", "test/"], cwd=FRONTEND, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass " in result.stdout
