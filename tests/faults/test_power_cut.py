"""A power cut after a commit loses nothing: the database lives on a filesystem that forgets
every write not fsynced when it is killed (``tests/faults/powercut_fs.py``).

kill -9 of the server alone keeps the operating system's page cache, so it cannot tell a
commit that was fsynced from one that was only written; this test can. The writing client
disconnects before the cut, so nothing can be resent: the board must come back from the
database alone. With ``synchronous=OFF`` (or any commit that skips its fsync) the board is gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.clients import stored_elements, wait_until
from tests.yclient import YClient

ROOT = Path(__file__).resolve().parents[2]
BOARD = "power-cut"
EDITS = 30


def _missing_fuse() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a FUSE filesystem"
    if not os.path.exists("/dev/fuse") or shutil.which("fusermount3") is None:
        return "needs /dev/fuse and fusermount3 (Debian package fuse3; ./scripts/test installs it)"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as error:  # OSError: libfuse itself is missing
        return f"needs mfusepy and libfuse3: {error}"
    return None


pytestmark = pytest.mark.skipif(_missing_fuse() is not None, reason=str(_missing_fuse()))


class PowercutMount:
    """One mount of ``PowercutFS`` over ``backing`` at ``mountpoint``."""

    def __init__(self, backing: Path, mountpoint: Path) -> None:
        self.backing, self.mountpoint = backing, mountpoint
        self.proc: subprocess.Popen | None = None

    def mount(self, timeout_s: float = 30) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.powercut_fs", str(self.backing),
             str(self.mountpoint)], cwd=ROOT, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while not os.path.ismount(self.mountpoint):
            if self.proc.poll() is not None:
                raise RuntimeError(f"powercut_fs exited: {self.proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise TimeoutError("powercut_fs did not mount")
            time.sleep(0.05)

    def cut(self) -> None:
        """Power off: the filesystem process dies with every unsynced byte."""
        self.proc.kill()
        self.proc.wait(10)
        subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)], check=True)


@pytest.fixture
def powercut(tmp_path):
    backing, mountpoint = tmp_path / "disk", tmp_path / "mnt"
    backing.mkdir()
    mountpoint.mkdir()
    mount = PowercutMount(backing, mountpoint)
    mount.mount()
    yield mount
    if os.path.ismount(mountpoint):
        mount.cut()


@pytest.mark.gen_test(timeout=120)
async def test_committed_edits_survive_a_power_cut(powercut, server_process):
    # powercut first: the server (set up after it) is stopped before the filesystem goes.
    server = server_process(db=f"sqlite+aiosqlite:///{powercut.mountpoint}/board.db",
                            flush_delay_ms=20)
    client = await YClient(f"{server.ws_url}/{BOARD}").sync()
    watcher = await YClient(f"{server.ws_url}/{BOARD}").sync()
    written = {}
    for n in range(EDITS):
        written[f"edit-{n}"] = f"stroke {n}"
        await client.put(f"edit-{n}", written[f"edit-{n}"])
    # The server relays an update only after handing it to its writer: once the watcher has
    # every edit, pending_updates counts them until they are committed. (The writer's own
    # snapshot is local: waiting on it let a loaded server be probed before it had read the
    # edits, pending 0 with nothing committed, and the cut then lost them all.)
    await watcher.wait_for(lambda: watcher.snapshot() == written, what="the edits relayed")
    client.close()  # nobody is left to resend: the database alone must hold the board
    watcher.close()
    await wait_until(lambda: server.health()["pending_updates"] == 0, 10, "a commit")

    server.kill()
    powercut.cut()
    powercut.mount()
    assert await stored_elements(server.db_url, BOARD) == written
    server.start()
    late = await YClient(f"{server.ws_url}/{BOARD}").sync()
    assert late.snapshot() == written
    late.close()
    assert server.stop() == 0
