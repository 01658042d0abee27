#!/usr/bin/env python3
"""Export syncboard boards as JSON, SVG or PNG: see ``--help`` (backend/export/__main__.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.export.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
