"""Naming the schema violations of a refused import without copying the file (issue 15).

jsonschema-rs checks a Python value in place (``is_valid`` costs no memory), but every error it
reports carries a Python copy of the value at fault, and a root-level error's value is the whole
file: a 19 MiB body of 2,000,000 numbers under one unknown key cost +199 MiB that way
(BENCHMARKS.md, "Import of hostile files"). So a refused file is first *slimmed*, keeping
whether and where it is invalid:

- the value of a key the schema does not name (allowed anywhere but at the root, and never
  checked) becomes ``None``;
- a list longer than the schema's ``maxItems`` at its place is reported here, by name, and
  becomes ``[]``; a string past the longest ``maxLength`` is cut just past it (still refused);
- an object or list where the schema wants another type becomes an empty one (still refused).

Root-level errors (a missing or unknown top-level key) are then taken from a stub of the root's
keys, the rest from the slimmed board with its root made whole, so no error's value is bigger
than one element's known fields. Its lists are checked ``CHUNK_ITEMS`` items at a time, up to
the first part that holds a violation, so no more than that many items' errors are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs

Path = list[str | int]
CHUNK_ITEMS = 256
"""Elements (or comment threads) checked at once while looking for a refused file's first
violations. jsonschema-rs makes every error of a call before the first one is read, each
with a copy of its value: 160,000 elements of nine wrong fields each (a 22 MiB import) took
212 s, +2.9 GiB of memory and froze the event loop for up to 20 s in one call."""
_CHUNKED = ("comments", "elements")


@dataclass(frozen=True)
class Layout:
    """Where the schema's objects and lists are: the keys it names at each kind of object,
    and each list's ``maxItems``."""

    root: frozenset[str]
    required: tuple[str, ...]
    meta: frozenset[str]
    element: frozenset[str]
    thread: frozenset[str]
    message: frozenset[str]
    max_items: dict[str, int]
    """``elements``, ``comments``, ``points``, ``groupIds``, ``messages``."""
    max_length: int


def layout_of(schema: dict[str, Any]) -> Layout:
    """The layout of shared/board.schema.json."""
    defs = schema["$defs"]
    element = defs["element"]
    fields = dict(element["properties"])
    for branch in element.get("allOf", []):
        fields.update(branch["then"]["properties"])
    lengths = [_max_length(schema)]
    return Layout(
        root=frozenset(schema["properties"]), required=tuple(schema["required"]),
        meta=frozenset(defs["meta"]["properties"]), element=frozenset(fields),
        thread=frozenset(defs["thread"]["properties"]),
        message=frozenset(defs["message"]["properties"]),
        max_items={
            "elements": schema["properties"]["elements"]["maxItems"],
            "comments": schema["properties"]["comments"]["maxItems"],
            "groupIds": element["properties"]["groupIds"]["maxItems"],
            "points": max(branch["then"]["properties"]["points"]["maxItems"]
                          for branch in element.get("allOf", [])
                          if "points" in branch["then"]["properties"]),
            "messages": defs["thread"]["properties"]["messages"]["maxItems"],
        },
        max_length=max(lengths))


def _max_length(node: Any) -> int:
    if isinstance(node, dict):
        own = node.get("maxLength", 0) if isinstance(node.get("maxLength"), int) else 0
        return max([own, *(_max_length(v) for v in node.values())])
    if isinstance(node, list):
        return max([0, *(_max_length(v) for v in node)])
    return 0


def violations(data: Any, validator: jsonschema_rs.Draft202012Validator, layout: Layout,
               version: int) -> list[tuple[Path, str]]:
    """``(instance path, message)`` of the violations of a file ``validator.is_valid``
    refused, found on the slimmed file (see the module docstring): every one outside the
    board's lists, and those of its first part of ``CHUNK_ITEMS`` elements or threads that
    holds any (``first_errors``)."""
    if not isinstance(data, dict):
        return [([], "the file is not a JSON object")]
    found: list[tuple[Path, str]] = []
    stub = {key: None for key in data}
    for error in validator.iter_errors(stub):
        if not error.instance_path:
            found.append(([], error.message))
    board = _Slimmer(layout, found).root(data)
    board.setdefault("schemaVersion", version)
    board.setdefault("meta", {})
    board.setdefault("elements", [])
    found.extend(first_errors(board, validator))
    return found


def first_errors(board: Any, validator: jsonschema_rs.Draft202012Validator
                 ) -> list[tuple[Path, str]]:
    """``(instance path, message)`` of the violations of ``board`` outside its ``comments``
    and ``elements`` lists, and inside them as far as the first part of ``CHUNK_ITEMS`` items
    holding any (threads first, then elements: the order their paths sort in). The items of
    a list are checked independently of each other (a list over ``maxItems`` is the
    slimmer's to name), so the first violations found this way are the file's first."""
    lists = {name: board[name] for name in _CHUNKED if isinstance(board, dict)
             and isinstance(board.get(name), list) and len(board[name]) > CHUNK_ITEMS}
    if not lists:
        return _errors(board, validator)
    shell = {**board, **{name: [] for name in lists}}
    found = _errors(shell, validator)
    for name, items in lists.items():
        for start in range(0, len(items), CHUNK_ITEMS):
            part = {**shell, name: items[start:start + CHUNK_ITEMS]}
            if not found and validator.is_valid(part):
                continue
            inside = [([name, path[1] + start, *path[2:]], message)
                      for path, message in _errors(part, validator)
                      if len(path) > 1 and path[0] == name]
            if inside:
                return found + inside
    return found or _errors(board, validator)  # a list-wide violation (``maxItems``)


def _errors(instance: Any, validator: jsonschema_rs.Draft202012Validator
            ) -> list[tuple[Path, str]]:
    return [(list(error.instance_path), error.message)
            for error in validator.iter_errors(instance)]


class _Slimmer:
    """Copies the parts of a board the schema checks, small (the module docstring says how),
    noting each list over its ``maxItems``."""

    def __init__(self, layout: Layout, found: list[tuple[Path, str]]) -> None:
        self.layout = layout
        self.found = found

    def root(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.layout.root & data.keys():
            value = data[key]
            if key == "meta":
                value = self.obj(value, self.layout.meta, [key], {})
            elif key in ("elements", "comments"):
                kind = self.layout.element if key == "elements" else self.layout.thread
                value = self.items(value, key, [key], lambda item, path, k=kind:
                                   self.obj(item, k, path, self.layout.max_items))
            else:
                value = self.scalar(value)
            out[key] = value
        return out

    def obj(self, value: Any, known: frozenset[str], path: Path,
            lists: dict[str, int]) -> Any:
        if isinstance(value, list):
            return []
        if not isinstance(value, dict):
            return self.scalar(value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key not in known:
                out[key] = None
            elif key == "messages" and known is self.layout.thread:
                out[key] = self.items(item, key, [*path, key], lambda m, p:
                                      self.obj(m, self.layout.message, p, {}))
            elif key in lists and key in ("points", "groupIds"):
                out[key] = self.items(item, key, [*path, key],
                                      lambda v, _p: self.scalar(v))
            else:
                out[key] = self.scalar(item)
        return out

    def items(self, value: Any, name: str, path: Path, each) -> Any:
        if isinstance(value, dict):
            return {}
        if not isinstance(value, list):
            return self.scalar(value)
        limit = self.layout.max_items[name]
        if len(value) > limit:
            self.found.append((path, f"has {len(value)} items, more than the {limit} allowed"))
            return []
        return [each(item, [*path, index]) for index, item in enumerate(value)]

    def scalar(self, value: Any) -> Any:
        """A value where the schema wants a scalar: containers become empty, strings are cut
        just past the longest ``maxLength``."""
        if isinstance(value, dict):
            return {}
        if isinstance(value, list):
            return []
        if isinstance(value, str) and len(value) > self.layout.max_length:
            return value[:self.layout.max_length + 1]
        return value
