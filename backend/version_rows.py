"""Stored version rows (``board_versions.data``, deflated Yjs updates) back as updates.

A row holds the board as clients get it: ``Y.XmlHook`` types as hooks, name and all
(``xml_hooks``), so a version given back, restored or folded still holds them. pycrdt must
not read a hook, and finding one costs a Python walk of the whole row, so a row that may
hold hooks (one recorded from a board holding any) is marked: it starts with ``HOOKS_MARK``
before its deflated bytes. Rows without it (all rows of boards without hooks, and every row
written before hooks were kept) are read by pycrdt as they are.

Pure functions of pycrdt, zlib and ``xml_hooks`` only, so the history worker process
(``history_worker``) starts by importing just these and ``restore``, not the store and
SQLAlchemy.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from pycrdt import merge_updates

from .xml_hooks import XmlHooks, readable_rows

HOOKS_MARK = b"\x01"
"""First byte of a row that may hold ``Y.XmlHook`` types. A zlib stream never starts with it
(its first byte says "deflate": 0x08 in the low four bits), so no unmarked row does, and
code from before the mark refuses a marked row ("not deflated") rather than misreading it."""


def pack(update: bytes, holds_hooks: bool) -> bytes:
    """A row's bytes for ``update`` (zlib level 1: a few milliseconds per megabyte), marked
    when it may hold hooks."""
    data = zlib.compress(update, 1)
    return HOOKS_MARK + data if holds_hooks else data


def chain_updates(chain: Sequence[bytes]) -> list[bytes]:
    """``load_chain``'s rows as Yjs updates as stored (hooks as hooks; applied in order,
    they give the version). Raises ``ValueError`` for a row that is not deflated data."""
    return [update for update, _holds_hooks in _unpacked(chain)]


def readable_chain(chain: Sequence[bytes]) -> tuple[list[bytes], XmlHooks]:
    """``load_chain``'s rows as pycrdt can read them (hooks as maps), and the names of the
    hooks they hold (``XmlHooks.restore`` gives them back). Raises ``ValueError`` as
    ``chain_updates``."""
    return readable_rows(_unpacked(chain))


def readable_row(data: bytes) -> bytes:
    """One row as pycrdt can read it. Raises ``ValueError`` as ``chain_updates``."""
    return readable_chain([data])[0][0]


def rebuild_state(chain: Sequence[bytes]) -> bytes:
    """The whole board at a version, as one update pycrdt can read (hooks as maps), from
    ``load_chain``'s rows (merged without integrating them into a document: measured faster
    for a 10,000-element board).

    Raises ``ValueError`` if a row cannot be decoded."""
    return _merged(readable_chain(chain)[0])


def rebuild_for_clients(chain: Sequence[bytes]) -> bytes:
    """``rebuild_state`` as clients get it: ``Y.XmlHook`` types as their clients wrote them
    (a version's ``/update``)."""
    updates, hooks = readable_chain(chain)
    return hooks.restore(_merged(updates))


def unpack(data: bytes) -> tuple[bytes, bool]:
    """A row as ``(update as stored, may hold hooks)``. Raises ``ValueError`` (``zlib.error``
    is one) for a row that is not deflated data."""
    holds_hooks = data[:1] == HOOKS_MARK
    try:
        return zlib.decompress(data[1:] if holds_hooks else data), holds_hooks
    except zlib.error as exc:
        raise ValueError(f"version row is not deflated: {exc}") from None


def _unpacked(chain: Sequence[bytes]) -> list[tuple[bytes, bool]]:
    return [unpack(data) for data in chain]


def _merged(updates: list[bytes]) -> bytes:
    return updates[0] if len(updates) == 1 else merge_updates(*updates)
