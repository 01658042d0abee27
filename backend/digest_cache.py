"""DigestCache: values derived from byte strings, kept by a digest of those bytes, bounded by
their total size, the least recently used dropped first. Exports read in threads, so the
table is locked; what makes a value runs outside the lock, in the caller
(``checked_states``, ``checkpoint_reads``)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class DigestCache(Generic[V]):
    """At most ``max_size`` of values (each ``size_of(value)``) by digest."""

    def __init__(self, max_size: int, size_of: Callable[[V], int]) -> None:
        self.max_size = max_size
        self.hits_total = 0
        self._size_of = size_of
        self._kept: OrderedDict[bytes, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def digest(data: bytes) -> bytes:
        """The key of ``data``."""
        return hashlib.blake2b(data, digest_size=16).digest()

    def get(self, key: bytes) -> V | None:
        """The value kept under ``key``, if any (shared: never change it)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits_total += 1
            return kept

    def keep(self, key: bytes, value: V) -> None:
        """Keep ``value`` under ``key`` (not if it alone is over ``max_size``)."""
        size = self._size_of(value)
        with self._lock:
            if key in self._kept or size > self.max_size:
                return
            self._kept[key] = value
            self._size += size
            while self._size > self.max_size:
                _key, dropped = self._kept.popitem(last=False)
                self._size -= self._size_of(dropped)
