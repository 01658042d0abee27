"""XmlHooks: ``Y.XmlHook`` content carried through pycrdt, which cannot hold it (issue 19).

Yjs writes a hook as a type struct (content ref 7) with type ref 5 followed by the hook's
name (``YXmlHook extends YMap``: a named map). pycrdt 0.14 (yrs) reads type ref 5 *without*
the name, so the name's bytes are misread as what follows: "Cannot decode update", or worse,
garbage. Such bytes must never reach pycrdt.

So before pycrdt sees an update, ``XmlHooks.as_maps`` turns each hook into a ``Y.Map`` (type
ref 1, no name: the same struct, the same id, the same entries) and notes its name by struct
id; ``XmlHooks.restore`` turns those maps back into hooks, name and all, in whatever pycrdt
encodes. What is stored is what clients sent (the log) or restored (compaction snapshots), so
loading a board rewrites it again exactly as receiving it did, and the names survive
restarts. Both walk the update with the pre-check's reader (``update_check``); the walk costs
Python time in proportion to what it reads (about 100 ms per MB here), so ``as_maps`` only
runs on updates that hold hooks (``UpdateSummary.xml_hooks``), and ``restore`` reads only the
structs of the clients that wrote hooks: pycrdt splits the rest off natively.

Bounds: a hook name is at most ``MAX_HOOK_NAME_BYTES``, a board holds at most ``MAX_HOOKS``;
past either, ``HookRefused``. A hook that was deleted needs no name any more (pycrdt encodes
deleted content without its type), so at the bound the names of deleted hooks are dropped
(``prune``) before anything is refused: a client that creates and deletes hooks for ever is
never locked out, while the live hooks (and so the names kept) stay within ``MAX_HOOKS``.

Outside the live board, ``readable_rows`` gives stored rows (version history) to pycrdt as
maps with the names they hold, and ``hook_paths`` finds where a document holds its hooks
(``restore`` copies a deleted hook back as a new struct, which must be a hook again).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence

from pycrdt import Doc, MapEvent, get_update

from .doc_values import existing_root_map
from .protocol import write_var_uint
from .update_check import GC_REF, SKIP_REF, TYPE_REF, XML_HOOK_REF, UpdateReader, skip_content

MAX_HOOK_NAME_BYTES = 256
"""Longest ``Y.XmlHook`` name kept (UTF-8 bytes; ProseMirror and Tiptap use short names)."""
MAX_HOOKS = 1000
"""Most ``Y.XmlHook`` structs one board holds (their names are kept in memory)."""

_Y_MAP = 1
_ID = tuple[int, int]
_ALL_CLOCKS = b"\xff\xff\xff\xff\x0f"  # 2**32 - 1 as a varUint: past any clock yrs holds


class HookRefused(ValueError):
    """An update whose hooks break a bound of this module (the message says which)."""


class TooManyHooks(HookRefused):
    """The board would hold more than ``MAX_HOOKS`` names (``XmlHooks.prune`` may help)."""


class XmlHooks:
    """The names of one board's hooks, by struct id ``(client, clock)``, as Yjs encodes
    them (varUint length, UTF-8)."""

    def __init__(self) -> None:
        self.names: dict[_ID, bytes] = {}
        self._clients: set[int] = set()  # the clients that wrote the hooks

    def as_maps(self, update: bytes, held: dict[int, int] | None = None,
                bounded: bool = True) -> tuple[bytes, dict[_ID, bytes]]:
        """``update`` with each hook turned into a ``Y.Map``, and the names it held.

        ``held``: the board's state vector (``state_clocks``). A hook at a clock the board
        already holds is a duplicate: pycrdt keeps the struct it has, so its name is not
        taken (else a client could turn any map of the board into a hook for joiners).
        The names are not kept yet (``keep`` them once the update is applied). Raises
        ``HookRefused`` for a name over ``MAX_HOOK_NAME_BYTES``, ``TooManyHooks`` when
        ``bounded`` and the board would hold more than ``MAX_HOOKS`` (not ``bounded``: an
        update already applied, read again); ``UpdateRefused`` (a ``ValueError``) for bytes
        that are not an update (the pre-check has passed them, so only a bug gets there)."""
        parts: list[bytes] = []
        found: dict[_ID, bytes] = {}
        pos = 0
        for client, clock, start, end in _type_structs(UpdateReader(update)):
            reader = UpdateReader(update)
            reader.pos = start
            if reader.uint() != XML_HOOK_REF:
                continue
            name_at = reader.pos
            if reader.uint() > MAX_HOOK_NAME_BYTES:
                raise HookRefused(f"Y.XmlHook name at client {client} clock {clock} is over "
                                  f"{MAX_HOOK_NAME_BYTES} bytes")
            if held is None or clock >= held.get(client, 0) or (client, clock) in self.names:
                found[(client, clock)] = update[name_at:end]
            parts += [update[pos:start], b"\x01"]
            pos = end
        new = sum(1 for key in found if key not in self.names)
        if bounded and new and len(self.names) + new > MAX_HOOKS:
            raise TooManyHooks(f"the board would hold more than {MAX_HOOKS} Y.XmlHook types")
        return (b"".join(parts) + update[pos:] if parts else update), found

    @property
    def writers(self) -> set[int]:
        """The clients that wrote the hooks."""
        return self._clients

    def keep(self, found: dict[_ID, bytes]) -> None:
        """Remember the names ``as_maps`` found in an update that was applied."""
        self.names.update(found)
        self._clients.update(client for client, _clock in found)

    def prune(self, delete_set: bytes) -> int:
        """Forget the names of the hooks ``delete_set`` (a Yjs delete set: the tail of
        ``Doc.get_update(doc.get_state())``) holds as deleted; return how many. Only the
        ranges of the clients that wrote hooks are kept while reading it."""
        deleted = _deleted_ranges(delete_set, self._clients)
        gone = [key for key in self.names if _in_ranges(deleted.get(key[0]), key[1])]
        for key in gone:
            del self.names[key]
        self._clients = {client for client, _clock in self.names}
        return len(gone)

    def restore(self, update: bytes, clients: Iterable[int] = ()) -> bytes:
        """``update`` (encoded by pycrdt) with each of this board's hooks a hook again.

        ``clients``: clients whose structs ``update`` may hold (the board's state vector).
        Those that wrote no hook are split off by pycrdt, natively: only the structs of the
        others are read in Python, and the two parts are joined again (Yjs reads the
        clients of an update in any order)."""
        if not self.names:
            return update
        split_off = set(clients) - self._clients
        if not split_off:
            return self._restored(update, set())[0]
        restored = self.restore_encoding(lambda state: get_update(update, state), split_off)
        return update if restored is None else restored

    def restore_encoding(self, encode: Callable[[bytes], bytes],
                         split_off: set[int]) -> bytes | None:
        """``restore`` of an encoding given as ``encode(state_vector)`` (what a peer with
        that state vector lacks: ``Doc.get_update``, or ``get_update`` of an update), with
        the structs of the clients ``split_off`` (which wrote no hook) left to pycrdt; None
        when the encoding holds no hook."""
        theirs = encode(_state_past(split_off))
        walked: set[int] = set()
        restored, structs_end = self._restored(theirs, walked)
        if restored is theirs:  # no hook in it
            return None
        rest = encode(_state_past(walked))
        restored_reader, rest_reader = UpdateReader(restored), UpdateReader(rest)
        count = restored_reader.uint() + rest_reader.uint()
        return (write_var_uint(count) + restored[restored_reader.pos:structs_end]
                + rest[rest_reader.pos:])

    def _restored(self, update: bytes, walked: set[int]) -> tuple[bytes, int]:
        """``restore`` by reading all of ``update``; also where the structs end (the delete
        set starts) in what it returns. Adds the clients read to ``walked``."""
        parts: list[bytes] = []
        pos = grown = 0
        reader = UpdateReader(update)
        for client, clock, start, end in _type_structs(reader, walked):
            name = self.names.get((client, clock))
            if name is not None and end == start + 1 and update[start] == _Y_MAP:
                parts += [update[pos:start], b"\x05", name]
                pos = end
                grown += len(name)
        restored = b"".join(parts) + update[pos:] if parts else update
        return restored, reader.pos + grown


def state_clocks(state: bytes) -> dict[int, int]:
    """An encoded state vector as ``{client: clock}``."""
    reader = UpdateReader(state)
    clocks = {}
    for _ in range(reader.uint()):
        client = reader.uint()
        clocks[client] = reader.uint()
    return clocks


def readable_rows(rows: Sequence[tuple[bytes, bool]]) -> tuple[list[bytes], XmlHooks]:
    """Stored updates (``(update, holds_hooks)``, written by this server: a version's rows)
    as pycrdt can read them, and the names of their hooks (``XmlHooks.restore`` gives them
    back). Only the rows marked as holding hooks are read in Python."""
    hooks = XmlHooks()
    readable = []
    for update, holds_hooks in rows:
        if holds_hooks:
            update, found = hooks.as_maps(update, bounded=False)
            hooks.keep(found)
        readable.append(update)
    return readable, hooks


_PROBE_KEY = "\x00hook"


def hook_paths(update: bytes, names: dict[_ID, bytes],
               roots: Iterable[str]) -> dict[tuple[str, ...], bytes]:
    """Where the document ``update`` holds the hooks ``names`` (``readable_rows``' maps):
    ``{(root, key, ...): name}`` for each hook under one of the root maps ``roots`` reached
    through map keys alone (a hook in an array or an XML fragment is left out).

    pycrdt tells no struct id, so each hook is found by writing an entry into it by its id
    (a probe update from a client of its own) in a scratch copy, under deep observers: each
    event says where its hook is."""
    if not names:
        return {}
    doc = Doc()
    doc.apply_update(update)
    seen = _ProbeEvents()
    watched = []
    for root_name in roots:
        root = existing_root_map(doc, root_name)
        if root is not None:
            watched.append((root, root.observe_deep(seen.watcher(root_name))))
    found: dict[tuple[str, ...], bytes] = {}
    base = max([*state_clocks(doc.get_state()), *(key[0] for key in names), 0]) + 1
    try:
        for index, key in enumerate(names):  # one at a time: its event names its hook
            seen.paths.clear()
            doc.apply_update(_probe(base + index, key))
            for path in seen.paths:
                found[path] = names[key]
    finally:
        for root, subscription in watched:
            root.unobserve(subscription)
    return found


class _ProbeEvents:
    """Deep observers of root maps noting where a probe entry was written (only strings:
    nothing that holds the document, which pycrdt keeps observers of)."""

    def __init__(self) -> None:
        self.paths: list[tuple[str, ...]] = []

    def watcher(self, root_name: str) -> Callable[[list], None]:
        def note(events: list) -> None:  # pycrdt passes as many arguments as declared
            for event in events:
                path = tuple(event.path)
                keys = event.keys if isinstance(event, MapEvent) else {}
                if _PROBE_KEY in keys and all(isinstance(step, str) for step in path):
                    self.paths.append((root_name, *path))
        return note


def _probe(client: int, hook: _ID) -> bytes:
    """An update of one struct from ``client`` setting ``_PROBE_KEY`` to true in the map
    ``hook`` (no origins: its parent is written out by id)."""
    key = _PROBE_KEY.encode()
    struct = (b"\x28\x00" + write_var_uint(hook[0]) + write_var_uint(hook[1])
              + write_var_uint(len(key)) + key + b"\x01\x78")  # Any, one value: true
    return b"\x01\x01" + write_var_uint(client) + b"\x00" + struct + b"\x00"


def _deleted_ranges(delete_set: bytes, clients: set[int]) -> dict[int, list[tuple[int, int]]]:
    """The ranges ``(clock, end)`` of ``clients`` in an encoded delete set, sorted."""
    reader = UpdateReader(delete_set)
    ranges: dict[int, list[tuple[int, int]]] = {}
    for _ in range(reader.uint()):
        client = reader.uint()
        mine = ranges.setdefault(client, []) if client in clients else None
        for _ in range(reader.uint()):
            clock = reader.uint()
            length = reader.uint()
            if mine is not None:
                mine.append((clock, clock + length))
    for listed in ranges.values():
        listed.sort()
    return ranges


def _in_ranges(ranges: list[tuple[int, int]] | None, clock: int) -> bool:
    if not ranges:
        return False
    index = bisect_right(ranges, (clock, 2**64)) - 1
    return index >= 0 and ranges[index][0] <= clock < ranges[index][1]


def _state_past(clients: Iterable[int]) -> bytes:
    """A state vector holding every clock of ``clients`` (a diff against it leaves them out)."""
    listed = list(clients)
    return write_var_uint(len(listed)) + b"".join(write_var_uint(client) + _ALL_CLOCKS
                                             for client in listed)



def _type_structs(reader: UpdateReader,
                  clients: set[int] | None = None) -> Iterator[tuple[int, int, int, int]]:
    """``(client, clock, start, end)`` of the content of each type struct of the update
    ``reader`` reads (``start`` is where its type ref is), walking its structs as
    ``update_check`` does; ``reader`` is left where the delete set starts. Adds the
    clients of the update to ``clients``."""
    update = reader.data
    uint = reader.uint
    try:
        for _ in range(uint()):
            count = uint()
            client = uint()
            clock = uint()
            if clients is not None:
                clients.add(client)
            for _ in range(count):
                info = update[reader.pos]
                reader.pos += 1
                ref = info & 0x1F
                if ref in (GC_REF, SKIP_REF):
                    clock += uint()
                    continue
                if info & 0x80:  # origin
                    uint()
                    uint()
                if info & 0x40:  # right origin
                    uint()
                    uint()
                if not info & 0xC0:  # no origins: the parent is written out
                    if uint() == 1:
                        reader.skip_bytes()  # root type name
                    else:
                        uint()
                        uint()
                    if info & 0x20:
                        reader.skip_bytes()  # map key
                start = reader.pos
                length, _size = skip_content(reader, ref, update)
                if ref == TYPE_REF:
                    yield client, clock, start, reader.pos
                clock += length
    except IndexError:
        raise HookRefused("update ends in the middle of a value") from None
