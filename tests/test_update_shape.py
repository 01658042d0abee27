"""update_shape: the light Yjs v1 reader, on updates made by Yjs 13.6 and by pycrdt."""

from __future__ import annotations

import pytest
from pycrdt import Doc, IdSet, Map, get_update

from backend.update_shape import (
    MAX_ANY_DEPTH,
    MAX_SUBDOCS_READ,
    PYCRDT_OPTIONS_MARK,
    ShapeError,
    UpdateShape,
    guid_pattern,
    read_shape,
    state_as_id_ranges,
    subdoc_option_spans,
    subdoc_options_with_meta,
)

# Made by Yjs 13.6.33 (tests/interop/node_modules): client 333 sets
# doc.getMap('docs').set('s', new Y.Doc({guid: 'sub-guid-1', meta: {title: 'hello', n: 3},
# autoLoad: true})); client 444 pushes a Y.XmlHook('myhook') holding {k: 'v'} to
# getXmlFragment('x'). encodeStateAsUpdate of each.
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


def test_finds_an_xml_hook_that_pycrdt_cannot_decode():
    with pytest.raises(ValueError):
        Doc().apply_update(YJS_XML_HOOK)
    assert read_shape(YJS_XML_HOOK).has_xml_hook
    assert read_shape(YJS_SUBDOC) == UpdateShape(subdocs=1, has_xml_hook=False)


def test_reads_what_pycrdt_writes():
    doc = Doc()
    elements = doc.get("elements", type=Map)
    elements["a"] = {"x": 1.5, "tags": ["p", None, True], "n": -7}
    del elements["a"]
    assert read_shape(doc.get_update()) == UpdateShape()
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
    assert read_shape(shallow) == UpdateShape()


def test_reads_at_most_max_subdocs_options_in_one_update():
    lookalikes = b"".join(b"\x05" + f"g{i:04d}".encode() + b"\x76\x01\x04meta\x7e"
                          for i in range(2 * MAX_SUBDOCS_READ))
    found = subdoc_options_with_meta(lookalikes)
    assert len(found) == MAX_SUBDOCS_READ
    assert found["g0000"] == b"\x76\x01\x04meta\x7e"
