"""BoardDocument: what pycrdt alone would drop stays in every encoding (issue 19 items 3-5)."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map, Text, merge_updates

from backend.document import MAX_SUBDOC_OPTIONS, BoardDocument
from backend.errors import CloseConnection
from backend.protocol import CloseCode
from backend.store.store import merge_updates_into_snapshot
from backend.update_shape import subdoc_options_with_meta
from tests.test_update_shape import YJS_SUBDOC, YJS_XML_HOOK


def text_updates() -> tuple[bytes, bytes, bytes]:
    """Three updates to text ``t``: "abc" by one client, "def" after it by the same client,
    and the deletion of "b" by a second client that had seen the first update."""
    author = Doc()
    text = author.get("t", type=Text)
    text += "abc"
    first = author.get_update()
    seen = author.get_state()
    text += "def"
    second = author.get_update(seen)
    other = Doc()
    other.apply_update(first)
    before = other.get_state()
    del other.get("t", type=Text)[1:2]
    return first, second, other.get_update(before)


def _text_of(update: bytes, *more: bytes) -> str:
    doc = Doc()
    for data in (update, *more):
        doc.apply_update(data)
    return str(doc.get("t", type=Text))


def test_pending_structs_and_deletions_are_in_every_encoding_until_they_integrate():
    first, second, deletion = text_updates()
    document = BoardDocument()
    assert document.apply_update(second)
    assert document.apply_update(deletion)
    assert document.has_pending
    # pycrdt alone leaves both out; a joiner that gets them integrates them with "abc"
    assert _text_of(document.doc.get_update(), first) == "abc"
    assert _text_of(document.full_update(), first) == "acdef"
    assert _text_of(document.missing_since(b"\x00"), first) == "acdef"

    document.apply_update(first)
    assert not document.has_pending
    assert str(document.doc.get("t", type=Text)) == "acdef"
    assert _text_of(document.full_update()) == "acdef"


def test_a_compacted_snapshot_keeps_pending_parts():
    first, second, deletion = text_updates()
    snapshot = merge_updates_into_snapshot([second, deletion])
    reloaded = BoardDocument.from_updates([snapshot])
    assert reloaded.has_pending
    reloaded.apply_update(first)
    assert not reloaded.has_pending
    assert str(reloaded.doc.get("t", type=Text)) == "acdef"


def test_an_unrelated_board_has_nothing_pending():
    doc = Doc()
    doc.get("elements", type=Map)["a"] = 1
    document = BoardDocument.from_updates([doc.get_update()])
    assert not document.has_pending
    assert document.full_update() == doc.get_update()


def _subdoc_meta(update: bytes) -> bytes | None:
    """The options with meta of subdocument ``sub-guid-1`` in ``update``, if any."""
    return subdoc_options_with_meta(update).get("sub-guid-1")


def test_subdocument_options_are_spliced_back_into_pycrdt_encodings():
    original = _subdoc_meta(YJS_SUBDOC)
    assert original is not None
    document = BoardDocument()
    document.apply_update(YJS_SUBDOC)
    assert _subdoc_meta(document.doc.get_update()) is None  # pycrdt drops meta
    assert _subdoc_meta(document.full_update()) == original
    assert _subdoc_meta(document.missing_since(b"\x00")) == original
    other = Doc()
    other.get("elements", type=Map)["x"] = 1
    merged = merge_updates(YJS_SUBDOC, other.get_update())
    assert _subdoc_meta(document.restore(merged)) == original
    # compaction and reload keep them too
    snapshot = merge_updates_into_snapshot([YJS_SUBDOC, other.get_update()])
    assert _subdoc_meta(snapshot) == original
    assert _subdoc_meta(BoardDocument.from_updates([snapshot]).full_update()) == original


def test_xml_hook_is_accepted_and_garbage_refused_with_1007():
    document = BoardDocument()
    assert document.apply_update(YJS_XML_HOOK)  # tests/test_xml_hooks.py has the rest
    with pytest.raises(CloseConnection) as garbage:
        document.apply_update(b"\x05\xff\xff\xff\xff")
    assert garbage.value.code == CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA


def test_kept_subdocument_options_are_capped_per_board(caplog):
    document = BoardDocument()
    options = {f"guid-{i}": b"\x76\x01\x04meta\x7e" for i in range(MAX_SUBDOC_OPTIONS + 10)}
    document._remember_subdoc_options(options)
    assert len(document._subdoc_options) == MAX_SUBDOC_OPTIONS
    assert "subdocuments with meta" in caplog.text
