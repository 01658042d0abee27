"""Giving freed heap memory back to the system after boards are unloaded, keeping the
start-up heap out of Python's garbage collector, and capping a worker process's memory.

glibc's malloc keeps freed memory inside its arenas: the main thread's (documents, relayed
frames) and one per database thread (SQLite pages, rows read). Boards load and unload all
day with documents of every size, so those arenas fill with free holes that ``free`` never
returns; the 30-minute soak showed RSS climbing steadily while the memory in use stayed flat
(mallinfo2: in use ~24 MiB throughout, free inside the arenas 7 -> 18 MiB in six minutes).
``malloc_trim(0)`` hands whole free pages back (glibc 2.8+ releases them anywhere in every
arena, not only at the top). On a C library without it (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_free_heap() -> bool:
    """Return free heap pages to the system; False when the C library cannot."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def freeze_start_up_heap() -> int:
    """Collect once, then move every object alive now (modules, classes, the schema, pools:
    about 135,000 objects once the server has started) into the collector's permanent
    generation, and return how many. Python's full collection walks every tracked object;
    without this the first one after start-up came during the first burst of clients and
    cost 85-102 ms of event-loop CPU of a 200-board cold start (about a quarter of it), and
    every later one walked the start-up heap again. Objects frozen here are never freed by
    the cycle collector (reference counting still frees them): call it once, after start-up,
    in the server process only."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@dataclass(frozen=True)
class OutOfMemory:
    """What a worker's job returns instead of raising ``MemoryError`` (see ``or_out_of_memory``)."""


def or_out_of_memory(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or ``OutOfMemory()`` if it raised ``MemoryError``: returned, not raised,
    because sending the exception back from a worker formats its traceback, whose frames
    still hold what filled the memory, and would fail again (ending the process)."""
    try:
        return fn(*args)
    except MemoryError:
        return OutOfMemory()


def cap_address_space(memory_bytes: int) -> None:
    """Cap this process's address space at ``memory_bytes`` (``RLIMIT_AS``, soft and hard;
    0: no cap). Past it an allocation fails: a ``MemoryError`` in Python, the end of the
    process in native code. Called by ``worker_pool.start_worker``, the initializer of the
    import and history worker processes (the PNG workers set the same limit themselves,
    ``export/raster_worker.py``)."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def near_address_space_cap() -> bool:
    """Whether this process's peak address space (``VmPeak``) came within a quarter of its
    ``RLIMIT_AS`` cap: after a native library reported an error rather than raising
    ``MemoryError`` (pycrdt's ``merge_updates`` answers a failed allocation with "Cannot
    merge updates"), that is what most likely caused it. False without a cap."""
    cap, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if cap == resource.RLIM_INFINITY:
        return False
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024 >= cap - cap // 4
    return False
