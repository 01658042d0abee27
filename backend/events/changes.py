"""Element changes of one batch, in the board's own terms (pure, no I/O).

A ``ChangeSet`` is filled from pycrdt's deep events on the ``elements`` map of a board's
shadow document, over one batch of updates (``BoardFeed``): an element added and then changed
in the same batch stays "added", one deleted at the end is "deleted". ``describe``
then reads the touched elements once, after the batch, in export form
(``board_model.normalize_element``: defaults applied, values clamped), and says what was
created, which fields of which element changed, and what was deleted. Lines and arrows come
with their geometry as drawn, as in the JSON export; one bound to an element the batch moved is
reported updated with it (``bindings``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Map, MapEvent

from ..board_model import BoardModel, normalize_element, normalize_fields
from ..export.routing import CONNECTOR_TYPES, routed_geometry
from .bindings import CONNECTOR_FIELDS, GEOMETRY_FIELDS, TARGET_FIELDS, Bindings

_TARGET_NAMES = sorted(TARGET_FIELDS - {"type"})
"""What a route reads of its targets (``normalize_fields`` adds ``type``)."""


@dataclass
class ChangeSet:
    """Element ids touched by a batch: added or replaced, deleted, and changed fields."""

    added: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    fields: dict[str, set[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.deleted or self.fields)

    def collect(self, events: list[Any]) -> None:
        """Record one transaction's deep events of the ``elements`` map (call it from the
        ``observe_deep`` callback: the events are only readable there)."""
        for event in events:
            path = event.path
            if not path:  # the elements map itself: an element added, replaced or deleted
                if not isinstance(event, MapEvent):
                    continue
                for key, change in event.keys.items():
                    if change["action"] == "delete":
                        self.deleted.add(key)
                        self.added.discard(key)
                        self.fields.pop(key, None)
                    else:
                        self.added.add(key)
                        self.deleted.discard(key)
            elif len(path) == 1 and isinstance(event, MapEvent):  # fields of one element
                self.fields.setdefault(str(path[0]), set()).update(event.keys)
            else:  # inside a field (a label's text, a stroke's points): that field changed
                self.fields.setdefault(str(path[0]), set()).add(str(path[1]))


Kind = tuple[str, str]
"""An element's ``(type, frameId)``: what a webhook's filter looks at."""


@dataclass
class Described:
    """A batch in the board's terms: ``created`` elements (export form), ``updated``
    entries ``{"id", "type", "frameId", "fields"}`` (plus ``fromFrameId`` when the element
    left a frame) and ``deleted`` entries ``{"id", "type", "frameId"}`` (what each deleted
    element was, so that a filter can tell whether it cared)."""

    created: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[dict[str, str]]

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def describe(changes: ChangeSet, elements: Map, model: BoardModel, kinds: dict[str, Kind],
             bindings: Bindings | None = None) -> Described:
    """Read the elements ``changes`` touched from ``elements`` (after the batch).

    An element added in the batch is created (in full), one only changed is updated (its
    changed fields); an element that cannot be drawn (unknown type, no points) is not
    reported, and one changed into that state is reported deleted. ``kinds`` holds each
    element's kind from before the batch (a deleted element can no longer be read).
    Connectors come with their geometry as drawn (``_with_routes``); ``bindings`` (up to date
    with the batch) names those bound to an element the batch moved.
    """
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    gone = sorted(changes.deleted)
    for element_id in sorted(changes.added | changes.fields.keys()):
        raw = _raw_element(elements, element_id)
        if element_id in changes.added:
            element = normalize_element(element_id, raw, model) if raw is not None else None
            if element is not None:
                created.append(element)
            continue
        names = sorted(changes.fields[element_id])
        fields = normalize_fields(element_id, raw, [*names, "frameId"], model) \
            if raw is not None else None
        if fields is None:
            gone.append(element_id)
            continue
        entry = {"id": element_id, "type": fields["type"], "frameId": fields["frameId"] or "",
                 "fields": {name: fields[name] for name in names}}
        before = kinds.get(element_id)
        if before is not None and before[1] and before[1] != entry["frameId"]:
            entry["fromFrameId"] = before[1]
        updated.append(entry)
    updated = _with_routes(changes, elements, model, bindings or Bindings(), created, updated)
    deleted = [{"id": element_id, "type": kind[0], "frameId": kind[1]}
               for element_id in gone for kind in [kinds.get(element_id, ("", ""))]]
    return Described(created, updated, deleted)


def kind_of(value: Any) -> Kind | None:
    """The ``(type, frameId)`` of one entry of the ``elements`` map, or None if it is not
    an element (not a Y.Map). Two reads, no JSON: cheap enough for every touched element."""
    if not isinstance(value, Map):
        return None
    element_type, frame_id = value.get("type"), value.get("frameId")
    return (element_type if isinstance(element_type, str) else "",
            frame_id if isinstance(frame_id, str) else "")


def _raw_element(elements: Map, element_id: str) -> dict[str, Any] | None:
    """One element's plain values (pycrdt's own JSON), or None if it is missing or not a
    Y.Map (a plain value is not an element, as in the browser)."""
    value = elements.get(element_id)
    if not isinstance(value, Map):
        return None
    return json.loads(str(value), parse_constant=lambda _name: None)


def kinds_in(elements: Map, bindings: Bindings | None = None) -> dict[str, Kind]:
    """Every element's kind, from one JSON read of the map: a feed starting to follow a
    board pays it once (10,000 elements: about the cost of the shadow copy's own apply, a
    third of reading the entries one by one). Also records every connector's ends in
    ``bindings`` when given."""
    raw = json.loads(str(elements), parse_constant=lambda _name: None) if len(elements) else {}
    if bindings is not None:
        for key, value in raw.items():
            bindings.record(key, value)
    return {key: (value["type"] if isinstance(value.get("type"), str) else "",
                  value["frameId"] if isinstance(value.get("frameId"), str) else "")
            for key, value in raw.items() if isinstance(value, dict)}


def _with_routes(changes: ChangeSet, elements: Map, model: BoardModel, bindings: Bindings,
                 created: list[dict[str, Any]], updated: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """Connectors with their geometry as drawn (``routing.routed_geometry``: the stored
    fields when they are the route), as the JSON export gives them; ``updated`` returned in
    id order, ``created`` changed in place. A connector updated in one of its route fields,
    or bound to an element that the batch moved, resized, rotated, retyped, deleted or made,
    is updated with all of ``GEOMETRY_FIELDS`` (its own fields may not have changed)."""
    read = _Reader(elements, model, created)
    for index, element in enumerate(created):
        if element["type"] in CONNECTOR_TYPES:
            created[index] = routed_geometry(element, read, model)
    entries = {entry["id"]: entry for entry in updated}
    moved = changes.added | changes.deleted | {
        element_id for element_id, names in changes.fields.items() if names & TARGET_FIELDS}
    own = {entry["id"] for entry in updated if entry["type"] in CONNECTOR_TYPES and
           changes.fields[entry["id"]] & CONNECTOR_FIELDS}
    for connector_id in (own | bindings.bound_to(moved)) - changes.added:
        connector = read.element(connector_id)
        if connector is None:
            continue  # deleted or not drawable: reported as such above
        drawn = routed_geometry(connector, read, model)
        geometry = {name: drawn[name] for name in GEOMETRY_FIELDS}
        entry = entries.get(connector_id)
        if entry is None:
            entries[connector_id] = {"id": connector_id, "type": connector["type"],
                                     "frameId": connector["frameId"] or "", "fields": geometry}
        else:
            entry["fields"] = dict(sorted({**entry["fields"], **geometry}.items()))
    return [entries[element_id] for element_id in sorted(entries)]


class _Reader:
    """Elements of the board after the batch in export form, each read at most once (None:
    missing or not drawable); the created ones are already read. Called with an id it gives
    a route's target: only the fields a route reads (``TARGET_FIELDS``, several times cheaper
    for a shape); ``element`` gives a whole element."""

    def __init__(self, elements: Map, model: BoardModel,
                 created: list[dict[str, Any]]) -> None:
        self.elements = elements
        self.model = model
        self.whole: dict[str, dict[str, Any] | None] = {e["id"]: e for e in created}
        self.targets: dict[str, dict[str, Any] | None] = dict(self.whole)

    def __call__(self, element_id: str) -> dict[str, Any] | None:
        if element_id not in self.targets:
            raw = _raw_element(self.elements, element_id)
            self.targets[element_id] = normalize_fields(
                element_id, raw, _TARGET_NAMES, self.model) if raw is not None else None
        return self.targets[element_id]

    def element(self, element_id: str) -> dict[str, Any] | None:
        """The whole element ``element_id`` in export form."""
        if element_id not in self.whole:
            raw = _raw_element(self.elements, element_id)
            self.whole[element_id] = normalize_element(element_id, raw, self.model) \
                if raw is not None else None
        return self.whole[element_id]

