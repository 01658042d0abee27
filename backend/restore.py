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
    the version it gives the live state, and the keys it touches are the only ones compared,
    so restoring a 10,000-element board after a few changes reads a few elements, not two
    whole boards (and a version the live board still equals is not even read twice).
    ``element_ids``: restore only these elements (an id absent from both is ignored). Raises
    ``ValueError`` if either update cannot be decoded."""
    if len(version) > 2:  # one apply of the merged deltas, not hundreds of small ones
        version = [version[0], merge_updates(*version[1:])]
    doc = Doc()
    for update in version:
        doc.apply_update(update)
    names = ROOT_MAPS if element_ids is None else (_ELEMENTS,)
    touched: dict[str, set[str] | None] = {}
    watched = []
    for name in names:
        root = doc.get(name, type=Map) if name == _ELEMENTS else _root(doc, name)
        if root is None:  # not in the version: all of it goes, if the live board has it
            touched[name] = None
            continue
        keys = touched[name] = set()
        watched.append((root, root.observe_deep(_collector(keys))))
    doc.apply_update(since)  # now the live state; only what it touched can differ
    for root, subscription in watched:
        root.unobserve(subscription)
    if element_ids is not None:
        touched[_ELEMENTS] &= set(element_ids)
    work = {name: keys for name, keys in touched.items()
            if keys or (keys is None and _root(doc, name) is not None)}
    before = doc.get_state()
    if not work:  # the live board holds the version already: its copy is not even built
        return doc.get_update(before), 0
    target = Doc()
    for update in version:
        target.apply_update(update)
    changed = 0
    with doc.transaction(), target.transaction():  # one read transaction for the version
        for name, keys in work.items():
            count = _sync_map(doc.get(name, type=Map), _root(target, name), keys)
            changed += count if name == _ELEMENTS else 0
    return doc.get_update(before), changed


def _collector(touched: set[str]):
    """A deep observer adding to ``touched`` (pycrdt passes an observer as many arguments
    as it declares: this one takes just the events)."""
    return lambda events: _note_touched(events, touched)


def _note_touched(events, touched: set[str]) -> None:
    """The keys (element ids, for ``elements``) a batch of deep events of a root changed."""
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
        want_plain, have_plain = {}, {}
        for key in keys:
            value = want.get(key, _MISSING) if want is not None else _MISSING
            if value is not _MISSING:
                want_plain[key] = _plain_value(value)
            value = have.get(key, _MISSING)
            if value is not _MISSING:
                have_plain[key] = _plain_value(value)
    changed = 0
    for key in sorted(keys):
        if key not in want_plain and key not in have_plain:
            continue
        if key not in want_plain:
            del have[key]
            changed += 1
        elif key not in have_plain:
            have[key] = _copy(want[key], want_plain[key])
            changed += 1
        elif have_plain[key] != want_plain[key]:
            current, wanted = have[key], want[key]
            if isinstance(current, Map) and isinstance(wanted, Map):
                _sync_fields(current, wanted, have_plain[key], want_plain[key])
            else:
                have[key] = _copy(wanted, want_plain[key])
            changed += 1
    return changed


def _sync_fields(have: Map, want: Map, have_plain: dict[str, Any],
                 want_plain: dict[str, Any]) -> None:
    """Set back the fields of one element that differ (only those)."""
    for name in have_plain.keys() - want_plain.keys():
        del have[name]
    for name, value in want_plain.items():
        if have_plain.get(name, _MISSING) != value or name not in have_plain:
            have[name] = _copy(want[name], value)


def _copy(value: Any, plain: Any = None) -> Any:
    """A fresh, unintegrated copy of a value read from another document (``plain``: its
    plain JSON when known, which copies an array of numbers in one go)."""
    if isinstance(value, Text):
        return Text(str(value))
    if isinstance(value, Array):
        if isinstance(plain, list) and all(_is_number(item) for item in plain):
            return Array(plain)  # as pycrdt reads them back: no shared type, no string inside
        return Array([_copy(item) for item in value])
    if isinstance(value, Map):
        fields = plain if isinstance(plain, dict) else {}
        return Map({key: _copy(item, fields.get(key)) for key, item in value.items()})
    return value


def _is_number(item: Any) -> bool:
    """A JSON number or boolean that pycrdt writes back as the value it read: a stored number
    reads as a float, and an integral one (JSON ``2``) is written as a float again below
    2**53 (pycrdt writes a bigger int as a big integer). Not null: ``_plain`` reads a
    non-finite number as null."""
    return isinstance(item, float) or (isinstance(item, int) and -_SAFE_INT < item < _SAFE_INT)


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
_SAFE_INT = 2**53
