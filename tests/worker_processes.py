"""Which worker processes a test's own process, or a server process it started, has started
(history and import workers)."""

from __future__ import annotations

import os
from pathlib import Path


def spawned_children(parent: int | None = None) -> set[int]:
    """Live ``multiprocessing`` spawn children of ``parent`` (default: this process; PNG
    workers are ``raster_worker.py`` scripts, not spawn children)."""
    parent = os.getpid() if parent is None else parent
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z" and b"spawn_main" in cmdline:
            pids.add(int(stat.parent.name))
    return pids


def only_worker(parent: int | None = None) -> int:
    """The one spawn child of ``parent`` (default: this process); fails unless there is
    exactly one."""
    pids = spawned_children(parent)
    assert len(pids) == 1, pids
    return pids.pop()


class NewChildren:
    """The spawn children of this process started since it was made: a worker an earlier test
    of the same pytest process left (killed, but on a loaded machine not yet gone) is not
    counted."""

    def __init__(self) -> None:
        self.earlier = spawned_children()

    def __call__(self) -> set[int]:
        return spawned_children() - self.earlier
