"""doc_values: the elements map read from pycrdt's native types gives exactly what pycrdt's
JSON of the map gives, for every kind of value a field can hold."""

from __future__ import annotations

import math

from pycrdt import Array, Doc, Map, Text

from backend.doc_values import element_maps, plain_map, root_map


def _odd_board() -> Doc:
    doc = Doc()
    elements = doc.get("elements", type=Map)
    with doc.transaction():
        elements["plain"] = Map({"type": "rect", "x": 1.0, "y": -0.0, "w": 2.5, "big": 2**60,
                                 "on": True, "off": False, "none": None, "fill": "#ffé0a0",
                                 "near": 2.0**53 - 1, "z": "a0"})
        elements["huge"] = Map({"type": "rect", "x": 2.0**53, "y": 1e300, "z": "a8"})
        elements["points"] = Map({"type": "stroke", "points": Array([0.0, 1.5, 2.0, 3.25]),
                                  "z": "a1"})
        elements["maps_in_array"] = Map({"type": "line", "points": Array([Map({"a": 1.0})]),
                                         "z": "a2"})
        elements["text"] = Map({"type": "sticky", "text": Text("héllo 🌍"), "z": "a3"})
        elements["nan"] = Map({"type": "rect", "x": math.nan, "y": math.inf, "z": "a4"})
        elements["binary"] = Map({"type": "rect", "data": b"\x00\xff", "z": "a5"})
        elements["json"] = Map({"type": "rect", "extra": {"k": [1, {"n": math.nan}]},
                                "list": [1.0, "two"], "z": "a6"})
        elements["nested"] = Map({"type": "rect", "inner": Map({"deep": Text("t")}),
                                  "z": "a7"})
        elements["not_a_map"] = {"type": "rect"}
        elements["scalar"] = 3.0
        elements["array"] = Array([1.0])
    return doc


def test_native_reading_equals_pycrdts_json_for_every_kind_of_value():
    doc = _odd_board()
    ymap = root_map(doc, "elements")
    via_json = plain_map(ymap)
    read = element_maps(doc, ymap)
    assert [key for key, _ in read] == list(ymap.keys())
    for key, fields in read:
        if key in ("not_a_map", "scalar", "array"):
            assert fields is None, key  # only a Y.Map is an element
        else:
            assert _typed(fields) == _typed(via_json[key]), key


def _typed(value):
    """``value`` with every number tagged by its type, keys sorted (1 == 1.0, yet JSON tells
    them apart)."""
    if isinstance(value, dict):
        return sorted((key, _typed(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return type(value).__name__, value


def test_only_the_keys_asked_for_and_held_are_read():
    doc = _odd_board()
    read = element_maps(doc, root_map(doc, "elements"), ["text", "gone", "scalar"])
    assert read == [("text", {"type": "sticky", "text": "héllo 🌍", "z": "a3"}),
                    ("scalar", None)]


def test_no_map_reads_as_nothing():
    assert element_maps(Doc(), None) == [] and plain_map(None) == {}
