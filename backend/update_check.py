"""A bounded pre-check of Yjs v1 updates, run before pycrdt sees the bytes.

pycrdt (yrs) decodes and reads recursively and merges adjacent structs by copying, so some
small updates crash or freeze the whole process (issue 18; the reproductions are in
SECURITY.md):

- an ``Any`` value nested ~30,000 deep overflows the native stack in ``apply_update``;
- a shared type nested ~20,000 deep (a Y.Map in a Y.Map ...) applies, but reading it
  (``str()``, ``to_json``, export) overflows the stack, as does deleting it at ~50,000;
- a chain of structs that yrs merges into one item (same client, consecutive clocks, each
  placed right after the previous one, as a typed text is before Yjs merges it) is merged by
  copying the whole item each time: 16,000 one-value ``Any`` structs (240 KB) take 20 s and
  5.9 GB; 16,000 ten-character strings 3 s and 1.3 GB;
- per-struct work: 400,000 two-byte GC structs (800 KB) take 3.5 s, and 64,000 client ids in
  one update 3.8 s (super-linear in the client count).

``check_update`` walks the update once, iteratively (no recursion at all), in time linear in
its length, and raises ``UpdateRefused`` (a ``ValueError``) naming the first limit it breaks.
It follows Yjs ``UpdateDecoderV1`` / ``readItemContent`` and lib0 ``readAny`` and accepts
everything valid Yjs can hold (every content type, XmlHook, subdocuments, GC and skips,
pending structs). ``TypeDepths`` carries the nesting depth of a board's shared types from one
update to the next, so a type cannot be nested one level per update either.

The same walk tells which root type each struct lives under, as far as the comments map
(issue 20) is concerned: a depth carries the ``IN_COMMENTS`` bit when the chain of parents
and origins ends at the root ``"comments"``. ``outside_comments`` uses it to admit an update
from a view-only link only if every struct it adds and every item it deletes lies there.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

MAX_ANY_DEPTH = 100
"""Deepest nesting of a JSON-like ``Any`` value (arrays and objects)."""
MAX_TYPE_DEPTH = 100
"""Deepest nesting of shared types, a root type counting as 1 (a board needs 3)."""
MAX_CLIENTS = 10_000
"""Most client ids with structs in one update (each browser tab session is one id)."""
MAX_STRUCTS_BASE = 100_000
MAX_STRUCTS_PER_BYTE = 1 / 10
"""Most structs in one update: ``MAX_STRUCTS_BASE`` plus one per ten bytes of update."""
MAX_ADJACENT_GAPS = 1_000
"""Most GC/skip structs following another GC/skip of the same client (encoders merge them)."""
MAX_MERGE_COPY_BYTES = 64 * 1024 * 1024
"""Most bytes yrs may copy merging chained structs into items, estimated per update (an
update typed onto a text copies that text once; the default board cap is 64 MiB)."""
ANY_VALUE_COPY_BYTES = 48
"""Estimated bytes copied per ``Any``/JSON value when yrs merges a chain (measured)."""

IN_COMMENTS = 1 << 16
"""Bit set in the depth of a struct whose parent type lies in the root ``comments`` map."""
COMMENTS_ROOT = b"comments"
_DEPTH_MASK = IN_COMMENTS - 1

_ID = tuple[int, int]
_BIG_ENDIAN = sys.byteorder == "big"
_ROOT = 0  # parent depth of a root type's children is 1: see _parent_depth
_DEAD = -1  # under a GC'd or deleted-and-collected parent: yrs turns the item into a GC
_UNKNOWN = -2  # its parent is neither in this update nor in the board (a pending struct)
# struct and content refs (lib0 encoding); the public ones are read by ``xml_hooks`` too
TYPE_REF, GC_REF, SKIP_REF, _STRING, _ANY, _JSON, _DELETED = 7, 0, 10, 4, 8, 2, 1
_XML_ELEMENT, XML_HOOK_REF = 3, 5
_MAX_VAR_UINT = 2**53  # lib0 refuses integers above JavaScript's safe range
_NOT_CONTINUATION = bytes(range(0x80)) + bytes(range(0xC0, 0x100))
_NOT_FOUR_BYTE_LEAD = bytes(range(0xF0)) + bytes(range(0xF8, 0x100))


class UpdateRefused(ValueError):
    """The update breaks a limit of this module or is not valid Yjs v1 (the message says)."""


@dataclass
class UpdateSummary:
    """What an accepted update holds, for the ownership check and ``TypeDepths.record``.

    ``clocks``: client id -> (first clock, end clock) of its structs; ``deletes``: client id
    -> end clock of its last delete range; ``runs``: per struct (client, clock, length, depth
    of its parent type) and ``tails``: per client its last item as yrs may merge into it
    (end clock, content type, right origin, bytes), both for ``TypeDepths``.
    """

    clocks: dict[int, tuple[int, int]] = field(default_factory=dict)
    deletes: dict[int, int] = field(default_factory=dict)
    runs: list[tuple[int, int, int, int]] = field(default_factory=list)
    tails: dict[int, tuple[int, int, _ID | None, int]] = field(default_factory=dict)
    structs: int = 0
    xml_hooks: int = 0
    """``Y.XmlHook`` types among the structs (pycrdt cannot read them: see ``xml_hooks``)."""
    delete_set_at: int = 0
    """Where the delete set starts in the update (``outside_comments`` reads it again)."""
    cuts: list[tuple[int, int, int, int]] = field(default_factory=list)
    """Where the update may be cut (``check_update``'s ``cut_structs``): per client its
    first struct and every ``cut_structs``-th one as (client, index in its group, clock,
    position of the struct in the update)."""
    groups: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per client its struct count and where its structs end in the update."""


class TypeDepths:
    """What the check remembers of one board between updates: the depth of the parent type
    of every struct, kept as runs per client, and each client's last item as yrs may merge
    the next struct into it (a chain continued over several updates copies that item).

    A board's own clients write long runs of items with one parent, so a 10,000-element
    board keeps a few tens of thousands of runs (three ``array('q')`` per client).
    """

    def __init__(self) -> None:
        self._runs: dict[int, tuple[array, array, array]] = {}
        self._tails: dict[int, tuple[int, int, _ID | None, int]] = {}

    def end_clock(self, client: int) -> int:
        """The clock after the last struct of ``client`` the board holds (0: none)."""
        tail = self._tails.get(client)
        return 0 if tail is None else tail[0]

    def tail(self, client: int) -> tuple[int, int, _ID | None, int] | None:
        """The last item of ``client`` as (end clock, content type, right origin, bytes)."""
        return self._tails.get(client)

    def parent_depth(self, client: int, clock: int) -> int:
        """Depth of the parent type of the struct holding ``(client, clock)``: ``_DEAD`` for a
        GC'd struct, ``_UNKNOWN`` if no struct of the board holds that clock."""
        runs = self._runs.get(client)
        if runs is None:
            return _UNKNOWN
        starts, ends, depths = runs
        index = bisect_right(starts, clock) - 1
        if index < 0 or clock >= ends[index]:
            return _UNKNOWN
        return depths[index]

    def run_at(self, client: int, clock: int) -> tuple[int, int] | None:
        """(end clock, parent depth) of the board's run holding ``(client, clock)``, or None."""
        runs = self._runs.get(client)
        if runs is None:
            return None
        starts, ends, depths = runs
        index = bisect_right(starts, clock) - 1
        if index < 0 or clock >= ends[index]:
            return None
        return ends[index], depths[index]

    def record(self, summary: UpdateSummary) -> None:
        """Remember the structs of an update that was applied."""
        for client, tail in summary.tails.items():
            known = self._tails.get(client)
            if known is None or tail[0] >= known[0]:
                self._tails[client] = tail
        for client, clock, length, depth in summary.runs:
            runs = self._runs.get(client)
            if runs is None:
                runs = self._runs[client] = (array("q"), array("q"), array("q"))
            starts, ends, depths = runs
            if starts and clock >= starts[-1]:
                if clock < ends[-1]:  # a struct the board already holds (a duplicate)
                    if clock + length <= ends[-1]:
                        continue
                    length -= ends[-1] - clock
                    clock = ends[-1]
                if clock == ends[-1] and depths[-1] == depth:
                    ends[-1] = clock + length
                    continue
                starts.append(clock)
                ends.append(clock + length)
                depths.append(depth)
                continue
            index = bisect_right(starts, clock)  # out of order (a pending struct): rare
            if index and clock < ends[index - 1]:
                continue
            starts.insert(index, clock)
            ends.insert(index, clock + length)
            depths.insert(index, depth)

    @property
    def run_count(self) -> int:
        """Runs held (a measure of this index's memory: 24 bytes each)."""
        return sum(len(runs[0]) for runs in self._runs.values())

    def to_bytes(self) -> bytes:
        """Everything held, as ``from_bytes`` reads it back (little-endian 64-bit integers:
        per client its id, run count and runs, then per client its tail)."""
        out = array("q", [len(self._runs)])
        for client, (starts, ends, depths) in self._runs.items():
            out.extend((client, len(starts)))
            out.extend(starts)
            out.extend(ends)
            out.extend(depths)
        out.append(len(self._tails))
        for client, (end, kind, right, size) in self._tails.items():
            out.extend((client, end, kind, size, right is not None,
                        *(right if right is not None else (0, 0))))
        if _BIG_ENDIAN:
            out.byteswap()
        return out.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> TypeDepths:
        """The depths ``to_bytes`` wrote. Raises ``ValueError`` for anything else (a length
        that is not whole integers, a count past the end, bytes left over)."""
        if len(data) % 8:
            raise ValueError("type depths: not whole 64-bit integers")
        values = array("q", data)
        if _BIG_ENDIAN:
            values.byteswap()
        depths = cls()
        pos = 0

        def take(count: int) -> array:
            nonlocal pos
            if count < 0 or pos + count > len(values):
                raise ValueError("type depths: a count runs past the end")
            pos += count
            return values[pos - count:pos]

        for _ in range(take(1)[0]):
            client, count = take(2)
            depths._runs[client] = (take(count), take(count), take(count))
        for _ in range(take(1)[0]):
            client, end, kind, size, has_right, right_client, right_clock = take(7)
            depths._tails[client] = (end, kind, (right_client, right_clock) if has_right
                                     else None, size)
        if pos != len(values):
            raise ValueError("type depths: bytes left over")
        return depths


def check_update(update: bytes, depths: TypeDepths | None = None,
                 cut_structs: int = 0) -> UpdateSummary:
    """Check one Yjs v1 update against this module's limits; return what it holds.

    ``depths`` resolves parents outside the update (the board's earlier updates). With
    ``cut_structs``, ``UpdateSummary.cuts`` lists every ``cut_structs``-th struct of each
    client (``update_parts`` cuts the update there). Raises ``UpdateRefused`` for anything
    pycrdt should not see.
    """
    reader = UpdateReader(update)
    try:
        depths = depths or TypeDepths()
        summary, links = _read_structs(reader, update, depths, cut_structs or 1 << 62)
        summary.delete_set_at = reader.pos
        summary.xml_hooks = reader.xml_hooks
        _read_delete_set(reader, summary)
    except IndexError:
        raise UpdateRefused("update ends in the middle of a value") from None
    if reader.pos > len(update):  # a run of numbers skipped at once ran past the end
        raise UpdateRefused("update ends in the middle of a value")
    if reader.pos != len(update):
        raise UpdateRefused(f"{len(update) - reader.pos} bytes after the end of the update")
    _resolve_depths(summary, links, depths)
    return summary


class UpdateReader:
    """A position in an update's bytes, with lib0's readers (also used by ``xml_hooks``)."""

    __slots__ = ("data", "pos", "xml_hooks")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.xml_hooks = 0

    def uint(self) -> int:
        data, pos = self.data, self.pos
        byte = data[pos]
        pos += 1
        if byte < 0x80:
            self.pos = pos
            return byte
        value, shift = byte & 0x7F, 7
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 56:
                raise UpdateRefused("variable-length integer longer than 8 bytes")
        if value > _MAX_VAR_UINT:
            raise UpdateRefused(f"integer {value} above 2**53")
        self.pos = pos
        return value

    def count(self, what: str) -> int:
        """A length or count; each counted thing takes at least one byte, so a count above
        the bytes left is a lie (and would make a decoder allocate for nothing)."""
        value = self.uint()
        if value > len(self.data) - self.pos:
            raise UpdateRefused(f"{what} of {value} with {len(self.data) - self.pos} bytes left")
        return value

    def id(self, own: bytes, own_client: int) -> _ID:
        """An ID: two varUints (client, clock). An origin or parent nearly always belongs to
        the client whose structs are being read: its client id (a random 32-bit number, five
        bytes) is recognised by comparing its encoding ``own`` instead of decoding it."""
        if self.data.startswith(own, self.pos):
            self.pos += len(own)
            return own_client, self.uint()
        return self.uint(), self.uint()

    def skip_bytes(self) -> tuple[int, int]:
        """Skip a length-prefixed byte string; return its (start, end)."""
        data, start = self.data, self.pos + 1
        size = data[start - 1]
        if size >= 0x80:  # a length of more than one byte: the general (and checked) path
            size = self.count("string length")
            start = self.pos
        elif size > len(data) - start:
            raise UpdateRefused(f"string length of {size} with {len(data) - start} bytes left")
        self.pos = start + size
        return start, self.pos

    def skip_var_int(self) -> None:
        data, pos = self.data, self.pos
        while data[pos] >= 0x80:
            pos += 1
            if pos - self.pos > 8:
                raise UpdateRefused("variable-length integer longer than 8 bytes")
        self.pos = pos + 1

    def skip_any(self) -> int:
        """Skip one lib0 ``Any`` value without recursion; return how many values it holds.

        Raises ``UpdateRefused`` past ``MAX_ANY_DEPTH`` levels of arrays/objects."""
        data = self.data
        stack: list[list[int]] = []  # [values left, 1 if an object] per open array/object
        values = 0
        while True:
            values += 1
            tag = data[self.pos]
            self.pos += 1
            if tag == 118 or tag == 117:  # object, array
                size = self.count("Any length")
                if size:
                    if len(stack) >= MAX_ANY_DEPTH:
                        raise UpdateRefused(f"Any value nested deeper than {MAX_ANY_DEPTH}")
                    pos = self.pos
                    if tag == 117 and data[pos:pos + 9 * size:9] == _FLOAT64_TAGS[:size]:
                        self.pos = pos + 9 * size  # numbers only (points): one slice compare
                        values += size
                    else:
                        stack.append([size, tag == 118])
            elif tag == 119 or tag == 116:  # string, binary
                self.skip_bytes()
            elif tag == 125:  # integer
                self.skip_var_int()
            elif tag == 123 or tag == 122:  # float64, bigint
                self.pos += 8
            elif tag == 124:  # float32
                self.pos += 4
            elif tag < 120:  # 120-127: true, false, null, undefined
                raise UpdateRefused(f"unknown Any type {tag}")
            while stack:  # find the next value to read
                top = stack[-1]
                if top[0] == 0:
                    stack.pop()
                    continue
                top[0] -= 1
                if top[1]:
                    self.skip_bytes()  # the key of an object entry
                break
            else:
                return values


def _utf16_length(data: bytes, start: int, end: int) -> int:
    chunk = data[start:end]
    continuation = len(chunk) - len(chunk.translate(None, _NOT_CONTINUATION))
    four_byte = len(chunk) - len(chunk.translate(None, _NOT_FOUR_BYTE_LEAD))
    return len(chunk) - continuation + four_byte


class _Links:
    """Where each struct of an update gets its parent type from, until depths are resolved.

    ``kinds[i]``: _ITEM, _TYPE_ITEM, _GC_STRUCT or _SKIP_STRUCT; ``modes[i]``: _BY_ROOT (a
    root type is the parent), _BY_PARENT (``targets[i]`` is the parent type's id) or
    _BY_ORIGIN (the parent is that of the struct holding ``targets[i]``)."""

    __slots__ = ("kinds", "modes", "resolved", "starts", "targets")

    def __init__(self) -> None:
        self.kinds: list[int] = []
        self.modes: list[int] = []
        self.targets: list[_ID | None] = []
        self.resolved: list[int | None] = []  # parent depth, None until known
        self.starts: dict[int, tuple[list[int], int]] = {}  # client -> clocks, first index


_ITEM, _TYPE_ITEM, _GC_STRUCT, _SKIP_STRUCT = range(4)
_BY_ROOT, _BY_PARENT, _BY_ORIGIN, _BY_NOTHING = range(4)


def _read_structs(reader: UpdateReader, update: bytes, depths: TypeDepths,
                  cut_structs: int) -> tuple[UpdateSummary, _Links]:
    """Read every struct (the hot loop: varints inlined for their one-byte case), resolving
    the parent depth at once where the parent or origin is an earlier struct of the same
    client (nearly always); the rest waits for ``_resolve_depths``."""
    summary = UpdateSummary()
    links = _Links()
    client_count = reader.count("client count")
    if client_count > MAX_CLIENTS:
        raise UpdateRefused(f"{client_count} client ids in one update (limit {MAX_CLIENTS})")
    max_structs = MAX_STRUCTS_BASE + int(len(update) * MAX_STRUCTS_PER_BYTE)
    size_of_update = len(update)
    adjacent_gaps = 0
    merge_copy = 0
    data = update
    runs, kinds, modes, targets = summary.runs, links.kinds, links.modes, links.targets
    resolved = links.resolved
    uint = reader.uint
    for _ in range(client_count):
        struct_count = reader.count("struct count")
        client_at = reader.pos
        client = uint()
        own = data[client_at:reader.pos]  # the client id as encoded (see UpdateReader.id)
        clock = uint()
        if client in summary.clocks:
            raise UpdateRefused(f"client {client} listed twice")
        summary.structs += struct_count
        if summary.structs > max_structs:
            raise UpdateRefused(f"more than {max_structs} structs in a {len(update)}-byte "
                                "update")
        first = clock
        first_index = len(runs)
        starts: list[int] = []
        links.starts[client] = (starts, first_index)
        previous_gap = False
        chain_kind = -1  # content type of the item the next struct would be merged into
        chain_end: _ID | None = None
        chain_right: _ID | None = None
        chain_bytes = 0
        tail = depths.tail(client)
        if tail is not None and tail[0] == clock and tail[1] >= 0:  # continues the board's
            chain_kind, chain_right, chain_bytes = tail[1], tail[2], tail[3]
            chain_end = (client, clock - 1)
        pos = reader.pos
        cuts = summary.cuts
        for index in range(struct_count):
            if not index % cut_structs:
                cuts.append((client, index, clock, pos))
            info = data[pos]
            pos += 1
            ref = info & 0x1F
            starts.append(clock)
            if ref in (GC_REF, SKIP_REF):
                reader.pos = pos
                length = uint()
                pos = reader.pos
                if previous_gap:
                    adjacent_gaps += 1
                    if adjacent_gaps > MAX_ADJACENT_GAPS:
                        raise UpdateRefused(f"more than {MAX_ADJACENT_GAPS} unmerged GC/skip "
                                            "structs")
                previous_gap = True
                chain_kind = -1
                runs.append((client, clock, length, _DEAD if ref == GC_REF else _UNKNOWN))
                kinds.append(_GC_STRUCT if ref == GC_REF else _SKIP_STRUCT)
                modes.append(_BY_NOTHING)
                targets.append(None)
                resolved.append(_DEAD if ref == GC_REF else None)
                clock += length
                continue
            previous_gap = False
            reader.pos = pos
            origin = reader.id(own, client) if info & 0x80 else None
            right = reader.id(own, client) if info & 0x40 else None
            root = 1
            if origin is None and right is None:
                if uint() == 1:
                    start, end = reader.skip_bytes()  # the root type's name
                    if data[start:end] == COMMENTS_ROOT:
                        root = 1 | IN_COMMENTS
                    mode, target = _BY_ROOT, None
                else:
                    mode, target = _BY_PARENT, reader.id(own, client)
                if info & 0x20:
                    reader.skip_bytes()  # the map key
            else:
                mode, target = _BY_ORIGIN, origin or right
            pos = reader.pos
            if ref == _ANY and data[pos] == 1 and pos + 3 <= size_of_update:
                # one Any value (a map field): a short string or a fixed-size scalar inline
                tag = data[pos + 1]
                fixed = _ANY_FIXED_SIZE[tag - 120] if tag >= 120 else -1
                if tag == 119 and data[pos + 2] < 0x80:
                    start = pos + 3
                    pos = start + data[pos + 2]
                    if pos > size_of_update:
                        raise UpdateRefused(f"string length of {pos - start} with "
                                            f"{size_of_update - start} bytes left")
                    length, size = 1, ANY_VALUE_COPY_BYTES
                elif fixed >= 0:
                    pos += 2 + fixed
                    length, size = 1, ANY_VALUE_COPY_BYTES
                else:
                    length, size = skip_content(reader, ref, data)
                    pos = reader.pos
            else:
                length, size = skip_content(reader, ref, data)
                pos = reader.pos
            if length == 0:
                raise UpdateRefused(f"empty struct at client {client} clock {clock}")
            # yrs merges such a struct into the item before it by copying that item's content
            if ref == chain_kind and origin == chain_end and right == chain_right:
                merge_copy += chain_bytes
                if merge_copy > MAX_MERGE_COPY_BYTES:
                    raise UpdateRefused(
                        "a chain of structs that pycrdt would merge by repeated copying "
                        f"(client {client} clock {clock}; over {MAX_MERGE_COPY_BYTES} bytes)")
                chain_bytes += size
            else:
                chain_bytes = size
            chain_kind = ref if ref in (_STRING, _ANY, _JSON) else -1
            chain_end = (client, clock + length - 1)
            chain_right = right
            depth = None
            if mode == _BY_ROOT:
                depth = root
            elif target[0] == client and target[1] < clock:  # an earlier struct of this run
                offset = target[1] - first
                if 0 <= offset < len(starts) - 1 and starts[offset] == target[1]:
                    holder = first_index + offset  # every struct before it is one clock long
                else:
                    holder = first_index + bisect_right(starts, target[1], 0,
                                                        len(starts) - 1) - 1
                holder_depth = resolved[holder] if holder >= first_index else None
                if holder_depth is not None and kinds[holder] != _SKIP_STRUCT:
                    depth = holder_depth + 1 if mode == _BY_PARENT and holder_depth > 0 \
                        else holder_depth
            is_type = ref == TYPE_REF
            if depth is not None and is_type:
                _check_type_depth(depth, client, clock)
            runs.append((client, clock, length, _UNKNOWN))
            kinds.append(_TYPE_ITEM if is_type else _ITEM)
            modes.append(mode)
            targets.append(target)
            resolved.append(depth)
            clock += length
        reader.pos = pos
        summary.groups[client] = (struct_count, pos)
        summary.clocks[client] = (first, clock)
        summary.tails[client] = (clock, chain_kind, chain_right, chain_bytes)
    return summary, links


def _check_type_depth(depth: int, client: int, clock: int) -> None:
    """Refuse a shared type whose parent is ``depth`` deep (or unknown to the board)."""
    if depth == _UNKNOWN:
        raise UpdateRefused(f"shared type at client {client} clock {clock} in a parent this "
                            "board does not hold")
    if (depth & _DEPTH_MASK if depth > 0 else depth) + 1 > MAX_TYPE_DEPTH:
        raise UpdateRefused(f"shared types nested deeper than {MAX_TYPE_DEPTH}")


def skip_content(reader: UpdateReader, ref: int, update: bytes) -> tuple[int, int]:
    """Skip one item's content; return its clock length and an estimate of the bytes yrs
    copies when it merges the item into another."""
    if ref == _ANY:
        count = reader.count("Any count")
        pos = reader.pos
        tag = update[pos]
        if tag == 123 and update[pos:pos + 9 * count:9] == _FLOAT64_TAGS[:count]:
            reader.pos = pos + 9 * count  # numbers only (points): one slice compare
        else:
            for _ in range(count):  # scalars inline; strings and containers in skip_any
                tag = update[pos]
                if tag >= 120:
                    size = _ANY_FIXED_SIZE[tag - 120]
                    if size >= 0:
                        pos += 1 + size
                        continue
                    if tag == 125:  # integer (lib0 varInt)
                        pos += 1
                        while update[pos] >= 0x80:
                            pos += 1
                        pos += 1
                        continue
                reader.pos = pos
                reader.skip_any()
                pos = reader.pos
            reader.pos = pos
        return count, count * ANY_VALUE_COPY_BYTES
    if ref == _STRING:
        start, end = reader.skip_bytes()
        if update[start:end].isascii():
            return end - start, end - start
        return _utf16_length(update, start, end), end - start
    if ref == _DELETED:
        return reader.uint(), 0
    if ref == _JSON:
        count = reader.count("JSON count")
        for _ in range(count):
            reader.skip_bytes()
        return count, count * ANY_VALUE_COPY_BYTES
    if ref == 3 or ref == 5:  # binary; embed (JSON text)
        reader.skip_bytes()
        return 1, 0
    if ref == 6:  # format: key, JSON value
        reader.skip_bytes()
        reader.skip_bytes()
        return 1, 0
    if ref == TYPE_REF:
        type_ref = reader.uint()
        if type_ref > 6:
            raise UpdateRefused(f"unknown shared type {type_ref}")
        if type_ref in (_XML_ELEMENT, XML_HOOK_REF):
            reader.skip_bytes()  # node or hook name
            reader.xml_hooks += type_ref == XML_HOOK_REF
        return 1, 0
    if ref == 9:  # subdocument: guid, options
        reader.skip_bytes()
        reader.skip_any()
        return 1, 0
    raise UpdateRefused(f"unknown content type {ref}")


_FLOAT64_TAGS = b"\x7b" * 65536
# bytes after the tag of Any types 120-127 whose size is fixed (-1: variable)
_ANY_FIXED_SIZE = (0, 0, 8, 8, 4, -1, 0, 0)  # true false bigint float64 float32 int null undef


def outside_comments(update: bytes, summary: UpdateSummary, depths: TypeDepths) -> str | None:
    """Why ``update`` (checked: ``summary`` is ``check_update(update, depths)``) touches
    something outside the root ``comments`` map, or None when every struct it adds has its
    parent there and every range it deletes covers only items there (of the update or the
    board). A struct whose parent is unknown (pending) or collected counts as outside.
    """
    for client, clock, _length, depth in summary.runs:
        if depth <= 0 or not depth & IN_COMMENTS:
            return f"struct at client {client} clock {clock} is not in the comments map"
    own: dict[int, tuple[list[int], list[tuple[int, int]]]] = {}  # client -> starts, runs
    for client, clock, length, depth in summary.runs:  # each client's structs in clock order
        starts, runs = own.setdefault(client, ([], []))
        starts.append(clock)
        runs.append((clock + length, depth))
    reader = UpdateReader(update)
    reader.pos = summary.delete_set_at
    for _ in range(reader.uint()):
        client = reader.uint()
        for _ in range(reader.uint()):
            clock = reader.uint()
            end = clock + reader.uint()
            while clock < end:
                run = _run_at(own.get(client), clock) or depths.run_at(client, clock)
                if run is None or run[1] <= 0 or not run[1] & IN_COMMENTS:
                    return f"deletes client {client} clock {clock}, not in the comments map"
                clock = run[0]
    return None


def _run_at(own: tuple[list[int], list[tuple[int, int]]] | None,
            clock: int) -> tuple[int, int] | None:
    """(end clock, depth) of the struct of one client's ``own`` (starts, (end, depth)) that
    holds ``clock``, or None."""
    if own is None:
        return None
    starts, runs = own
    index = bisect_right(starts, clock) - 1
    if index < 0 or clock >= runs[index][0]:
        return None
    return runs[index]


def _read_delete_set(reader: UpdateReader, summary: UpdateSummary) -> None:
    for _ in range(reader.count("delete set client count")):
        client = reader.uint()
        end = 0
        for _ in range(reader.count("delete range count")):
            clock = reader.uint()
            end = max(end, clock + reader.uint())
        summary.deletes[client] = max(end, summary.deletes.get(client, 0))


def _resolve_depths(summary: UpdateSummary, links: _Links, depths: TypeDepths) -> None:
    """Set the parent depth of every struct ``_read_structs`` could not resolve, and refuse a
    shared type nested deeper than ``MAX_TYPE_DEPTH`` or made in a parent the board does
    not hold.

    Origins and parents form chains of any length (16,000 structs each after the previous
    one), so they are followed along an explicit path, each struct resolved once."""
    runs, kinds, modes, targets = summary.runs, links.kinds, links.modes, links.targets
    resolved = links.resolved
    on_path = bytearray(len(runs))
    for first in range(len(runs)):
        if resolved[first] is not None:
            continue
        path: list[int] = []
        current = first
        while True:
            if on_path[current]:
                raise UpdateRefused("structs whose origins form a cycle")
            on_path[current] = 1
            path.append(current)
            mode = modes[current]
            if mode == _BY_ROOT:
                depth = 1
                break
            target = targets[current]
            holder = None if target is None else _struct_at(links.starts, runs, target)
            if holder is not None and kinds[holder] == _SKIP_STRUCT:
                holder = None  # a skip stands for a struct held elsewhere: ask the board
            if holder is None:
                depth = _UNKNOWN if target is None else depths.parent_depth(*target)
                if mode == _BY_PARENT and depth > 0:
                    depth += 1
                break
            if resolved[holder] is not None:
                depth = resolved[holder]
                if mode == _BY_PARENT and depth > 0:
                    depth += 1
                break
            current = holder
        # unwind: a struct is one level below its holder when the holder is its parent
        for member in reversed(path):
            on_path[member] = 0
            if member != path[-1] and modes[member] == _BY_PARENT and depth > 0:
                depth += 1
            resolved[member] = depth
            if kinds[member] == _TYPE_ITEM:
                _check_type_depth(depth, runs[member][0], runs[member][1])
    for index, depth in enumerate(resolved):
        client, clock, length, _old = runs[index]
        runs[index] = (client, clock, length, _UNKNOWN if depth is None else depth)


def _struct_at(starts_by_client: dict[int, tuple[list[int], int]],
               runs: list[tuple[int, int, int, int]], target: _ID) -> int | None:
    """Index of the struct of this update holding the clock ``target``, or None."""
    found = starts_by_client.get(target[0])
    if found is None:
        return None
    starts, first_index = found
    position = bisect_right(starts, target[1]) - 1
    if position < 0:
        return None
    index = first_index + position
    _client, clock, length, _depth = runs[index]
    return index if target[1] < clock + length else None
