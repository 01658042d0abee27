"""Persistence: the SQL store and the group-committing writer in front of it."""

from .store import (
    BoardInfo,
    CompactionResult,
    LogSize,
    Store,
    StoreError,
    VersionRequest,
    make_engine,
    open_store,
)
from .writer import UpdateWriter

__all__ = ["BoardInfo", "CompactionResult", "LogSize", "Store", "StoreError", "UpdateWriter",
           "VersionRequest",
           "make_engine", "open_store"]
