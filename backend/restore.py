"""build_restore_update: the one Yjs update that turns a live board back into a past version.

Made on top of the live state (rebuilt from the version and what changed since), so applied
through the CRDT path it merges with whatever others change meanwhile: elements deleted since
the version come back (as new maps with the version's fields: a deleted Yjs item cannot be
revived), elements added since are deleted, and every field that changed is set back (a field
added since is removed). Untouched fields and elements are not written, so a concurrent edit
of something the restore does not change survives. With ``element_ids`` only those elements
are restored (meta and the rest stay).

What changed since is applied to the version in one transaction under a deep observer, and
its events say, for every key of a restored root (an element, a meta field, a comment) and
every field of an element, which value it held before that transaction: the version's. Those
plain values (numbers, strings, JSON) are written back as the events give them, and the
elements the live board no longer has are copied from the version before the change since is
applied (``live`` names the live board's keys), so a whole-board restore after hundreds
of moves, recolours, additions and deletions reads no element twice and builds one document.
Only what the events cannot give (a change inside a text, an array or a nested map, a field
or an element replaced by a shared type) is compared with a second copy of the version,
built only then.

Shared types are copied by structure (``Y.Text`` as its string, ``Y.Array`` and ``Y.Map``
recursively), so fields this code does not know keep their types. A ``Y.XmlHook`` (pycrdt
reads it as a map: ``xml_hooks``) reached through map keys is copied as a hook with its
name: the new struct's id is noted as it is written, and the restore update names it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pycrdt import Array, Doc, Map, MapEvent, Text, merge_updates

from .doc_values import existing_root_map
from .xml_hooks import XmlHooks, hook_paths, state_clocks

ROOT_MAPS = ("meta", "elements", "comments")
"""Root maps a whole-board restore makes equal to the version's."""
_ELEMENTS = "elements"


def build_restore_update(version: Sequence[bytes], since: bytes,
                         element_ids: Iterable[str] | None = None,
                         live: Mapping[str, Iterable[str]] | None = None,
                         hook_names: Mapping[tuple[int, int], bytes] | None = None,
                         ) -> tuple[bytes, int]:
    """``(update, changed)``: the update that restores ``version`` (the board's state then,
    as updates applied in order: a checkpoint and the deltas after it) on top of the live
    board, and how many elements it changes.

    ``since`` is what the live board holds beyond the version (the live document encoded
    against the version's state vector, ``BoardDocument.missing_since``): applied to the
    version it gives the live state, and only the keys it touches are looked at.
    ``element_ids``: restore only these elements (an id absent from both is ignored).
    ``live``: the keys of each root map of the live board (``live_keys(doc)``, taken with
    ``since``); the version's values of the keys missing there are copied before
    ``since`` is applied. Without it those elements come from a second copy of the version.
    ``hook_names``: the version's ``Y.XmlHook`` names by struct id (``version`` holds them
    as maps: ``version_rows.readable_chain``); a hook copied back is a hook in the update.
    Raises ``ValueError`` if either update cannot be decoded."""
    if len(version) > 2:  # one apply of the merged deltas, not hundreds of small ones
        version = [version[0], merge_updates(*version[1:])]
    doc = Doc()
    for update in version:
        doc.apply_update(update)
    hooks = _HookCopies(doc, version, hook_names or {})
    names = ROOT_MAPS if element_ids is None else (_ELEMENTS,)
    wanted = None if element_ids is None else set(element_ids)
    missing = []  # restored roots the version does not have: all of it goes
    changes: dict[str, _Changes] = {}
    for name in names:
        root = doc.get(name, type=Map) if name == _ELEMENTS else existing_root_map(doc, name)
        if root is None:
            missing.append(name)
            continue
        gone = set() if live is None else set(root.keys()).difference(live.get(name, ()))
        changes[name] = _Changes(root, _copies(root, gone if wanted is None else gone & wanted,
                                               name, hooks), hooks)
    watched = [(change.root, change.root.observe_deep(change.note))
               for change in changes.values()]
    doc.apply_update(since)  # now the live state, in one transaction: one batch of events
    for observed, subscription in watched:
        observed.unobserve(subscription)
    before = doc.get_state()
    changed = 0
    with doc.transaction():
        rest: dict[str, set[str]] = {}
        for name, change in changes.items():
            count, left = change.set_back(wanted)
            changed += count if name == _ELEMENTS else 0
            if left:
                rest[name] = left
        for name in missing:
            root = existing_root_map(doc, name)
            if root is not None:
                _sync_map(root, None, None, (name,), hooks)
        if rest:  # what the events could not tell: compared with a copy of the version
            target = Doc()
            for update in version:
                target.apply_update(update)
            with target.transaction():  # one read transaction for the version
                for name, keys in rest.items():
                    count = _sync_map(changes[name].root, existing_root_map(target, name), keys,
                                      (name,), hooks)
                    changed += count if name == _ELEMENTS else 0
    return hooks.named(doc.get_update(before)), changed


def live_keys(doc: Doc) -> dict[str, list[str]]:
    """The keys of each restored root map of the live board ``doc``, for
    ``build_restore_update`` (read with ``since``, in the same event-loop turn)."""
    roots = ((name, existing_root_map(doc, name)) for name in ROOT_MAPS)
    return {name: list(root.keys()) for name, root in roots if root is not None}


class _Changes:
    """What ``since`` changed in one root map, as its deep observer saw it, and the version's
    values of the keys the live board no longer has (``copies``)."""

    def __init__(self, root: Map, copies: dict[str, Any], hooks: _HookCopies) -> None:
        self.root = root
        self.copies = copies
        self.hooks = hooks
        self.entries: dict[str, dict[str, Any]] = {}
        """Key -> how its own entry changed: ``{"action", "oldValue", "newValue"}``."""
        self.fields: dict[str, tuple[Map, dict[str, dict[str, Any]]]] = {}
        """Key of a map value (an element) -> that map and how its entries changed."""
        self.deep: set[str] = set()
        """Keys with a change further down (in a text, an array, a nested map)."""

    def note(self, events) -> None:
        """The deep observer: one batch of events (pycrdt passes as many arguments as an
        observer declares: this one takes just the events)."""
        for event in events:
            path = list(event.path)
            if not path:
                self.entries.update(event.keys)
            elif len(path) == 1 and isinstance(event, MapEvent):
                self.fields.setdefault(path[0], (event.target, {}))[1].update(event.keys)
            else:
                self.deep.add(path[0])

    def set_back(self, wanted: set[str] | None) -> tuple[int, set[str]]:
        """Write back the version's values the events give (only the keys in ``wanted``, if
        given); return how many keys changed, and the keys left to compare with a copy of
        the version."""
        keys = self.entries.keys() | self.fields.keys() | self.deep
        if wanted is not None:
            keys &= wanted
        changed, rest = 0, set()
        for key in sorted(keys):
            entry = self.entries.get(key)
            if entry is not None:  # the key's own value changed: it decides
                done = self._set_entry(key, entry)
            elif key in self.deep:
                done = None
            else:
                element, fields = self.fields[key]
                done = _set_fields(element, fields)
            if done is None:
                rest.add(key)
            elif done:
                changed += 1
        return changed, rest

    def _set_entry(self, key: str, entry: dict[str, Any]) -> bool | None:
        """Set ``key`` of the root back: True if written, False if it holds the version's
        value already, None if neither the event nor ``copies`` has that value."""
        if entry["action"] == "add":
            del self.root[key]
            return True
        old = entry["oldValue"]
        if isinstance(old, _PLAIN):
            if entry["action"] == "update" and _same(old, entry["newValue"]):
                return False
            self.root[key] = old
            return True
        if entry["action"] == "delete" and key in self.copies:
            self.hooks.assign(self.root, key, self.copies.pop(key))
            return True
        return None


def _set_fields(element: Map, fields: dict[str, dict[str, Any]]) -> bool | None:
    """Set the changed fields of one element back (all or none): True if any was written,
    False if all hold the version's values, None if a field held a shared type."""
    writes = []
    for name, entry in fields.items():
        if entry["action"] == "add":
            writes.append((name, _MISSING))
            continue
        old = entry["oldValue"]
        if not isinstance(old, _PLAIN):
            return None
        if entry["action"] != "update" or not _same(old, entry["newValue"]):
            writes.append((name, old))
    for name, value in writes:
        if value is _MISSING:
            del element[name]
        else:
            element[name] = value
    return bool(writes)


def _same(old: Any, new: Any) -> bool:
    """Whether a plain value read from an event equals the value that replaced it (of the
    same type: ``True`` does not stand for ``1.0``)."""
    return type(old) is type(new) and old == new


def _copies(root: Map, keys: set[str], name: str, hooks: _HookCopies) -> dict[str, Any]:
    """Fresh, unintegrated copies of the values of ``keys`` in ``root`` (the root map
    ``name``; one transaction), to be written with ``hooks.assign``."""
    if not keys:
        return {}
    with root.doc.transaction():
        copies = {}
        for key in keys:
            value = root[key]
            copies[key] = hooks.copy(value, _plain_value(value), (name, key))
        return copies


def _sync_map(have: Map, want: Map | None, only: set[str] | None, path: tuple[str, ...],
              hooks: _HookCopies) -> int:
    """Make ``have`` (at ``path``) equal ``want`` (only the keys in ``only``, if given, read
    one by one); return how many keys changed."""
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
            hooks.assign(have, key, hooks.copy(want[key], want_plain[key], (*path, key)))
            changed += 1
        elif have_plain[key] != want_plain[key]:
            current, wanted = have[key], want[key]
            if isinstance(current, Map) and isinstance(wanted, Map):
                _sync_fields(current, wanted, have_plain[key], want_plain[key], (*path, key),
                             hooks)
            else:
                hooks.assign(have, key, hooks.copy(wanted, want_plain[key], (*path, key)))
            changed += 1
    return changed


def _sync_fields(have: Map, want: Map, have_plain: dict[str, Any],
                 want_plain: dict[str, Any], path: tuple[str, ...],
                 hooks: _HookCopies) -> None:
    """Set back the fields of one element (at ``path``) that differ (only those)."""
    for name in have_plain.keys() - want_plain.keys():
        del have[name]
    for name, value in want_plain.items():
        if have_plain.get(name, _MISSING) != value or name not in have_plain:
            hooks.assign(have, name, hooks.copy(want[name], value, (*path, name)))


class _HookCopies:
    """The copies of a restore, with the ``Y.XmlHook`` types among them: where the version
    holds hooks (``xml_hooks.hook_paths``, found at the first copy that asks), and the id of
    each hook written back (a new struct: a deleted Yjs item cannot be revived), so that
    ``named`` makes a hook of it again.

    A hook is written on its own, once its parent is in the document (``assign``): the
    first struct an assignment creates is the map itself, at the next clock of the
    document's client."""

    def __init__(self, doc: Doc, version: Sequence[bytes],
                 names: Mapping[tuple[int, int], bytes]) -> None:
        self.doc = doc
        self._version = version
        self._names = dict(names)
        self._at: dict[tuple[str, ...], bytes] | None = None if names else {}
        self._made: dict[tuple[int, int], bytes] = {}
        self._tops: dict[int, tuple[Map, bytes]] = {}  # id(copy) -> (the copy, its name)
        self._later: list[tuple[Map, str, Map, bytes]] = []  # parent, key, hook, name

    def copy(self, value: Any, plain: Any, path: tuple[str, ...]) -> Any:
        """``_copy`` of ``value``, the version's value at ``path``; give it to ``assign``."""
        if not self._hook_paths():
            return _copy(value, plain)
        copied = _copy(value, plain, path, self)
        name = self.at(path)
        if name is not None and isinstance(copied, Map):
            self._tops[id(copied)] = (copied, name)
        return copied

    def assign(self, target: Map, key: str, copied: Any) -> None:
        """``target[key] = copied`` (a ``copy``), noting the hooks it writes."""
        top = self._tops.pop(id(copied), None)
        self._write(target, key, copied, top[1] if top is not None else None)
        while self._later:  # each hook whose parent is written by now (parents first)
            ready = [later for later in self._later if later[0].is_integrated]
            if not ready:
                break
            for later in ready:
                self._later.remove(later)
                self._write(*later)

    def hold(self, parent: Map, key: str, hook: Map, name: bytes) -> None:
        """``hook`` (a copy) goes under ``parent`` (a copy) at ``key`` once ``parent`` is
        in the document (for ``_copy``)."""
        self._later.append((parent, key, hook, name))

    def at(self, path: tuple[str, ...]) -> bytes | None:
        """The name of the version's hook at ``path``, if one is there."""
        return self._hook_paths().get(path)

    def named(self, update: bytes) -> bytes:
        """The restore ``update`` with each hook written back a hook again."""
        if not self._made:
            return update
        hooks = XmlHooks()
        hooks.keep(self._made)
        return hooks.restore(update)

    def _write(self, target: Map, key: str, value: Any, name: bytes | None) -> None:
        if name is None:
            target[key] = value
            return
        clock = state_clocks(self.doc.get_state()).get(self.doc.client_id, 0)
        target[key] = value
        self._made[(self.doc.client_id, clock)] = name

    def _hook_paths(self) -> dict[tuple[str, ...], bytes]:
        if self._at is None:
            whole = self._version[0] if len(self._version) == 1 \
                else merge_updates(*self._version)
            self._at = hook_paths(whole, self._names, ROOT_MAPS)
        return self._at


def _copy(value: Any, plain: Any = None, path: tuple[str, ...] = (),
          hooks: _HookCopies | None = None) -> Any:
    """A fresh, unintegrated copy of a value read from another document (``plain``: its
    plain JSON when known, which copies an array of numbers in one go). ``hooks``: the
    version's hooks, and ``path`` where ``value`` is; a hook inside is held back, to be
    written by ``hooks.assign`` once its parent is in the document."""
    if isinstance(value, Text):
        return Text(str(value))
    if isinstance(value, Array):
        if isinstance(plain, list) and all(_is_number(item) for item in plain):
            return Array(plain)  # as pycrdt reads them back: no shared type, no string inside
        return Array([_copy(item) for item in value])
    if isinstance(value, Map):
        fields = plain if isinstance(plain, dict) else {}
        if hooks is None:
            return Map({key: _copy(item, fields.get(key)) for key, item in value.items()})
        entries, held = {}, []
        for key, item in value.items():
            copied = _copy(item, fields.get(key), (*path, key), hooks)
            name = hooks.at((*path, key)) if isinstance(copied, Map) else None
            if name is None:
                entries[key] = copied
            else:
                held.append((key, copied, name))
        copy = Map(entries)
        for key, copied, name in held:
            hooks.hold(copy, key, copied, name)
        return copy
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




_MISSING = object()
_SAFE_INT = 2**53
_PLAIN = (type(None), bool, int, float, str, bytes, list, dict)
"""What pycrdt reads a plain (``Any``) value as; it writes each back as the same value. A
value of any other type (a shared type, a subdocument) cannot be written back as read."""
