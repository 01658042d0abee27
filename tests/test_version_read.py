"""version_read: a version read with its checkpoint's elements recalled (only what the deltas
change read again) is exactly the version read whole; the deltas are checked every time."""

from __future__ import annotations

import pytest
from pycrdt import Array, Doc, Map, Text, merge_updates

from backend.board_model import read_board
from backend.checked_states import CheckedStates
from backend.checkpoint_reads import CheckpointReads
from backend.export.json_export import render_json
from backend.update_check import UpdateRefused
from backend.version_read import read_version
from tests import yjs_updates as y


def _chain() -> tuple[bytes, list[bytes]]:
    """A checkpoint of a small board and ten deltas after it, each one kind of change."""
    doc = Doc()
    elements = doc.get("elements", type=Map)
    with doc.transaction():
        doc.get("meta", type=Map)["title"] = "chain"
        for i in range(6):
            elements[f"r{i}"] = Map({"type": "rect", "x": float(i), "y": 0.0, "w": 10.0,
                                     "h": 10.0, "z": f"a{i}"})
        elements["s"] = Map({"type": "sticky", "text": Text("note"), "z": "b0"})
        elements["p"] = Map({"type": "stroke", "points": Array([0.0, 0.0, 5.0, 5.0]),
                             "z": "b1"})
        elements["arrow"] = Map({"type": "arrow", "points": Array([0.0, 0.0, 1.0, 1.0]),
                                 "startBindId": "r0", "endBindId": "r1", "z": "b2"})
    checkpoint = doc.get_update()
    edits = [
        lambda: elements["r0"].__setitem__("x", 500.0),  # moves the arrow's start target
        lambda: elements["r1"].__setitem__("fill", "#ff0000"),
        lambda: elements.pop("r2"),
        lambda: elements.__setitem__("new", Map({"type": "ellipse", "z": "c0"})),
        lambda: elements["s"]["text"].insert(4, " edited"),
        lambda: elements["p"]["points"].extend([9.0, 9.5]),
        lambda: elements.__setitem__("r3", 7.0),  # no longer a Y.Map: skipped
        lambda: elements["r4"].__setitem__("extra", {"nested": [1.0, 2.5]}),
        lambda: doc.get("meta", type=Map).__setitem__("title", "renamed"),
        lambda: elements["new"].__setitem__("z", "a0"),  # repainted below the rest
    ]
    deltas = []
    for edit in edits:
        before = doc.get_state()
        edit()
        deltas.append(doc.get_update(before))
    return checkpoint, deltas


def _whole(checkpoint: bytes, deltas: list[bytes]) -> bytes:
    doc = Doc()
    doc.apply_update(checkpoint)
    for delta in deltas:
        doc.apply_update(delta)
    return render_json(read_board(doc))


def test_every_version_read_with_the_kept_checkpoint_equals_it_read_whole():
    checkpoint, deltas = _chain()
    depths = CheckedStates().depths(checkpoint)
    reads = CheckpointReads()
    for count in (len(deltas), 0, 3, 1, len(deltas), 7, 0):  # misses and hits, any order
        merged = merge_updates(*deltas[:count]) if count else None
        assert render_json(read_version(checkpoint, depths, merged, reads)) == \
            _whole(checkpoint, deltas[:count]), count
        assert render_json(read_version(checkpoint, depths, merged)) == \
            _whole(checkpoint, deltas[:count]), count
    assert reads.hits_total == 6


def test_a_poisoned_delta_is_refused_though_its_checkpoint_is_kept():
    """A delta nested 20,000 deep (built as raw bytes, never applied) after a checkpoint
    whose read is kept: refused each time before pycrdt sees it, and the kept read stays
    as it was."""
    checkpoint, _deltas = _chain()
    depths = CheckedStates().depths(checkpoint)
    reads = CheckpointReads()
    good = render_json(read_version(checkpoint, depths, None, reads))
    bomb = y.deep_map_update(20_000, client=77)
    for _ in range(2):
        with pytest.raises(UpdateRefused, match="nested deeper than 100"):
            read_version(checkpoint, depths, bomb, reads)
    assert render_json(read_version(checkpoint, depths, None, reads)) == good
    assert reads.hits_total == 1  # the refused reads never got as far as the kept read


def test_the_kept_reads_are_bounded_by_elements():
    reads, checked = CheckpointReads(max_elements=15), CheckedStates()

    def read(update: bytes) -> None:
        read_version(update, checked.depths(update), None, reads)

    first, _ = _chain()  # 9 elements
    small = Doc()
    small.get("elements", type=Map)["x"] = Map({"type": "rect", "z": "a0"})
    read(first)
    read(small.get_update())
    read(first)
    assert reads.hits_total == 1
    other = Doc()
    other.get("elements", type=Map).update({f"e{i}": Map({"type": "rect", "z": f"a{i}"})
                                            for i in range(8)})
    read(other.get_update())  # 9 + 1 + 8 > 15: the least recently used go
    read(first)
    assert reads.hits_total == 1
