"""update_shape: the light Yjs v1 reader, on updates made by Yjs 13.6 and by pycrdt."""

from __future__ import annotations

import pytest
from pycrdt import Doc, IdSet, Map, get_update

from backend.update_shape import (
    MAX_ANY_DEPTH,
    ShapeError,
    may_hold_subdoc_meta,
    read_shape,
    state_as_id_ranges,
)

# Made by Yjs 13.6.33 (tests/interop/node_modules): client 333 sets
# doc.getMap('docs').set('s', new Y.Doc({guid: 'sub-guid-1', meta: {title: 'hello', n: 3},
# autoLoad: true})); client 444 pushes a Y.XmlHook('myhook') holding {k: 'v'} to
# getXmlFragment('x'). encodeStateAsUpdate of each.
YJS_SUBDOC = bytes.fromhex(
    "0101cd0200290104646f637301730a7375622d677569642d317602086175746f4c6f616478046d6574617602"
    "057469746c65770568656c6c6f016e7d0300")
YJS_XML_HOOK = bytes.fromhex("0102bc03000701017805066d79686f6f6b2800bc0300016b0177017600")


def test_finds_a_subdocument_and_the_span_of_its_options():
    shape = read_shape(YJS_SUBDOC)
    [subdoc] = shape.subdocs
    assert subdoc.guid == "sub-guid-1" and subdoc.has_meta
    options = YJS_SUBDOC[subdoc.options_start:subdoc.options_end]
    assert options.startswith(b"\x76\x02") and b"hello" in options
    assert not shape.has_xml_hook


def test_finds_an_xml_hook_that_pycrdt_cannot_decode():
    with pytest.raises(ValueError):
        Doc().apply_update(YJS_XML_HOOK)
    assert read_shape(YJS_XML_HOOK).has_xml_hook


def test_meta_marker_test_tells_yjs_options_from_pycrdt_ones():
    assert may_hold_subdoc_meta(YJS_SUBDOC)
    doc = Doc()
    doc.apply_update(YJS_SUBDOC)
    lossy = doc.get_update()
    assert not may_hold_subdoc_meta(lossy)
    assert read_shape(lossy).subdocs[0].has_meta is False


def test_reads_what_pycrdt_writes():
    doc = Doc()
    elements = doc.get("elements", type=Map)
    elements["a"] = {"x": 1.5, "tags": ["p", None, True], "n": -7}
    del elements["a"]
    shape = read_shape(doc.get_update())
    assert shape.subdocs == [] and not shape.has_xml_hook
    deletions_only = get_update(doc.get_update(), doc.get_state())  # no structs, then the ds
    assert deletions_only[0] == 0
    # one client with one struct: its state covers exactly the one deleted range
    assert state_as_id_ranges(doc.get_state()) == deletions_only[1:]
    assert IdSet.decode(state_as_id_ranges(doc.get_state())).encode() == deletions_only[1:]
    with pytest.raises(ShapeError):
        state_as_id_ranges(doc.get_state()[:-1])


@pytest.mark.parametrize("update", [YJS_SUBDOC[:-3], YJS_SUBDOC + b"\x00", b"", b"\x01\x01\x05"])
def test_truncated_or_trailing_bytes_are_refused(update):
    with pytest.raises(ShapeError):
        read_shape(update)


def test_nesting_past_the_bound_is_refused_without_recursion_error():
    depth = MAX_ANY_DEPTH + 5
    value = b"\x75\x01" * depth + b"\x7e"  # arrays of one element, down to null
    # one client, one struct: ContentAny (8) in root "m", one value
    update = b"\x01\x01\x07\x00\x08\x01\x01m\x01" + value + b"\x00"
    with pytest.raises(ShapeError, match="nested"):
        read_shape(update)
    shallow = b"\x01\x01\x07\x00\x08\x01\x01m\x01" + b"\x75\x01" * 3 + b"\x7e" + b"\x00"
    assert read_shape(shallow).subdocs == []
