"""CheckedStates and the ``checked`` marks of version checkpoints: a mark vouches only for
the very bytes, depths and rules it was made for; anything else is walked again."""

from __future__ import annotations

import zlib

import pytest
from pycrdt import Doc, Map

from backend import checked_states, version_rows
from backend.checked_states import (
    CheckedStates,
    checked_mark,
    depths_of_mark,
    mark_stored_checkpoint,
)
from backend.update_check import TypeDepths, UpdateRefused, check_update
from tests import yjs_updates as y
from tests.test_update_shape import YJS_XML_HOOK


def _board(count: int) -> bytes:
    doc = Doc()
    elements = doc.get("elements", type=Map)
    for i in range(count):
        elements[f"r{i}"] = Map({"type": "rect", "x": float(i), "y": 0.0, "z": f"a{i}"})
    return doc.get_update()


def _state(depths: TypeDepths) -> tuple:
    return depths._runs, depths._tails


def test_type_depths_round_trip_through_bytes_and_refuse_anything_else():
    depths = TypeDepths()
    depths.record(check_update(_board(50)))
    blob = depths.to_bytes()
    assert _state(TypeDepths.from_bytes(blob)) == _state(depths)
    assert _state(TypeDepths.from_bytes(TypeDepths().to_bytes())) == ({}, {})
    for bad in (blob[:-1], blob[:-8], blob + bytes(8), b"\xff" * 8 + blob[8:]):
        with pytest.raises(ValueError, match="type depths"):
            TypeDepths.from_bytes(bad)


def test_a_mark_made_by_one_process_spares_the_next_the_walk():
    update = _board(20)
    first = CheckedStates()
    found = first.checked(update, None)
    assert first.checks_total == 1 and found.mark is not None
    again = first.checked(update, None)  # kept in memory: the row gets its mark
    assert first.checks_total == 1 and first.hits_total == 1 and again.mark is not None
    restarted = CheckedStates()
    trusted = restarted.checked(update, found.mark)
    assert (restarted.checks_total, restarted.marks_trusted_total) == (0, 1)
    assert trusted.mark is None and _state(trusted.depths) == _state(found.depths)
    assert restarted.checked(update, found.mark).mark is None and restarted.hits_total == 1


def test_a_mark_vouches_for_nothing_but_its_own_bytes_depths_and_rules(monkeypatch):
    update, other = _board(20), _board(21)
    mark = checked_mark(update, CheckedStates().checked(update, None).depths)
    assert depths_of_mark(update, mark) is not None
    assert depths_of_mark(other, mark) is None
    assert depths_of_mark(update + b"\x00", mark) is None
    for at in (0, 31, 32, len(mark) - 1):  # the digest, and the depths it covers
        assert depths_of_mark(update, mark[:at] + bytes([mark[at] ^ 1]) + mark[at + 1:]) \
            is None, at
    assert depths_of_mark(update, mark[:32]) is None and depths_of_mark(update, b"") is None
    empty = zlib.compress(TypeDepths().to_bytes(), 1)
    assert depths_of_mark(update, mark[:32] + empty) is None  # depths swapped for none
    monkeypatch.setattr(checked_states, "CHECK_RULES", checked_states.CHECK_RULES + b" new")
    assert depths_of_mark(update, mark) is None  # made under other rules

    states = CheckedStates()
    found = states.checked(other, mark)  # another row's mark: walked, and a new mark
    assert states.checks_total == 1 and states.marks_trusted_total == 0
    assert depths_of_mark(other, found.mark) is not None


def test_bytes_that_fail_the_check_are_refused_whatever_mark_they_carry():
    good = _board(5)
    mark = CheckedStates().checked(good, None).mark
    bomb = y.deep_map_update(20_000, client=77)
    states = CheckedStates()
    for _ in range(2):
        with pytest.raises(UpdateRefused, match="nested deeper than 100"):
            states.checked(bomb, mark)
    assert (states.checks_total, states.marks_trusted_total, states.hits_total) == (2, 0, 0)
    with pytest.raises(UpdateRefused, match="nested deeper than 100"):
        mark_stored_checkpoint(zlib.compress(bomb, 1))


def test_the_writer_s_mark_of_a_stored_row_is_the_exports_mark():
    update = _board(30)
    mark = mark_stored_checkpoint(zlib.compress(update, 1))
    assert _state(depths_of_mark(update, mark)) == \
        _state(CheckedStates().checked(update, None).depths)
    with pytest.raises(ValueError, match="not deflated"):
        mark_stored_checkpoint(update)


def test_the_writer_marks_a_row_holding_xml_hooks_in_the_form_exports_check():
    # A row of a board with Y.XmlHook content starts with version_rows.HOOKS_MARK and is
    # checked (by exports, and so by the writer) with its hooks as maps.
    row = version_rows.pack(YJS_XML_HOOK, True)
    readable = version_rows.readable_row(row)
    assert readable != YJS_XML_HOOK
    mark = mark_stored_checkpoint(row)
    assert _state(depths_of_mark(readable, mark)) == \
        _state(CheckedStates().checked(readable, None).depths)
