#!/usr/bin/env python3
"""Import a board from its JSON export form: see ``--help`` (backend/import_board.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.import_board import main

if __name__ == "__main__":
    sys.exit(main())
