"""update_shape: the light Yjs v1 reader, on updates made by Yjs 13.6 and by pycrdt."""

from __future__ import annotations

import pytest
from pycrdt import Doc, IdSet, Map, get_update

from backend.update_shape import (
    MAX_ANY_DEPTH,
    MAX_SUBDOCS_READ,
    PYCRDT_OPTIONS_MARK,
    ShapeError,
    guid_pattern,
    state_as_id_ranges,
    subdoc_option_spans,
    subdoc_options_with_meta,
)

# Made by Yjs 13.6.33 (tests/interop/node_modules): client 333 sets
# doc.getMap('docs').set('s', new Y.Doc({guid: 'sub-guid-1', meta: {title: 'hello', n: 3},
# autoLoad: true})); client 444 pushes a Y.XmlHook('myhook') holding {k: 'v'} to
# getXmlFragment('x') (tests/test_xml_hooks.py). encodeStateAsUpdate of each.
YJS_SUBDOC = bytes.fromhex(
    "0101cd0200290104646f637301730a7375622d677569642d317602086175746f4c6f616478046d6574617602"
    "057469746c65770568656c6c6f016e7d0300")
YJS_XML_HOOK = bytes.fromhex("0102bc03000701017805066d79686f6f6b2800bc0300016b0177017600")


def test_finds_the_options_yjs_wrote_and_where_pycrdt_wrote_its_own():
    [(guid, options)] = subdoc_options_with_meta(YJS_SUBDOC).items()
    assert guid == "sub-guid-1"
    assert options.startswith(b"\x76\x02") and b"hello" in options
    doc = Doc()
    doc.apply_update(YJS_SUBDOC)
    lossy = doc.get_update()
    assert subdoc_options_with_meta(lossy) == {}  # pycrdt dropped meta
    [(found, start, end)] = subdoc_option_spans(lossy, guid_pattern(["other", guid]))
    assert found == guid and lossy[start:end].startswith(b"\x76")
    assert PYCRDT_OPTIONS_MARK in lossy[start:end]
    assert subdoc_option_spans(lossy, guid_pattern(["other"])) == []


def test_a_state_vector_reads_as_the_id_ranges_it_covers():
    doc = Doc()
    elements = doc.get("elements", type=Map)
    elements["a"] = {"x": 1.5, "tags": ["p", None, True], "n": -7}
    del elements["a"]
    deletions_only = get_update(doc.get_update(), doc.get_state())  # no structs, then the ds
    assert deletions_only[0] == 0
    # one client with one struct: its state covers exactly the one deleted range
    assert state_as_id_ranges(doc.get_state()) == deletions_only[1:]
    assert IdSet.decode(state_as_id_ranges(doc.get_state())).encode() == deletions_only[1:]
    with pytest.raises(ShapeError):
        state_as_id_ranges(doc.get_state()[:-1])


def test_nesting_past_the_bound_is_refused_without_recursion_error():
    # subdocument options whose meta is arrays of one element, down to null
    def options(depth: int) -> bytes:
        return b"\x04guid\x76\x01\x04meta" + b"\x75\x01" * depth + b"\x7e"

    assert subdoc_options_with_meta(options(MAX_ANY_DEPTH + 5)) == {}
    assert list(subdoc_options_with_meta(options(3))) == ["guid"]


def test_reads_at_most_max_subdocs_options_in_one_update():
    lookalikes = b"".join(b"\x05" + f"g{i:04d}".encode() + b"\x76\x01\x04meta\x7e"
                          for i in range(2 * MAX_SUBDOCS_READ))
    found = subdoc_options_with_meta(lookalikes)
    assert len(found) == MAX_SUBDOCS_READ
    assert found["g0000"] == b"\x76\x01\x04meta\x7e"
