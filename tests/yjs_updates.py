"""Hand-built Yjs v1 updates, hostile or not, for tests of ``backend.update_check``.

Writes the bytes directly (Yjs ``UpdateEncoderV1``, lib0 ``writeAny``) so that tests can make
shapes no well-behaved encoder produces: values nested 100,000 deep, chains of thousands of
single-item structs, structs claiming other clients' clocks. Nothing here recurses, so any
depth can be built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ID = tuple[int, int]

# Content refs (the low five bits of a struct's info byte).
GC, DELETED, JSON, BINARY, STRING, EMBED, FORMAT, TYPE, ANY, DOC, SKIP = range(11)
# Type refs of ContentType.
Y_ARRAY, Y_MAP, Y_TEXT, Y_XML_ELEMENT, Y_XML_FRAGMENT, Y_XML_HOOK, Y_XML_TEXT = range(7)


def var_uint(n: int) -> bytes:
    """lib0 ``writeVarUint``."""
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def var_string(s: str | bytes) -> bytes:
    """lib0 ``writeVarString`` (UTF-8 bytes with their length)."""
    data = s.encode() if isinstance(s, str) else s
    return var_uint(len(data)) + data


def any_string(s: str) -> bytes:
    return b"\x77" + var_string(s)


def any_null() -> bytes:
    return b"\x7e"


def any_array(items: list[bytes]) -> bytes:
    return b"\x75" + var_uint(len(items)) + b"".join(items)


def any_object(entries: dict[str, bytes]) -> bytes:
    return b"\x76" + var_uint(len(entries)) + b"".join(
        var_string(k) + v for k, v in entries.items())


def deep_any(depth: int, kind: str = "array") -> bytes:
    """An Any value of arrays (or objects with key "a") nested ``depth`` deep around a null."""
    opener = b"\x75\x01" if kind == "array" else b"\x76\x01\x01a"
    return opener * depth + b"\x7e"


@dataclass
class Struct:
    """One struct of an update: an item (content ``ref`` with its bytes), a GC or a skip."""

    ref: int
    content: bytes
    length: int = 1
    origin: ID | None = None
    right_origin: ID | None = None
    parent: str | ID | None = None
    parent_sub: str | None = None

    def encode(self) -> bytes:
        if self.ref in (GC, SKIP):
            return bytes([self.ref]) + var_uint(self.length)
        info = self.ref | (0x80 if self.origin else 0) | (0x40 if self.right_origin else 0) \
            | (0x20 if self.parent_sub is not None else 0)
        out = bytes([info])
        for ident in (self.origin, self.right_origin):
            if ident:
                out += var_uint(ident[0]) + var_uint(ident[1])
        if not self.origin and not self.right_origin:
            if isinstance(self.parent, str):
                out += var_uint(1) + var_string(self.parent)
            else:
                assert self.parent is not None, "an item without origins needs a parent"
                out += var_uint(0) + var_uint(self.parent[0]) + var_uint(self.parent[1])
            if self.parent_sub is not None:
                out += var_string(self.parent_sub)
        return out + self.content


def any_item(values: list[bytes], **where) -> Struct:
    return Struct(ANY, var_uint(len(values)) + b"".join(values), len(values), **where)


def string_item(text: str, **where) -> Struct:
    return Struct(STRING, var_string(text), len(text.encode("utf-16-le")) // 2, **where)


def type_item(type_ref: int = Y_MAP, name: str | None = None, **where) -> Struct:
    content = var_uint(type_ref) + (var_string(name) if name is not None else b"")
    return Struct(TYPE, content, 1, **where)


def gc(length: int) -> Struct:
    return Struct(GC, b"", length)


@dataclass
class Update:
    """Structs per client (each run starting at a clock) and a delete set."""

    runs: list[tuple[int, int, list[Struct]]] = field(default_factory=list)
    deletes: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, client: int, clock: int, structs: list[Struct]) -> Update:
        self.runs.append((client, clock, structs))
        return self

    def delete(self, client: int, clock: int, length: int) -> Update:
        self.deletes.setdefault(client, []).append((clock, length))
        return self

    def encode(self) -> bytes:
        out = bytearray(var_uint(len(self.runs)))
        for client, clock, structs in self.runs:
            out += var_uint(len(structs)) + var_uint(client) + var_uint(clock)
            for struct in structs:
                out += struct.encode()
        out += var_uint(len(self.deletes))
        for client, ranges in self.deletes.items():
            out += var_uint(client) + var_uint(len(ranges))
            for clock, length in ranges:
                out += var_uint(clock) + var_uint(length)
        return bytes(out)


def deep_any_update(depth: int, client: int = 1, kind: str = "array") -> bytes:
    """One map entry holding an Any value nested ``depth`` deep."""
    return Update().add(client, 0, [any_item([deep_any(depth, kind)], parent="elements",
                                             parent_sub="x")]).encode()


def deep_map_update(depth: int, client: int = 1) -> bytes:
    """A Y.Map in a Y.Map ... ``depth`` deep under the root map "elements", one update."""
    structs = [type_item(Y_MAP, parent="elements", parent_sub="a")]
    structs += [type_item(Y_MAP, parent=(client, i), parent_sub="a") for i in range(depth - 1)]
    return Update().add(client, 0, structs).encode()


def chain_update(count: int, client: int = 1, root: str = "t") -> bytes:
    """``count`` one-character strings, each inserted right after the previous one, each its
    own struct (they cannot merge because each names its right neighbour, as text typed
    with the cursor moved back after every key would)."""
    structs = [string_item("a", parent=root)]
    structs += [string_item("a", origin=(client, i), right_origin=(client + 1, 0))
                for i in range(count - 1)]
    return Update().add(client, 0, structs).encode()
