"""Database trouble: the disk under the SQLite file fills up, then frees again.

The test mounts a small tmpfs (needs root; skipped otherwise, saying so), puts the database on
it and fills the remaining space with a filler file, so SQLite's writes really fail
(``SQLITE_FULL``) on file descriptors that are already open. While full: clients keep syncing
live, ``/healthz`` says ``degraded`` with the error, the log has the failure at ERROR. Once
the filler is removed the kept updates are written, and the database alone (after a kill -9)
holds every edit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.faults.clients import stored_elements, wait_until
from tests.yclient import YClient

BOARD = "disk-full"
FS_SIZE = "8m"
BIG_VALUE = "y" * 100_000  # each edit grows the WAL past what it already holds


@pytest.fixture
def small_disk(tmp_path):
    """A mounted 8 MiB tmpfs directory, unmounted at teardown."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE}", "tmpfs",
                             str(mount_point)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs CAP_SYS_ADMIN): {result.stderr.strip()}")
    yield mount_point
    (mount_point / "filler").unlink(missing_ok=True)  # a failed test must not leave it full
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the filesystem is full; return its path."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb") as out, contextlib.suppress(OSError):
        for _ in range(100_000):  # bounded: 6 GiB, far more than the tmpfs
            out.write(chunk)
            out.flush()
    return filler


@pytest.mark.gen_test(timeout=90)
async def test_boards_join_and_stay_loaded_while_the_disk_is_full(small_disk, server_process):
    server = server_process(db=f"sqlite+aiosqlite:///{small_disk}/board.db", flush_delay_ms=20,
                            write_retry_max_s=0.5, idle_unload_s=0.5)
    first = await YClient(f"{server.ws_url}/existing").sync()
    await first.put("before", "the disk filled")
    first.close()
    await wait_until(lambda: server.health()["board_unloads_total"] == 1, 10, "an unload")
    filler = fill(small_disk)
    written: dict[str, dict[str, str]] = {"existing": {"before": "the disk filled"}, "new": {}}
    for board in ("existing", "new"):  # one in the database, one never stored
        alice = await YClient(f"{server.ws_url}/{board}").sync()
        bob = await YClient(f"{server.ws_url}/{board}").sync()
        assert alice.snapshot() == written[board]
        written[board]["while full"] = BIG_VALUE
        await alice.put("while full", BIG_VALUE)
        await bob.wait_for(lambda b=bob, k=board: b.snapshot() == written[k],
                           what=f"live sync on {board}")
        alice.close()
        bob.close()
    await wait_until(lambda: server.health()["status"] == "degraded", 10, "degraded")
    await asyncio.sleep(1.5)  # three idle-unload periods: unsaved boards must stay loaded
    assert server.health()["boards_loaded"] == 2
    filler.unlink()
    await wait_until(lambda: server.health()["board_unloads_total"] == 3, 15,
                     "both boards written and unloaded")
    server.kill()
    for board in ("existing", "new"):
        assert await stored_elements(server.db_url, board) == written[board]


@pytest.mark.gen_test(timeout=90)
async def test_full_disk_degrades_keeps_updates_and_writes_them_once_freed(
        small_disk, server_process):
    server = server_process(db=f"sqlite+aiosqlite:///{small_disk}/board.db", flush_delay_ms=20,
                            write_retry_max_s=0.5)
    alice = await YClient(f"{server.ws_url}/{BOARD}").sync()
    bob = await YClient(f"{server.ws_url}/{BOARD}").sync()
    written = {"before": "the disk filled"}
    await alice.put("before", written["before"])
    await wait_until(lambda: server.health()["pending_updates"] == 0, 10, "a commit")
    assert server.health()["status"] == "ok"

    filler = fill(small_disk)
    for i in range(10):
        key = f"while-full-{i}"
        written[key] = f"{i} {BIG_VALUE}"
        await (alice if i % 2 else bob).put(key, written[key])
    await bob.wait_for(lambda: alice.snapshot() == written == bob.snapshot(),
                       what="live sync while the disk is full")
    await wait_until(lambda: server.health()["status"] == "degraded", 10, "degraded")
    health = server.health()
    assert health["pending_updates"] >= 1
    assert health["database_error"]
    assert "database write of" in server.log() and " ERROR " in server.log()
    late = await YClient(f"{server.ws_url}/{BOARD}").sync()  # served from memory
    assert late.snapshot() == written
    late.close()
    await asyncio.sleep(1.0)  # several retries fail meanwhile; each is logged
    assert server.log().count("ERROR backend.store.writer: database write of") >= 3
    assert server.health()["status"] == "degraded"

    filler.unlink()
    await wait_until(lambda: server.health()["status"] == "ok", 15, "the writer to recover")
    assert server.health()["pending_updates"] == 0
    assert "database writes work again" in server.log()
    alice.close()
    bob.close()
    await asyncio.sleep(0.05)
    server.kill()  # no graceful flush: the retried commit must already be on disk
    assert await stored_elements(server.db_url, BOARD) == written
