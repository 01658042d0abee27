"""The board document model (``shared/board.schema.json``) on the server side.

Reads a pycrdt ``Doc`` into plain elements the way every renderer must (shared/BOARD.md,
"Tolerance rules"): a missing or mistyped field takes the schema default, a number is clamped to
the schema range, an element that cannot be drawn is skipped and counted, unknown fields are
kept. The reverse, ``build_import_update``, turns the JSON export form into one Yjs update (a
``Y.Map`` per element, ``Y.Array`` points, ``Y.Text`` text) on top of a board's current state.
Comment threads (``doc.getMap("comments")``, issue 20) are read and written the same way: a
``Y.Map`` per thread holding a ``Y.Array`` of message ``Y.Map``s whose ``text`` is a ``Y.Text``.

Every default, range and cap comes from the schema file; none is repeated here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import jsonschema_rs
from pycrdt import Array, Doc, Map, Text

from .doc_values import element_maps, plain_map, root_map
from .resources import shared_file
from .schema_probe import Layout, first_errors, layout_of, violations
from .update_check import check_update

SCHEMA_PATH = shared_file("board.schema.json")
POINT_TYPES = frozenset({"stroke", "line", "arrow"})
TEXT_TYPES = frozenset({"text", "sticky"})
LABEL_TYPES = frozenset({"rect", "ellipse", "diamond", "arrow", "line"})
"""Types whose ``label`` is a ``Y.Text`` in the document (a string in the export form)."""

_MAX_SAFE_INT = 2**53
_NUMBER_TYPES = (int, float)  # exact types: bool is not a number here
_NUMBER_TYPE_SET = frozenset(_NUMBER_TYPES)
_MATCHED_VALUES = 512
"""Most values a string field's reader remembers as matching its pattern (``_string_reader``)."""


@dataclass(frozen=True)
class FieldRule:
    """How to read one field: its JSON type, default and limits, from the schema."""

    name: str
    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    max_items: int | None = None
    pattern: re.Pattern[str] | None = None
    choices: tuple[Any, ...] | None = None
    item_minimum: float | None = None
    item_maximum: float | None = None
    item_kind: str | None = None
    item_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class BoardModel:
    """The schema compiled into per-type field rules."""

    version: int
    element_types: tuple[str, ...]
    id_pattern: re.Pattern[str]
    color_pattern: re.Pattern[str]
    meta_rules: tuple[FieldRule, ...]
    type_rules: dict[str, tuple[FieldRule, ...]]
    thread_rules: tuple[FieldRule, ...]
    message_rules: tuple[FieldRule, ...]
    validator: jsonschema_rs.Draft202012Validator
    layout: Layout
    type_readers: dict[str, dict[str, Callable[[Any], Any]]] = field(default_factory=dict)
    """Per element type, each field's reader: ``reader(value)`` is ``_read_field(rule,
    value)``, with the common cases (a number in range, a list of numbers in range) read
    without per-value Python work (``_field_reader``)."""

    def rules_for(self, element_type: str) -> tuple[FieldRule, ...]:
        """Field rules of one known element type (common fields first, schema order)."""
        return self.type_rules[element_type]


@dataclass
class BoardContent:
    """One board read into plain values: what every exporter draws from."""

    meta: dict[str, Any]
    elements: list[dict[str, Any]]
    skipped: int = 0
    version: int = 1
    skipped_ids: list[str] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[str, tuple[dict[str, Any], str]] | None = None
    """JSON lines rendered before (``json_export.render_json``), by element id, each with the
    element dictionary it was rendered from: a version's elements recalled from its
    checkpoint (``checkpoint_reads``) are the same objects as last time."""

    def to_json(self) -> dict[str, Any]:
        """The JSON export form: ``{"schemaVersion", "meta", "elements"}``, and
        ``"comments"`` when the board has any."""
        out = {"schemaVersion": self.version, "meta": self.meta, "elements": self.elements}
        if self.comments:
            out["comments"] = self.comments
        return out


@dataclass(frozen=True)
class Violation:
    """Why an import file was refused: a JSON path (``$.elements[3].fill``) and a message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@cache
def load_model(path: Path = SCHEMA_PATH) -> BoardModel:
    """Load and compile the schema (once per path)."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft202012Validator(schema)  # raises on an invalid schema
    defs = schema["$defs"]
    element = defs["element"]
    common = element["properties"]
    types = tuple(common["type"]["enum"])
    type_rules: dict[str, tuple[FieldRule, ...]] = {}
    for element_type in types:
        merged = {name: prop for name, prop in common.items() if name not in ("id", "type")}
        for branch in element.get("allOf", []):
            if branch["if"]["properties"]["type"].get("const") == element_type:
                merged.update(branch["then"]["properties"])
        type_rules[element_type] = tuple(_rule(name, prop, defs) for name, prop in merged.items())
    meta_rules = tuple(_rule(name, prop, defs) for name, prop in defs["meta"]["properties"].items())
    thread_rules = tuple(_rule(name, prop, defs) for name, prop in
                         defs["thread"]["properties"].items() if name != "id")
    message_rules = tuple(_rule(name, prop, defs) for name, prop in
                          defs["message"]["properties"].items())
    return BoardModel(
        version=int(schema["version"]),
        element_types=types,
        id_pattern=re.compile(common["id"]["pattern"]),
        color_pattern=re.compile(defs["color"]["pattern"]),
        meta_rules=meta_rules,
        type_rules=type_rules,
        thread_rules=thread_rules,
        message_rules=message_rules,
        validator=validator,
        layout=layout_of(schema),
        type_readers={element_type: {rule.name: _field_reader(rule) for rule in rules}
                      for element_type, rules in type_rules.items()},
    )


def read_board(doc: Doc, model: BoardModel | None = None) -> BoardContent:
    """Read a board's ``meta`` and ``elements`` tolerantly; elements in (z, id) order."""
    model = model or load_model()
    return board_content(read_meta(doc, model), read_elements(doc, model),
                         read_comments(doc, model), model)


def read_meta(doc: Doc, model: BoardModel) -> dict[str, Any]:
    """The board's settings as ``read_board`` reads them."""
    return normalize_meta(plain_map(root_map(doc, "meta")), model)


def read_elements(doc: Doc, model: BoardModel, keys: Iterable[str] | None = None
                  ) -> dict[str, dict[str, Any] | None]:
    """Each element key of the board (or those of ``keys`` it has) and its export form, None
    for one that is skipped (``normalize_element``)."""
    return {key: normalize_element(key, raw, model) if raw is not None else None
            for key, raw in element_maps(doc, root_map(doc, "elements"), keys)}


def read_comments(doc: Doc, model: BoardModel) -> list[dict[str, Any]]:
    """The board's comment threads as ``read_board`` reads them, in (createdAt, id) order."""
    comments = [thread for key, value in plain_map(root_map(doc, "comments")).items()
                if (thread := normalize_thread(key, value, model)) is not None]
    comments.sort(key=lambda t: (t["createdAt"], t["id"]))
    return comments


def board_content(meta: dict[str, Any], elements: dict[str, dict[str, Any] | None],
                  comments: list[dict[str, Any]], model: BoardModel,
                  lines: dict[str, tuple[dict[str, Any], str]] | None = None
                  ) -> BoardContent:
    """The ``BoardContent`` of what ``read_meta``, ``read_elements`` and ``read_comments``
    gave (the element dictionaries are shared, not copied), rendering into ``lines``."""
    drawn = [element for element in elements.values() if element is not None]
    drawn.sort(key=lambda e: (e["z"], e["id"]))
    skipped_ids = [key for key, element in elements.items() if element is None]
    return BoardContent(meta, drawn, len(skipped_ids), model.version, skipped_ids, comments,
                        lines)


def read_update(update: bytes, model: BoardModel | None = None) -> BoardContent:
    """Read a board from one encoded Yjs update (a snapshot). Raises ``ValueError`` if pycrdt
    cannot decode it or ``update_check`` refuses it (nesting that would overflow the stack
    while reading)."""
    check_update(update)
    doc = Doc()
    doc.apply_update(update)
    return read_board(doc, model)


def read_snapshot(update: bytes, model: BoardModel | None = None) -> BoardContent:
    """Read a board from ``BoardRegistry.snapshot``: the server's own encoding of a board
    document every part of which passed ``update_check`` before it was applied (a client's
    update, a stored row at load, a restore, an import), the depth of its shared types
    carried from one update to the next. The encoding holds those structs and values, nothing
    else, so it is not walked again (0.55 s for a 10,000-element board). Anything read from
    the database or sent by a client goes through ``read_update`` instead."""
    doc = Doc()
    doc.apply_update(update)
    return read_board(doc, model)


def normalize_element(element_id: str, raw: dict[str, Any],
                      model: BoardModel | None = None) -> dict[str, Any] | None:
    """One element with defaults applied and values clamped, or None if it cannot be drawn
    (bad id, unknown type, a point type without a point)."""
    model = model or load_model()
    element_type = raw.get("type")
    if not isinstance(element_id, str) or not model.id_pattern.fullmatch(element_id) or \
            element_type not in model.element_types:
        return None
    readers = model.type_readers[element_type]
    out: dict[str, Any] = {"id": element_id, "type": element_type}
    get = raw.get
    for name, read in readers.items():
        out[name] = read(get(name))
    # A negative width or height moves the origin instead (x += w; w = -w), as the app does.
    if not _at_least_zero(get("w")) or not _at_least_zero(get("h")):
        for origin, size in (("x", "w"), ("y", "h")):
            if _is_number(raw.get(size)) and raw[size] < 0:
                out[size] = readers[size](-raw[size])
                out[origin] = readers[origin](out[origin] + raw[size])
    if element_type in POINT_TYPES and not out["points"]:
        return None
    unknown = raw.keys() - out.keys()
    if unknown:
        out.update((name, raw[name]) for name in sorted(unknown))
    return out


def normalize_thread(thread_id: str, raw: Any,
                     model: BoardModel | None = None) -> dict[str, Any] | None:
    """One comment thread with defaults applied, values clamped and its messages read the
    same way (a message that is not an object is skipped), or None if it is not an object
    or its id is not url-safe. Unknown fields are kept."""
    model = model or load_model()
    if not isinstance(raw, dict) or not model.id_pattern.fullmatch(thread_id):
        return None
    out: dict[str, Any] = {"id": thread_id}
    for rule in model.thread_rules:
        if rule.name == "messages":
            messages = raw.get("messages")
            out["messages"] = [_read_fields(model.message_rules, m) for m in
                               (messages if isinstance(messages, list) else [])
                               if isinstance(m, dict)][:rule.max_items]
        else:
            out[rule.name] = _read_field(rule, raw.get(rule.name))
    out.update((name, raw[name]) for name in sorted(raw) if name not in out)
    return out


def _read_fields(rules: tuple[FieldRule, ...], raw: dict[str, Any]) -> dict[str, Any]:
    out = {rule.name: _read_field(rule, raw.get(rule.name)) for rule in rules}
    out.update((name, raw[name]) for name in sorted(raw) if name not in out)
    return out


def normalize_fields(element_id: str, raw: dict[str, Any], names: list[str],
                     model: BoardModel | None = None) -> dict[str, Any] | None:
    """The fields ``names`` of one element exactly as ``normalize_element`` gives them (with
    ``type``), or None if it cannot be drawn; several times cheaper for a few fields of a
    plain shape (the change feed's updates)."""
    model = model or load_model()
    element_type = raw.get("type")
    if element_type in POINT_TYPES or any(_is_number(raw.get(size)) and raw[size] < 0
                                          for size in ("w", "h")):
        full = normalize_element(element_id, raw, model)  # flips and points: the whole rule
        return None if full is None else {"type": full["type"],
                                          **{name: full.get(name) for name in names}}
    if not isinstance(element_id, str) or not model.id_pattern.fullmatch(element_id) or \
            element_type not in model.element_types:
        return None
    rules = {rule.name: rule for rule in model.rules_for(element_type)}
    return {"type": element_type, **{
        name: _read_field(rules[name], raw.get(name)) if name in rules else raw.get(name)
        for name in names}}


def normalize_values(element_type: str, values: dict[str, Any],
                     model: BoardModel | None = None) -> dict[str, Any]:
    """``values`` for fields of an element of ``element_type`` (a known type), each read as
    ``normalize_element`` reads it (clamped, defaulted, integral numbers as ``int``; a negative
    ``w``/``h`` is clamped, not flipped): for fields computed from an element in export form,
    such as a connector's routed geometry. A field the type does not have is kept as it is."""
    model = model or load_model()
    rules = {rule.name: rule for rule in model.rules_for(element_type)}
    return {name: _read_field(rules[name], value) if name in rules else value
            for name, value in values.items()}


def normalize_meta(raw: dict[str, Any], model: BoardModel | None = None) -> dict[str, Any]:
    """Board settings with defaults applied; unknown settings kept."""
    model = model or load_model()
    out = {rule.name: _read_field(rule, raw.get(rule.name)) for rule in model.meta_rules}
    out["schemaVersion"] = model.version
    out.update((name, raw[name]) for name in sorted(raw) if name not in out)
    return out


def validate_board_json(data: Any, model: BoardModel | None = None) -> list[Violation]:
    """Schema violations of an import file (empty list = valid), first by document order.

    Also refuses two elements with one id, which JSON Schema cannot express.
    """
    model = model or load_model()
    # jsonschema-rs (Rust): 10,000 elements validate in about 0.1 s, not 20 s in pure Python,
    # and in place. Its errors copy the value at fault, so a refused file's are looked for on
    # a slimmed copy (backend/schema_probe.py); the whole file only if that finds none. Only
    # the first part of a long list holding violations has its errors made.
    found: list[tuple[list, str]] = []
    if not model.validator.is_valid(data):
        found = violations(data, model.validator, model.layout, model.version) or \
            first_errors(data, model.validator)
    found.sort(key=lambda item: [(0, p, "") if isinstance(p, int) else (1, 0, p)
                                 for p in item[0]])
    violations_found = [Violation(_json_path(path), message) for path, message in found]
    if not violations_found:
        seen: set[str] = set()
        for index, element in enumerate(data["elements"]):
            if element["id"] in seen:
                violations_found.append(Violation(f"$.elements[{index}].id",
                                                  f"duplicate element id {element['id']!r}"))
            seen.add(element["id"])
    return violations_found


IMPORT_PART_ELEMENTS = 200
"""Elements per part of an import update (``build_import_parts``): pre-checking and applying a
part of 200 rectangles (2,200 structs, ~7 µs each to check) takes about 20 ms on the event
loop of an idle machine (BENCHMARKS.md, "Import of a big board")."""


def build_import_update(data: dict[str, Any], base_update: bytes | None = None) -> bytes:
    """One Yjs update writing a validated JSON export form onto a board.

    ``base_update`` is the board's current state: the new values are made on top of it, so they
    win over what is there (elements with the same id are replaced, meta fields overwritten)
    and leave everything else alone. Raises ``ValueError`` if ``base_update`` is undecodable.
    """
    return build_import_parts(data, base_update)[0]


def build_import_parts(data: dict[str, Any], base_update: bytes | None = None,
                       part_elements: int = IMPORT_PART_ELEMENTS) -> tuple[bytes, list[bytes]]:
    """``build_import_update``'s update, and the same content as consecutive updates (the
    meta, then at most ``part_elements`` elements and threads each) that, applied in order, make
    the same board: the server applies those one at a time, so no single apply holds the
    event loop long, and stores and relays the one update."""
    model = load_model()
    doc = Doc()
    if base_update:
        doc.apply_update(base_update)
    before = doc.get_state()
    meta = doc.get("meta", type=Map)
    elements = doc.get("elements", type=Map)
    comments = doc.get("comments", type=Map)
    parts: list[bytes] = []
    # Each transaction's own update, as yrs encodes it on commit: asking get_update(state)
    # after each part costs a pass over the growing document (8.4 s instead of 4.2 s for
    # 60,000 rectangles in parts of 200).
    subscription = doc.observe(lambda event: parts.append(event.update))
    try:
        with doc.transaction():
            for name, value in data.get("meta", {}).items():
                meta[name] = value
            meta["schemaVersion"] = model.version
        listed = data["elements"]
        threads = data.get("comments", [])
        for start in range(0, max(len(listed), len(threads)), part_elements):
            with doc.transaction():
                for element in listed[start:start + part_elements]:
                    elements[element["id"]] = Map(_y_fields(element))
                for thread in threads[start:start + part_elements]:
                    comments[thread["id"]] = Map(_y_thread(thread))
    finally:
        doc.unobserve(subscription)
    return doc.get_update(before), parts


def _json_path(parts: list[str | int]) -> str:
    """``["elements", 3, "fill"]`` -> ``$.elements[3].fill``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _rule(name: str, prop: dict[str, Any], defs: dict[str, Any]) -> FieldRule:
    prop = _resolve(prop, defs)
    items = _resolve(prop.get("items", {}), defs)
    pattern = prop.get("pattern")
    kind = prop.get("type", "string")
    if "enum" in prop:
        kind = "enum"
    return FieldRule(
        name=name, kind=kind, default=prop.get("default"),
        minimum=prop.get("minimum"), maximum=prop.get("maximum"),
        max_length=prop.get("maxLength"), max_items=prop.get("maxItems"),
        pattern=re.compile(pattern) if pattern else None,
        choices=tuple(prop["enum"]) if "enum" in prop else None,
        item_minimum=items.get("minimum"), item_maximum=items.get("maximum"),
        item_kind=items.get("type"),
        item_pattern=re.compile(items["pattern"]) if "pattern" in items else None,
    )


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if not ref:
        return prop
    target = defs[ref.removeprefix("#/$defs/")]
    return {**_resolve(target, defs), **{k: v for k, v in prop.items() if k != "$ref"}}


def _read_field(rule: FieldRule, value: Any) -> Any:
    if rule.kind in ("number", "integer"):
        if not _is_number(value):
            return _number(rule.default)
        return _number(_clamp(value, rule.minimum, rule.maximum))
    if rule.kind == "boolean":
        return value if isinstance(value, bool) else rule.default
    if rule.kind == "enum":
        return value if isinstance(value, str) and value in (rule.choices or ()) else rule.default
    if rule.kind == "array":
        return _read_strings(rule, value) if rule.item_kind == "string" else \
            _read_points(rule, value)
    if not isinstance(value, str):
        return rule.default
    if rule.pattern is not None:
        return value if rule.pattern.fullmatch(value) else rule.default
    return value[:rule.max_length] if rule.max_length is not None else value


def _field_reader(rule: FieldRule) -> Callable[[Any], Any]:
    """``partial(_read_field, rule)``, faster for the values a board holds: a number or every
    number of a point list already in the rule's range is returned as it is (integral floats
    as ``int``), checked by a few C-level passes (``type``, ``sum``, ``min``, ``max``) instead
    of one Python step per value; anything else goes to ``_read_field``."""
    generic = partial(_read_field, rule)
    if rule.kind == "boolean":
        default = rule.default
        return lambda value: value if value is True or value is False else default
    if rule.kind == "enum":
        choices = frozenset(rule.choices or ())
        default = rule.default
        return lambda value: value if type(value) is str and value in choices else \
            default if value is None else generic(value)
    if rule.kind == "string":
        return _string_reader(rule, generic)
    if rule.kind == "array":  # a missing list reads as a new empty one
        generic = partial(_missing_list, generic)
    low, high = rule.minimum, rule.maximum
    if rule.kind == "array" and rule.item_kind != "string":
        low, high = rule.item_minimum, rule.item_maximum
    if low is None or high is None or not -_MAX_SAFE_INT < low <= high < _MAX_SAFE_INT:
        return generic  # unbounded: _number's 2**53 test would be needed per value
    if rule.kind in ("number", "integer"):
        default = _number(rule.default)

        def read_number(value: Any) -> Any:
            kind = type(value)
            if kind is float:
                if low <= value <= high:  # False for NaN and out-of-range values
                    return int(value) if value.is_integer() else value
            elif kind is int:
                if low <= value <= high:
                    return value
            elif value is None:
                return default
            return generic(value)
        return read_number
    if rule.kind == "array":
        pairs = rule.max_items // 2 if rule.max_items else None

        def read_points(value: Any) -> Any:
            if type(value) is not list or not value:
                return generic(value)
            kinds = set(map(type, value))
            if not kinds <= _NUMBER_TYPE_SET or min(value) < low or max(value) > high or \
                    not math.isfinite(sum(value)):  # in range, yet a NaN: the sum is NaN
                return generic(value)
            end = len(value) - len(value) % 2
            if pairs is not None and end > 2 * pairs:
                end = 2 * pairs
            if int in kinds:
                return [int(v) if type(v) is float and v.is_integer() else v
                        for v in value[:end]]
            if any(map(float.is_integer, value)):
                return [int(v) if v.is_integer() else v for v in value[:end]]
            return value[:end]
        return read_points
    return generic


def _missing_list(generic: Callable[[Any], Any], value: Any) -> Any:
    return [] if value is None else generic(value)


def _string_reader(rule: FieldRule, generic: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``_field_reader`` of a string field: a ``str`` within the length, or matching the
    pattern (the values seen are remembered, a few hundred at most: colours repeat), is
    returned as it is; anything else goes to ``generic``."""
    pattern, max_length, default = rule.pattern, rule.max_length, rule.default
    if pattern is not None:
        matched: set[str] = set()

        def read_matching(value: Any) -> Any:
            if type(value) is str:
                if value in matched:
                    return value
                if len(matched) < _MATCHED_VALUES and pattern.fullmatch(value):
                    matched.add(value)
            elif value is None:
                return default
            return generic(value)
        return read_matching

    def read_string(value: Any) -> Any:
        if type(value) is str and (max_length is None or len(value) <= max_length):
            return value
        return default if value is None else generic(value)
    return read_string


def _read_points(rule: FieldRule, value: Any) -> list[float | int]:
    if not isinstance(value, list):
        return []
    low = -math.inf if rule.item_minimum is None else rule.item_minimum
    high = math.inf if rule.item_maximum is None else rule.item_maximum
    pairs = (rule.max_items or len(value)) // 2
    out: list[float | int] = []
    isfinite = math.isfinite
    for px, py in zip(value[0::2], value[1::2], strict=False):
        if type(px) in _NUMBER_TYPES and type(py) in _NUMBER_TYPES and isfinite(px) and \
                isfinite(py):
            out.append(_number(min(max(px, low), high)))
            out.append(_number(min(max(py, low), high)))
            if len(out) >= 2 * pairs:
                break
    return out


def _read_strings(rule: FieldRule, value: Any) -> list[str]:
    """A list of strings (``groupIds``): only the first ``maxItems`` items are read (a hostile
    list costs no more than a short one); of those, items of another type, not matching the item
    pattern or repeating an earlier item are dropped."""
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for item in value[:rule.max_items]:
        if isinstance(item, str) and item not in out and \
                (rule.item_pattern is None or rule.item_pattern.fullmatch(item)):
            out.append(item)
    return out


def _at_least_zero(value: Any) -> bool:
    """Whether a size is surely not flipped: missing, or a number at least 0 (the common case
    ``normalize_element`` tests first)."""
    return value is None or (type(value) in _NUMBER_TYPE_SET and value >= 0)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value)


def _number(value: float | int) -> float | int:
    """Integral values as ``int`` (Yjs stores every number as a double; JSON should not care)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_SAFE_INT:
        return int(value)
    return value


def _clamp(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _y_thread(thread: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in thread.items() if name not in ("id", "messages")}
    fields["messages"] = Array([
        Map({name: Text(value) if name == "text" and isinstance(value, str) else value
             for name, value in message.items()})
        for message in thread.get("messages", [])])
    return fields


def _y_fields(element: dict[str, Any]) -> dict[str, Any]:
    element_type = element["type"]
    fields: dict[str, Any] = {}
    for name, value in element.items():
        if name == "id":
            continue
        if name == "points" and element_type in POINT_TYPES:
            fields[name] = Array([float(v) for v in value])
        elif name == "text" and element_type in TEXT_TYPES:
            fields[name] = Text(value)  # whole string at once: pycrdt indexes are UTF-8 bytes
        elif name == "label" and element_type in LABEL_TYPES and isinstance(value, str):
            fields[name] = Text(value)
        else:
            fields[name] = value
    return fields
