"""board_model: the schema compiled once, tolerant reading of a pycrdt Doc, import validation
and the import update (JSON export form -> Y.Map / Y.Array / Y.Text)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from backend.board_model import (
    SCHEMA_PATH,
    _read_field,
    build_import_update,
    load_model,
    read_board,
    read_snapshot,
    read_update,
    validate_board_json,
)
from backend.export.json_export import render_json


def board_doc(elements: dict, meta: dict | None = None) -> Doc:
    """A Doc holding ``elements`` (values given as built pycrdt objects or plain values)."""
    doc = Doc()
    with doc.transaction():
        doc.get("meta", type=Map).update(meta or {})
        doc.get("elements", type=Map).update(elements)
    return doc


def test_defaults_and_limits_come_from_the_schema_file():
    schema = json.loads(SCHEMA_PATH.read_text())
    model = load_model()
    assert model.version == schema["version"] == 2
    assert model.element_types == tuple(
        schema["$defs"]["element"]["properties"]["type"]["enum"])
    sticky = {rule.name: rule for rule in model.rules_for("sticky")}
    assert sticky["fill"].default == "#fff3a3" and sticky["w"].default == 200
    assert (sticky["opacity"].minimum, sticky["opacity"].maximum) == (0, 1)
    points = {rule.name: rule for rule in model.rules_for("stroke")}["points"]
    assert points.max_items == 2000


def test_missing_and_garbage_fields_fall_back_to_defaults_or_are_clamped():
    doc = board_doc({"r": Map({"type": "rect", "x": "ten", "y": float("nan"), "w": -40,
                               "h": 1e300, "opacity": 7, "strokeWidth": -3,
                               "stroke": 'red" onload="alert(1)', "fill": ["#fff"],
                               "z": 5, "createdBy": "x" * 500})})
    rect = read_board(doc).elements[0]
    assert rect["x"] == -40 and rect["w"] == 40  # negative width: x += w, w = -w
    assert rect["y"] == 0 and rect["h"] == 1e9
    assert rect["opacity"] == 1 and rect["strokeWidth"] == 0
    assert rect["stroke"] == "#1e1e1e" and rect["fill"] == "transparent"
    assert rect["z"] == "" and len(rect["createdBy"]) == 200


def test_undrawable_entries_are_skipped_and_counted():
    doc = board_doc({
        "ok": Map({"type": "rect", "z": "a0"}),
        "unknown": Map({"type": "hexagon"}),
        "no-type": Map({"x": 1}),
        "plain": 42,
        "bad id!": Map({"type": "rect"}),
        "empty-stroke": Map({"type": "stroke", "points": Array([])}),
        "odd": Map({"type": "line", "points": Array([1.0, "a", 3.0])}),
    })
    content = read_board(doc)
    assert [e["id"] for e in content.elements] == ["ok"]
    assert content.skipped == 6
    assert sorted(content.skipped_ids) == sorted(
        ["unknown", "no-type", "plain", "bad id!", "empty-stroke", "odd"])


def test_points_drop_bad_pairs_and_stop_at_the_cap():
    numbers = [float(i) for i in range(3000)]
    doc = board_doc({
        "long": Map({"type": "stroke", "points": Array(numbers)}),
        "mixed": Map({"type": "line", "points": Array([1.0, 2.0, "x", 4.0, 5.0, 6.0, 7.0])}),
    })
    by_id = {e["id"]: e for e in read_board(doc).elements}
    assert by_id["long"]["points"] == list(range(2000))
    assert by_id["mixed"]["points"] == [1, 2, 5, 6]


def test_elements_are_ordered_by_z_then_id_never_by_map_position():
    doc = board_doc({name: Map({"type": "rect", "z": z}) for name, z in
                     [("c", "a1"), ("b", "a0"), ("a", "a1"), ("d", "Zz")]})
    assert [e["id"] for e in read_board(doc).elements] == ["d", "b", "a", "c"]


def test_unknown_fields_are_kept_as_json_values():
    doc = board_doc({"r": Map({"type": "rect", "zzz": {"nested": [1, 2]}, "label": "hi",
                               "blob": b"\x00\x01", "ratio": float("inf")})},
                    meta={"owner": "ann"})
    content = read_board(doc)
    rect = content.elements[0]
    assert rect["zzz"] == {"nested": [1, 2]} and rect["label"] == "hi"
    assert rect["blob"] == [0, 1] and rect["ratio"] is None  # binary, non-finite
    assert content.meta["owner"] == "ann" and content.meta["background"] == "#ffffff"


def test_validation_reports_the_json_path_of_a_violation():
    good = {"schemaVersion": 1, "meta": {}, "elements": [{"id": "a", "type": "rect"}]}
    assert validate_board_json(good) == []
    bad_fill = json.loads(json.dumps(good))
    bad_fill["elements"][0]["fill"] = "url(javascript:alert(1))"
    assert validate_board_json(bad_fill)[0].path == "$.elements[0].fill"
    duplicate = {**good, "elements": [{"id": "a", "type": "rect"}, {"id": "a", "type": "text"}]}
    violation = validate_board_json(duplicate)[0]
    assert violation.path == "$.elements[1].id" and "duplicate" in violation.message
    assert validate_board_json({"meta": {}, "elements": []})[0].path == "$"
    assert validate_board_json([1, 2])


def test_import_update_builds_y_types_and_reads_back_identically():
    data = {"schemaVersion": 1, "meta": {"title": "t"}, "elements": [
        {"id": "s", "type": "stroke", "z": "a0", "points": [0, 0, 1.5, 2]},
        {"id": "n", "type": "sticky", "z": "a1", "text": "naïve 👋 <b>", "custom": [1]},
    ]}
    doc = Doc()
    doc.apply_update(build_import_update(data))
    elements = doc.get("elements", type=Map)
    assert isinstance(elements["s"], Map) and isinstance(elements["s"]["points"], Array)
    assert isinstance(elements["n"]["text"], Text) and str(elements["n"]["text"]) == "naïve 👋 <b>"
    once = read_board(doc).to_json()
    again = read_update(build_import_update(once)).to_json()
    assert once == again


def test_import_on_top_of_a_board_replaces_same_ids_and_keeps_the_rest():
    base = board_doc({"keep": Map({"type": "rect", "z": "a0"}),
                      "same": Map({"type": "rect", "z": "a1", "fill": "#000000"})})
    data = {"schemaVersion": 1, "meta": {},
            "elements": [{"id": "same", "type": "ellipse", "z": "a2"}]}
    base.apply_update(build_import_update(data, base.get_update()))
    by_id = {e["id"]: e for e in read_board(base).elements}
    assert set(by_id) == {"keep", "same"}
    assert by_id["same"]["type"] == "ellipse" and by_id["same"]["fill"] == "transparent"


def comment_doc() -> Doc:
    """A board with one element and two comment threads, one of them full of garbage."""
    doc = board_doc({"r1": Map({"type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "z": "a0"})})
    with doc.transaction():
        comments = doc.get("comments", type=Map)
        comments["t2"] = Map({"x": 5, "y": 6, "elementId": "r1", "anchorX": 7, "resolved": "no",
                              "createdBy": "Ann", "createdAt": 2000, "extra": [1],
                              "messages": Array([
                                  Map({"id": "m1", "author": "Ann", "at": 2000,
                                       "text": Text("<b>look</b>")}),
                                  "not a message",
                                  Map({"id": "m2", "author": "Bob", "text": Text(""),
                                       "deleted": True, "edited": -5})])})
        comments["t1"] = Map({"createdAt": 1000, "messages": "garbage"})
        comments["bad id!"] = Map({"createdAt": 1})
    return doc


def test_comment_threads_read_tolerantly_in_creation_order():
    board = read_board(comment_doc())
    assert [t["id"] for t in board.comments] == ["t1", "t2"]
    empty, full = board.comments
    assert empty == {"id": "t1", "x": 0, "y": 0, "elementId": "", "anchorX": 0.5, "anchorY": 0.5,
                     "resolved": False, "createdBy": "", "createdAt": 1000, "messages": []}
    assert (full["anchorX"], full["resolved"], full["extra"]) == (1, False, [1])
    assert full["messages"] == [
        {"id": "m1", "author": "Ann", "at": 2000, "text": "<b>look</b>", "edited": 0,
         "deleted": False},
        {"id": "m2", "author": "Bob", "at": 0, "text": "", "edited": 0, "deleted": True}]
    assert read_board(board_doc({})).to_json().keys() == {"schemaVersion", "meta", "elements"}
    assert read_board(board_doc({})).meta["commentsForViewers"] is False


def test_comments_survive_an_export_import_round_trip_identically():
    board = read_board(comment_doc())
    exported = board.to_json()
    assert json.loads(render_json(board)) == exported
    assert validate_board_json(exported) == []
    update = build_import_update(exported)
    assert read_update(update).to_json() == exported
    doc = Doc()
    doc.apply_update(update)
    message = doc.get("comments", type=Map)["t2"]["messages"][0]
    assert isinstance(message["text"], Text) and str(message["text"]) == "<b>look</b>"


_EDGES = st.sampled_from([0, -0.0, 3.0, 0.5, 1e9, -1e9, 1e9 + 1, 2.0**53, 2**53 + 1, 2**63,
                          1000, 1000.5, -1000, 100, 1, "#1e1e1e", "#fff", "transparent",
                          "solid", "dotted", "left", "a0", "g1", "", "x" * 300, True, False])
_SCALARS = st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats() | \
    st.text(max_size=4) | _EDGES
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=5) |
                       st.dictionaries(st.text(max_size=2), inner, max_size=2), max_leaves=12)
_NUMBERS = st.floats() | st.integers(-2**60, 2**60) | _EDGES.filter(
    lambda v: isinstance(v, int | float) and not isinstance(v, bool))
_POINTS = st.lists(_NUMBERS, max_size=9) | st.builds(
    lambda run, times: run * times, st.lists(st.floats(-1e9, 1e9) | st.integers(-1e9, 1e9),
                                              min_size=1, max_size=3), st.integers(1, 1100))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_each_fields_fast_reader_reads_a_value_as_its_rule_does(data):
    """The readers ``normalize_element`` uses skip per-value work in common cases: each must
    give exactly what ``_read_field`` gives (same values, same int/float types)."""
    model = load_model()
    readers: list = []  # each distinct rule once (most are shared by every element type)
    for element_type, by_name in model.type_readers.items():
        for rule in model.rules_for(element_type):
            if all(rule != seen for seen, _reader in readers):
                readers.append((rule, by_name[rule.name]))
    for rule, reader in readers:
        value = data.draw(_POINTS if rule.name == "points" and data.draw(st.booleans())
                          else _VALUES)
        assert repr(reader(value)) == repr(_read_field(rule, value)), rule.name


def test_the_servers_own_snapshot_reads_as_a_checked_update_does():
    """``read_snapshot`` (the live board's encoding, not walked again) reads what
    ``read_update`` reads, meta, elements, comments and skipped alike."""
    doc = board_doc({"a": Map({"type": "rect", "x": 1.0, "z": "a1"}),
                     "b": Map({"type": "sticky", "text": Text("hi"), "z": "a0"}),
                     "bad": Map({"type": "nope"}), "plain": {"type": "rect"}},
                    meta={"title": "t"})
    doc.get("comments", type=Map)["c1"] = Map({"elementId": "a", "createdAt": 1.0,
                                                "messages": Array([])})
    update = doc.get_update()
    snapshot, checked = read_snapshot(update), read_update(update)
    assert snapshot.to_json() == checked.to_json() and snapshot.skipped == checked.skipped == 2
    assert sorted(snapshot.skipped_ids) == sorted(checked.skipped_ids) == ["bad", "plain"]
    assert render_json(snapshot) == render_json(checked)
