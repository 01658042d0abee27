"""build_restore_update: the one Yjs update that turns a live board back into a past version.

Made on top of the live state (rebuilt from the version and what changed since), so applied
through the CRDT path it merges with whatever others change meanwhile: elements deleted since
the version come back (as new maps with the version's fields: a deleted Yjs item cannot be
revived), elements added since are deleted, and every field that changed is set back (a field
added since is removed). Untouched fields and elements are not written, so a concurrent edit
of something the restore does not change survives. With ``element_ids`` only those elements
are restored (meta and the rest stay).

Shared types are copied by structure (``Y.Text`` as its string, ``Y.Array`` and ``Y.Map``
recursively), so fields this code does not know keep their types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pycrdt import Array, Doc, Map, Text, merge_updates

ROOT_MAPS = ("meta", "elements", "comments")
"""Root maps a whole-board restore makes equal to the version's."""
_ELEMENTS = "elements"


def build_restore_update(version: Sequence[bytes], since: bytes,
                         element_ids: Iterable[str] | None = None) -> tuple[bytes, int]:
    """``(update, changed)``: the update that restores ``version`` (the board's state then,
    as updates applied in order: a checkpoint and the deltas after it) on top of the live
    board, and how many elements it changes.

    ``since`` is what the live board holds beyond the version (the live document encoded
    against the version's state vector, ``BoardDocument.missing_since``): applied to a copy of
    the version it gives the live state, and the elements it touches are the only ones
    compared, so restoring a 10,000-element board after a few changes reads a few elements,
    not two whole boards. ``element_ids``: restore only these elements (an id absent from
    both is ignored). Raises ``ValueError`` if either update cannot be decoded."""
    if len(version) > 2:  # one apply of the merged deltas, not hundreds of small ones
        version = [version[0], merge_updates(*version[1:])]
    target, doc = Doc(), Doc()
    for update in version:
        target.apply_update(update)
        doc.apply_update(update)
    touched: set[str] = set()
    elements = doc.get(_ELEMENTS, type=Map)
    subscription = elements.observe_deep(lambda events: _note_touched(events, touched))
    doc.apply_update(since)  # now the live state
    elements.unobserve(subscription)
    keys = touched if element_ids is None else touched & set(element_ids)
    before = doc.get_state()
    changed = 0
    with doc.transaction():
        changed = _sync_map(elements, _root(target, _ELEMENTS), keys)
        if element_ids is None:
            for name in ROOT_MAPS:
                if name == _ELEMENTS or (_root(target, name) is None and _root(doc, name) is None):
                    continue
                _sync_map(doc.get(name, type=Map), _root(target, name), None)
    return doc.get_update(before), changed


def _note_touched(events, touched: set[str]) -> None:
    """The element ids a batch of deep events of ``elements`` changed."""
    for event in events:
        path = list(event.path)
        if path:
            touched.add(path[0])
        else:
            touched.update(event.keys)


def _sync_map(have: Map, want: Map | None, only: set[str] | None) -> int:
    """Make ``have`` equal ``want`` (only the keys in ``only``, if given, read one by one);
    return how many keys changed."""
    if only is None:
        want_plain, have_plain = _plain(want), _plain(have)
        keys = set(want_plain) | set(have_plain)
    else:
        keys = only
        want_plain = {key: _plain_value(want[key]) for key in keys
                      if want is not None and key in want}
        have_plain = {key: _plain_value(have[key]) for key in keys if key in have}
    changed = 0
    for key in sorted(keys):
        if key not in want_plain and key not in have_plain:
            continue
        if key not in want_plain:
            del have[key]
            changed += 1
        elif key not in have_plain:
            have[key] = _copy(want[key])
            changed += 1
        elif have_plain[key] != want_plain[key]:
            current, wanted = have[key], want[key]
            if isinstance(current, Map) and isinstance(wanted, Map):
                _sync_fields(current, wanted, have_plain[key], want_plain[key])
            else:
                have[key] = _copy(wanted)
            changed += 1
    return changed


def _sync_fields(have: Map, want: Map, have_plain: dict[str, Any],
                 want_plain: dict[str, Any]) -> None:
    """Set back the fields of one element that differ (only those)."""
    for name in have_plain.keys() - want_plain.keys():
        del have[name]
    for name, value in want_plain.items():
        if have_plain.get(name, _MISSING) != value or name not in have_plain:
            have[name] = _copy(want[name])


def _copy(value: Any) -> Any:
    """A fresh, unintegrated copy of a value read from another document."""
    if isinstance(value, Text):
        return Text(str(value))
    if isinstance(value, Array):
        return Array([_copy(item) for item in value])
    if isinstance(value, Map):
        return Map({key: _copy(item) for key, item in value.items()})
    return value


def _plain(ymap: Map | None) -> dict[str, Any]:
    """Plain JSON of a map (pycrdt's Rust encoding; non-finite numbers read as null)."""
    if ymap is None or not len(ymap):
        return {}
    return json.loads(str(ymap), parse_constant=lambda _name: None)


def _plain_value(value: Any) -> Any:
    """Plain JSON of one map value (a shared type through pycrdt's JSON encoding)."""
    if isinstance(value, Map):
        return _plain(value)
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, Array):
        return json.loads(str(value), parse_constant=lambda _name: None)
    return value


def _root(doc: Doc, name: str) -> Map | None:
    """The root map ``name`` if the document has it, without creating it."""
    if name not in doc:
        return None
    try:
        return doc.get(name, type=Map)
    except (TypeError, ValueError):
        return None


_MISSING = object()
