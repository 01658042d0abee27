"""The slimmed search for a refused import's violations (backend/schema_probe.py) names the
same places as jsonschema-rs on the whole file, and builds no copy of a big value to do it."""

from __future__ import annotations

import copy
import resource

import pytest

from backend.board_model import _json_path, load_model, validate_board_json
from backend.schema_probe import CHUNK_ITEMS

VALID = {"schemaVersion": 2, "meta": {"title": "t"}, "elements": [
    {"id": "r1", "type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "z": "a0"},
    {"id": "s1", "type": "stroke", "x": 0, "y": 0, "z": "a1", "points": [0, 0, 5, 5],
     "groupIds": ["g1"]}],
    "comments": [{"id": "c1", "elementId": "r1", "x": 0, "y": 0, "anchorX": 0.5,
                  "anchorY": 0.5, "resolved": False, "createdAt": 1, "messages": [
                      {"id": "m1", "author": "Ann", "text": "hi", "createdAt": 1,
                       "deleted": False}]}]}


def broken(change) -> dict:
    board = copy.deepcopy(VALID)
    change(board)
    return board


CASES = {
    "unknown root key": lambda b: b.update(x=[0.5] * 1000),
    "missing elements": lambda b: b.pop("elements"),
    "meta not an object": lambda b: b.update(meta=[1, 2, 3]),
    "elements not a list": lambda b: b.update(elements={"a": 1}),
    "bad fill": lambda b: b["elements"][0].update(fill="#zz"),
    "missing id, big unknown field": lambda b: (b["elements"][0].pop("id"),
                                                b["elements"][0].update(junk=[1] * 1000)),
    "points not numbers": lambda b: b["elements"][1].update(points=["a", "b"]),
    "label too long": lambda b: b["elements"][0].update(label="x" * 100_001),
    "message without author": lambda b: b["comments"][0]["messages"][0].pop("author"),
    "element is a string": lambda b: b["elements"].append("rect"),
    "two errors": lambda b: (b["elements"][0].update(fill="#zz"), b.update(y=1)),
}


def full_paths(board: dict) -> list[str]:
    """Where jsonschema-rs, on the whole file, finds violations."""
    return sorted(_json_path(e.instance_path) for e in load_model().validator.iter_errors(board))


def test_the_fixture_board_is_valid():
    assert validate_board_json(copy.deepcopy(VALID)) == []


@pytest.mark.parametrize("name", list(CASES))
def test_violations_are_named_where_the_whole_file_would_name_them(name):
    board = broken(CASES[name])
    found = validate_board_json(board)
    assert sorted(v.path for v in found) == full_paths(board), found
    assert board == broken(CASES[name])  # the file itself is left as it was


def test_lists_over_their_max_items_are_named_without_the_validator():
    points = broken(lambda b: b["elements"][1].update(points=[0.5] * 2001))
    assert [(v.path, v.message) for v in validate_board_json(points)] == [
        ("$.elements[1].points", "has 2001 items, more than the 2000 allowed")]
    groups = broken(lambda b: b["elements"][1].update(groupIds=[f"g{i}" for i in range(33)]))
    assert validate_board_json(groups)[0].path == "$.elements[1].groupIds"


def test_a_root_error_beside_two_million_numbers_copies_none_of_them():
    board = broken(lambda b: b.update(x=[0.125] * 2_000_000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = validate_board_json(board)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [v.path for v in found] == ["$"]
    assert "'x' was unexpected" in found[0].message
    assert grown_mib < 20  # jsonschema-rs's own error copied the whole file: +213 MiB


def many_rects(count: int) -> list[dict]:
    return [{"id": f"r{i}", "type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "z": "a0"}
            for i in range(count)]


def test_a_long_list_is_searched_in_parts_and_its_first_violations_are_named():
    board = broken(lambda b: b.update(elements=many_rects(3 * CHUNK_ITEMS)))
    board["elements"][CHUNK_ITEMS + 7].update(fill="#zz", w="wide")
    board["elements"][2 * CHUNK_ITEMS + 1].update(fill="#zz")  # in a later part: not named
    board["meta"]["background"] = 5  # outside the lists: named too
    found = validate_board_json(board)
    first = f"$.elements[{CHUNK_ITEMS + 7}]"
    assert [v.path for v in found] == [f"{first}.fill", f"{first}.w", "$.meta.background"]
    assert [v.path for v in found] == full_paths(board)[:2] + full_paths(board)[3:]
    threads = broken(lambda b: b.update(comments=[
        {**copy.deepcopy(b["comments"][0]), "id": f"c{i}"} for i in range(CHUNK_ITEMS + 5)]))
    threads["comments"][CHUNK_ITEMS + 2]["messages"][0]["author"] = 5
    threads["elements"][0].update(fill="#zz")  # a short list is checked whole
    first = f"$.comments[{CHUNK_ITEMS + 2}].messages[0].author"
    assert [v.path for v in validate_board_json(threads)] == full_paths(threads) == [
        first, "$.elements[0].fill"]


def test_a_hundred_thousand_wrong_fields_make_the_errors_of_one_part_only():
    board = broken(lambda b: b.update(elements=many_rects(20_000)))
    for element in board["elements"]:
        element.update(x="a", y="a", w="a", h="a", angle="a")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = validate_board_json(board)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert found[0].path == "$.elements[0].angle"
    assert len(found) == 5 * CHUNK_ITEMS
    assert grown_mib < 40  # all 100,000 errors at once: +232 MiB (this part: +12)
