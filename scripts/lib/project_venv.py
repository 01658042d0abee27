"""Run a Python script of scripts/ with the project's ``.venv``, as ``./scripts/serve`` does.

A script's shebang starts whatever ``python3`` is first on the PATH, which lacks the pinned
packages (``No module named 'pycrdt'``). Called before any third-party import,
``use_project_venv(...)`` re-executes the script with ``.venv/bin/python`` after creating
``.venv`` and installing the given requirement files when needed (``ensure_python_env`` of
``scripts/lib/setup.sh``: one install stamp per requirements set, so it costs nothing once
done). Already running with ``.venv/bin/python``, it returns at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"


def use_project_venv(*requirements: str) -> None:
    """Re-execute this script with ``.venv/bin/python``, set up with ``requirements`` (files
    relative to the repository), unless it already runs there."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    _ensure_env(*requirements)
    python = VENV / "bin" / "python"
    os.execv(python, [str(python), *sys.argv])


def ensure_node_packages(*directories: str) -> None:
    """``npm ci`` in each directory (relative to the repository) unless its ``node_modules``
    already matches its ``package-lock.json``."""
    _ensure_env(*(f"--npm={directory}" for directory in directories))


def _ensure_env(*args: str) -> None:
    setup = subprocess.run(["bash", str(ROOT / "scripts" / "lib" / "ensure-env"), *args],
                           check=False)
    if setup.returncode != 0:
        raise SystemExit(setup.returncode)
