"""Element changes in board terms (backend/events/changes.py) and the field reader behind
them (board_model.normalize_fields), without a server."""

from __future__ import annotations

from pycrdt import Array, Doc, Map, Text

from backend.board_model import load_model, normalize_element, normalize_fields
from backend.events.changes import ChangeSet, describe, kinds_in

SAMPLES = [
    {"type": "rect", "x": 1, "y": 2, "w": 30, "h": 40, "z": "a0", "stroke": "#ff0000"},
    {"type": "rect", "x": 10, "y": 10, "w": -30, "h": 40, "z": "a0"},  # flipped
    {"type": "ellipse", "x": "nan", "y": 1e308, "opacity": 7, "z": 3},  # clamped, defaulted
    {"type": "stroke", "points": [1.0, 2.0, 3.0, 4.0], "z": "a1", "custom": {"k": 1}},
    {"type": "stroke", "points": [], "z": "a1"},  # cannot be drawn
    {"type": "sticky", "text": "hi", "x": 5, "fontSize": -1, "frameId": "F1"},
    {"type": "hologram", "x": 1},  # unknown type
]


def test_normalize_fields_gives_exactly_what_normalize_element_gives():
    model = load_model()
    for raw in SAMPLES:
        full = normalize_element("e1", raw, model)
        names = sorted(set(raw) | {"x", "w", "opacity", "frameId", "missing"})
        fields = normalize_fields("e1", raw, names, model)
        if full is None:
            assert fields is None, raw
        else:
            assert fields == {"type": full["type"], **{n: full.get(n) for n in names}}, raw


def test_describe_reports_created_updated_and_deleted_from_one_batch():
    source, shadow = Doc(), Doc()
    changes = ChangeSet()
    shadow_elements = shadow.get("elements", type=Map)  # pycrdt drops the observer with it
    shadow_elements.observe_deep(changes.collect)
    elements = source.get("elements", type=Map)
    elements["keep"] = Map({"type": "rect", "x": 0, "w": 5, "h": 5, "z": "a0"})
    elements["gone"] = Map({"type": "rect", "z": "a1", "frameId": "F1"})
    elements["moved"] = Map({"type": "rect", "z": "a4", "frameId": "F1"})
    shadow.apply_update(source.get_update())
    kinds = kinds_in(shadow_elements)
    assert kinds["moved"] == ("rect", "F1") and kinds["keep"] == ("rect", "")
    state = source.get_state()
    with source.transaction():
        elements["keep"]["x"] = 50
        elements["new"] = Map({"type": "text", "text": Text("hello"), "z": "a2"})
        del elements["gone"]
        elements["moved"]["frameId"] = "F2"
        elements["blank"] = Map({"type": "stroke", "points": Array([]), "z": "a3"})
    changes.added.clear()  # what the first apply reported is not part of this batch
    shadow.apply_update(source.get_update(state))
    described = describe(changes, shadow_elements, load_model(), kinds)
    assert [e["id"] for e in described.created] == ["new"]
    assert described.created[0]["text"] == "hello"
    assert described.updated == [
        {"id": "keep", "type": "rect", "frameId": "", "fields": {"x": 50}},
        {"id": "moved", "type": "rect", "frameId": "F2", "fields": {"frameId": "F2"},
         "fromFrameId": "F1"}]
    # "blank" cannot be drawn: not reported; "gone" is described as it was before the batch
    assert described.deleted == [{"id": "gone", "type": "rect", "frameId": "F1"}]
