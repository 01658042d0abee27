#!/usr/bin/env python3
"""List, save and restore versions of a board: see ``--help`` (backend/history_cli.py)."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

from backend.history_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
