"""backend/resources.py: in a checkout the server reads shared/ and frontend/dist of the
repository (an installed wheel's packaged copies are covered by tests/test_packaging.py)."""

from __future__ import annotations

from backend.app import FRONTEND_DIST
from backend.board_model import SCHEMA_PATH
from backend.protocol import PROTOCOL_FILE
from backend.resources import PACKAGE_DIR, frontend_dist, shared_file
from tests.conftest import ROOT


def test_a_checkout_reads_the_repository_files():
    assert not (PACKAGE_DIR / "_shared").exists() and not (PACKAGE_DIR / "_frontend").exists()
    assert shared_file("protocol.json") == PROTOCOL_FILE == ROOT / "shared" / "protocol.json"
    assert SCHEMA_PATH == ROOT / "shared" / "board.schema.json" and SCHEMA_PATH.is_file()
    assert frontend_dist() == FRONTEND_DIST == ROOT / "frontend" / "dist"
