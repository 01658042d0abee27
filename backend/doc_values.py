"""Plain values of a board document's root maps, as the readers of ``board_model`` take them.

``plain_map`` is pycrdt's own JSON of a map, parsed: done in Rust, about ten times faster than
walking the shared types through pycrdt's Python wrappers; it writes non-finite numbers as
null and binary as a list of byte values, so unknown fields come out JSON-safe.

``element_maps`` gives the same values for the elements map, read from pycrdt's native types
(``pycrdt._pycrdt``, the extension module of the pinned pycrdt) in one transaction: a field
holding a string, a boolean, an integer, a finite number (integral below 2**53: as ``int``,
as pycrdt's JSON writes it) or null, nearly all of them, is taken as it is, without a JSON
round trip (0.23 s instead of 0.27 s for 10,000 elements), and
only the keys asked for can be read (``board_model.read_elements``). ``Map.items()`` would
wrap every value in a Python shared type, each read in transactions of its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map
from pycrdt._pycrdt import Array as NativeArray
from pycrdt._pycrdt import Map as NativeMap

_MAX_SAFE_INT = 2**53


def root_map(doc: Doc, name: str) -> Map | None:
    """The root map ``name`` (made empty if the board has none), or None when the root
    exists with another shared type."""
    try:
        return doc.get(name, type=Map)
    except (TypeError, ValueError):
        return None


def existing_root_map(doc: Doc, name: str) -> Map | None:
    """The root map ``name`` if the document has it (never created), else None; None too
    when the root exists with another shared type."""
    return root_map(doc, name) if name in doc else None


def plain_map(ymap: Map | None) -> dict[str, Any]:
    """Plain values of a map, nested types included (Y.Text as its string)."""
    if ymap is None or not len(ymap):
        return {}
    return json.loads(str(ymap), parse_constant=_null)


def element_maps(doc: Doc, ymap: Map | None, keys: Iterable[str] | None = None
                 ) -> list[tuple[str, dict[str, Any] | None]]:
    """Each key of ``ymap`` in its order (or each of ``keys`` it holds) and the plain values
    of its ``Y.Map``, exactly as ``plain_map`` gives them; None when the value is not a
    ``Y.Map`` (only a ``Y.Map`` is an element, a plain JSON object is not, as in the
    browser). An element holding anything but plain scalars and arrays (text, binary, a
    nested map or JSON value, a non-finite number) is read through its JSON whole."""
    if ymap is None:
        return []
    out: list[tuple[str, dict[str, Any] | None]] = []
    with doc.transaction() as txn:
        native, raw_txn = ymap.integrated, txn._txn
        get = native.get
        if keys is None:
            keys = native.keys(raw_txn)
        else:
            keys = [key for key in keys if native.has(raw_txn, key)]
        for key in keys:
            element = get(raw_txn, key)
            out.append((key, _native_fields(element, raw_txn)
                        if type(element) is NativeMap else None))
    return out


def _native_fields(element: NativeMap, raw_txn: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    get = element.get
    for name in element.keys(raw_txn):
        value = get(raw_txn, name)
        kind = type(value)
        if kind is NativeArray:
            value = json.loads(value.to_json(raw_txn), parse_constant=_null)
        elif kind is float:  # pycrdt's JSON writes an integral number as an integer
            if value.is_integer() and -_MAX_SAFE_INT < value < _MAX_SAFE_INT:
                value = int(value)
            elif not math.isfinite(value) or value.is_integer():
                return _json_of(element, raw_txn)
        elif not (kind is str or kind is bool or kind is int or value is None):
            return _json_of(element, raw_txn)
        fields[name] = value
    return fields


def _json_of(native: NativeMap, raw_txn: Any) -> dict[str, Any]:
    return json.loads(native.to_json(raw_txn), parse_constant=_null)


def _null(_name: str) -> None:
    """``NaN`` and ``Infinity`` in pycrdt's JSON read as null."""
    return None
