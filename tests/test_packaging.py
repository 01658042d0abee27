"""The package (pyproject.toml + setup.py): a wheel built from the sources, installed into a
fresh venv outside it, gives ``syncboard`` serving the browser app, and the other commands.

The wheels of the pinned requirements are downloaded once into a cache folder outside the
checkout (keyed by requirements.txt), so later runs build and install without the network;
installing only from there also proves the exact pins satisfy pyproject's ranges.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

from backend import __version__
from backend.store.migrate import head_revision
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of a fresh venv with the wheel installed."""
    wheelhouse = _wheelhouse()
    source = _source_copy(tmp_path_factory.mktemp("source") / "syncboard")
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links",
         str(wheelhouse), "-w", str(out), str(source), cwd=out)
    wheels = list(out.glob("syncboard-*.whl"))
    assert [w.name for w in wheels] == [f"syncboard-{__version__}-py3-none-any.whl"]
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=venv.parent)
    # The checkout's pip installs into the new venv (--python): no pip bootstrap needed.
    _run(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-compile", "--no-index", "--find-links", str(wheelhouse), str(wheels[0]),
         cwd=venv.parent)
    return venv / "bin"


def test_the_wheel_serves_the_browser_app_from_outside_the_checkout(installed, tmp_path):
    process = subprocess.Popen(
        [str(installed / "syncboard"), "--port", "0", "--data-dir", str(tmp_path / "data"),
         "--db", f"sqlite+aiosqlite:///{tmp_path}/data/syncboard.db"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_outside_env())
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once listening, with the port it got
        match = re.match(r"syncboard serving on (http://127\.0\.0\.1:\d+)/", line)
        if match is None:
            process.kill()
            pytest.fail(f"no address printed: {line!r}\n{process.communicate()[1]}")
        base = match.group(1)
        page = _get(f"{base}/b/some-board")
        scripts = re.findall(r'src="([^"]+\.js)"', page)
        assert scripts, page
        assert len(_get(base + scripts[0])) > 10_000  # the bundled app, served from the wheel
        assert _get(f"{base}/healthz")
        with urllib.request.urlopen(f"{base}/static/fonts/DejaVuSans.ttf", timeout=30) as font:
            assert font.read() == (ROOT / "shared" / "fonts" / "DejaVuSans.ttf").read_bytes()
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_the_installed_commands_run_and_tell_their_version(installed, tmp_path):
    env = _outside_env()
    version = _run(str(installed / "syncboard"), "--version", cwd=tmp_path, env=env)
    assert version.strip() == f"syncboard {__version__}"
    for command in ("syncboard-export", "syncboard-import", "syncboard-history"):
        assert "usage:" in _run(str(installed / command), "--help", cwd=tmp_path, env=env)
    db = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    status = subprocess.run([str(installed / "syncboard"), "migrate", "--db", db], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert status.returncode == 0 and \
        f"upgraded from empty to {head_revision()}" in status.stdout, status.stderr


def test_the_installed_exporter_wraps_labels_with_the_packaged_font_and_metrics(installed,
                                                                               tmp_path):
    """shared/font-metrics.json, shared/fonts/ (font and licence) ship inside the package: the
    installed exporter breaks the shared fixtures' lines and embeds the font from there."""
    script = (
        "import json, sys\n"
        "from backend.resources import bundled_font, shared_file\n"
        "from backend.export.text import wrap_text\n"
        "from backend.export.fontembed import font_face_css\n"
        "cases = json.load(sys.stdin)['cases']\n"
        "print(json.dumps({'font': str(bundled_font()),\n"
        "  'licence': shared_file('fonts/LICENSE').read_text()[:40],\n"
        "  'metrics': str(shared_file('font-metrics.json')),\n"
        "  'lines': [wrap_text(c['text'], c['width'], c['fontSize']) for c in cases],\n"
        "  'css': len(font_face_css('Hi'))}))\n")
    fixtures = (ROOT / "shared" / "fixtures" / "wrapping.json").read_text("utf-8")
    done = subprocess.run([str(installed / "python"), "-c", script], input=fixtures, cwd=tmp_path,
                          env=_outside_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    venv = str(installed.parent)
    assert got["font"].startswith(venv) and got["metrics"].startswith(venv), got
    assert got["licence"].startswith("DejaVuSans.ttf is DejaVu Sans 2.37")
    assert got["lines"] == [c["lines"] for c in json.loads(fixtures)["cases"]]
    assert got["css"] > 1000


def test_pyproject_ranges_admit_every_exact_pin():
    from packaging.requirements import Requirement  # pip's vendored copy is not public API
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_normal(name)] = version
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in declared:
        requirement = Requirement(text)
        assert _normal(requirement.name) in pins, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(pins[_normal(requirement.name)]), text


def _source_copy(target: Path) -> Path:
    """What the build reads, copied out of the checkout: building there would rewrite
    frontend/dist (which other tests serve) and leave build/ behind. node_modules is linked,
    not copied, so the build needs no npm ci."""
    skip = shutil.ignore_patterns("node_modules", "dist", "__pycache__", "*.pyc")
    for name in ("backend", "shared", "frontend"):
        shutil.copytree(ROOT / name, target / name, ignore=skip)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.txt"):
        shutil.copyfile(ROOT / name, target / name)
    (target / "frontend" / "node_modules").symlink_to(ROOT / "frontend" / "node_modules")
    return target


def _wheelhouse() -> Path:
    """Wheels of every pin in requirements.txt and of the build backend, downloaded once."""
    key = hashlib.sha256((ROOT / "requirements.txt").read_bytes()
                         + (ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "syncboard-test-wheelhouse" / key
    if not folder.is_dir():
        # Downloaded beside it, then renamed: a parallel test run never sees half of it.
        partial = folder.with_name(f"{key}.partial-{os.getpid()}")
        partial.mkdir(parents=True)
        _run(sys.executable, "-m", "pip", "download", "-q", "-d", str(partial), "-r",
             str(ROOT / "requirements.txt"), "setuptools>=70.1", cwd=partial)
        try:
            partial.rename(folder)
        except OSError:  # another run got there first
            shutil.rmtree(partial)
    return folder


def _outside_env() -> dict[str, str]:
    """The environment without anything pointing into the checkout, and writing bytecode as
    Python does by default: the venv is installed ``--no-compile``, so under
    ``PYTHONDONTWRITEBYTECODE`` (set in some CI environments) every installed command would
    compile SQLAlchemy, Tornado and the rest from source again (10 s each on a loaded
    machine); now the first one writes the ``.pyc`` files into the test's venv."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
            and not key.startswith("SYNCBOARD_")}


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read().decode()


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
