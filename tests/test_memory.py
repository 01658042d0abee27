"""memory.release_free_heap gives freed heap pages back (glibc), measured by RSS."""

from __future__ import annotations

import gc
import platform

import psutil
import pytest

from backend.memory import release_free_heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trimming_returns_the_holes_left_by_freed_blocks():
    process = psutil.Process()
    blocks = [bytes(2048) for _ in range(40_000)]  # ~80 MiB from malloc (over 512 bytes each)
    kept = blocks[::20]  # every 20th survives, so free() alone cannot shrink the heap
    del blocks
    gc.collect()
    before = process.memory_info().rss
    assert release_free_heap()
    after = process.memory_info().rss
    assert before - after > 40 * 2**20, f"RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB"
    assert len(kept) == 2_000
