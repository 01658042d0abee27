"""build_restore_update: the one Yjs update that turns a live board back into a past version.

Made on top of the live state, so applied through the CRDT path it merges with whatever
others change meanwhile: elements deleted since the version come back (as new maps with the
version's fields: a deleted Yjs item cannot be revived), elements added since are deleted,
and every field that changed is set back (a field added since is removed). Untouched fields
and elements are not written, so a concurrent edit of something the restore does not change
survives. With ``element_ids`` only those elements are restored (meta and the rest stay).

Shared types are copied by structure (``Y.Text`` as its string, ``Y.Array`` and ``Y.Map``
recursively), so fields this code does not know keep their types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Doc, Map, Text

ROOT_MAPS = ("meta", "elements", "comments")
"""Root maps a whole-board restore makes equal to the version's."""
_ELEMENTS = "elements"


def build_restore_update(live: bytes, version: bytes,
                         element_ids: Iterable[str] | None = None) -> tuple[bytes, int]:
    """``(update, changed)``: the update written on top of ``live`` (the board's current
    state) that restores ``version`` (its state then), and how many elements it changes.

    ``element_ids``: restore only these elements (an id absent from both is ignored).
    Raises ``ValueError`` if either state cannot be decoded."""
    target = Doc()
    target.apply_update(version)
    doc = Doc()
    doc.apply_update(live)
    before = doc.get_state()
    changed = 0
    with doc.transaction():
        if element_ids is None:
            for name in ROOT_MAPS:
                want = _root(target, name)
                if want is None and _root(doc, name) is None:
                    continue
                have = doc.get(name, type=Map)
                count = _sync_map(have, want, None)
                changed += count if name == _ELEMENTS else 0
        else:
            have = doc.get(_ELEMENTS, type=Map)
            changed = _sync_map(have, _root(target, _ELEMENTS), set(element_ids))
    return doc.get_update(before), changed


def _sync_map(have: Map, want: Map | None, only: set[str] | None) -> int:
    """Make ``have`` equal ``want`` (keys in ``only``, if given); return the keys changed."""
    want_plain = _plain(want)
    have_plain = _plain(have)
    keys = set(want_plain) | set(have_plain)
    if only is not None:
        keys &= only
    changed = 0
    for key in sorted(keys):
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


def _root(doc: Doc, name: str) -> Map | None:
    """The root map ``name`` if the document has it, without creating it."""
    if name not in doc:
        return None
    try:
        return doc.get(name, type=Map)
    except (TypeError, ValueError):
        return None


_MISSING = object()
