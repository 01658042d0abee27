"""The package build's one extra step: put the browser app and shared/ files inside the package.

Everything else is in pyproject.toml. ``build_py`` (run for every wheel, ``pip install .`` and
``python -m build``) builds ``frontend/`` (``npm ci`` when node_modules is missing, then
``npm run build``) and copies ``frontend/dist`` to ``backend/_frontend``, and ``shared/*.json``
and ``shared/fonts/`` (the bundled font and its licence) to ``backend/_shared``, in the build
tree, where ``backend/resources.py`` finds them once installed. Without npm an existing
``frontend/dist`` is used; without either the build stops.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
SHARED_FILES = ("protocol.json", "board.schema.json", "font-metrics.json")


class BuildWithBrowserApp(build_py):
    """``build_py`` plus the built browser app and the shared JSON files."""

    def run(self) -> None:
        # A module deleted from the checkout must not live on in a wheel from a stale build/.
        shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads frontend/dist and shared/ in the checkout
        package = Path(self.build_lib) / "backend"
        dist = _build_frontend()
        shutil.rmtree(package / "_frontend", ignore_errors=True)
        shutil.copytree(dist, package / "_frontend")
        (package / "_shared").mkdir(exist_ok=True)
        for name in SHARED_FILES:
            shutil.copyfile(ROOT / "shared" / name, package / "_shared" / name)
        shutil.copytree(ROOT / "shared" / "fonts", package / "_shared" / "fonts",
                        dirs_exist_ok=True)


def _build_frontend() -> Path:
    dist = FRONTEND / "dist"
    npm = shutil.which("npm")
    if npm and (FRONTEND / "package.json").is_file():
        if not (FRONTEND / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "--silent", "build"], cwd=FRONTEND, check=True)
    elif (dist / "index.html").is_file():
        print("npm not found: packaging the existing frontend/dist")
    if not (dist / "index.html").is_file():
        raise SystemExit("cannot build the browser app: install Node.js 20+ with npm "
                         "(or build frontend/dist first)")
    return dist


setup(cmdclass={"build_py": BuildWithBrowserApp})
