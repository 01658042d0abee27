#!/usr/bin/env python3
"""Export syncboard boards as JSON, SVG or PNG: see ``--help`` (backend/export/__main__.py)."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent),
                str(Path(__file__).resolve().parent / "lib")]
from project_venv import use_project_venv  # noqa: E402  (stdlib only)

use_project_venv("requirements.txt")  # before any third-party import

from backend.export.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
