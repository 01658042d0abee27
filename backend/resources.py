"""Where the files the server reads beside its code are: shared/*.json, shared/fonts/ and the
browser app.

From a git checkout they are the repository's ``shared/`` and ``frontend/dist``. An installed
wheel carries copies inside the package (``backend/_shared``, ``backend/_frontend``), put
there by the build step in ``setup.py``; those win when present.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def shared_file(name: str) -> Path:
    """``shared/<name>`` (``protocol.json``, ``board.schema.json``, ``fonts/...``)."""
    packaged = PACKAGE_DIR / "_shared" / name
    return packaged if packaged.is_file() else CHECKOUT_DIR / "shared" / name


def bundled_font() -> Path:
    """The font every side draws and breaks text with (``shared/fonts/DejaVuSans.ttf``)."""
    return shared_file("fonts/DejaVuSans.ttf")


def frontend_dist() -> Path:
    """The built browser app (``index.html``, ``app.js``, ...)."""
    packaged = PACKAGE_DIR / "_frontend"
    return packaged if (packaged / "index.html").is_file() else CHECKOUT_DIR / "frontend" / "dist"
