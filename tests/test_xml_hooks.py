"""backend.xml_hooks and BoardDocument: ``Y.XmlHook`` content is held as ``Y.Map`` by pycrdt
and given back as the hook its client wrote, in every encoding clients and the store get
(issue 19 item 5)."""

from __future__ import annotations

import json
import logging

import pytest
from pycrdt import Doc, Map

from backend.document import BoardDocument
from backend.errors import CloseConnection
from backend.protocol import CloseCode
from backend.store.store import merge_updates_into_snapshot
from backend.update_check import check_update
from backend.xml_hooks import MAX_HOOK_NAME_BYTES, MAX_HOOKS, HookRefused, XmlHooks, hook_paths
from tests import yjs_updates as y
from tests.export_helpers import base_url, fetch_json
from tests.sse_reader import SseReader
from tests.test_document import text_updates
from tests.test_update_shape import YJS_XML_HOOK

CLIENT = 7


def _hooks_update(names: list[str], client: int = CLIENT, fragment: str = "prose") -> bytes:
    """Y.XmlHooks named ``names`` pushed to an XML fragment, each holding {"k": "v"}."""
    structs = [y.type_item(y.Y_XML_HOOK, names[0], parent=fragment)]
    structs += [y.type_item(y.Y_XML_HOOK, name, origin=(client, 2 * i))
                for i, name in enumerate(names[1:])]
    entries = [y.any_item([y.any_string("v")], parent=(client, 2 * i), parent_sub="k")
               for i in range(len(names))]
    return y.Update().add(client, 0, [s for pair in zip(structs, entries, strict=True)
                                      for s in pair]).encode()


def test_pycrdt_misreads_a_hook_so_it_must_never_see_one():
    # yrs reads type ref 5 without the name: these bytes decode (the name "k" read as a
    # delete set) and the hook's name is gone; most others raise "Cannot decode update".
    doc = Doc()
    doc.apply_update(bytes.fromhex("0101bc03000701017805016b00"))
    assert doc.get_update() == bytes.fromhex("0101bc0300070101780500")
    with pytest.raises(ValueError):
        Doc().apply_update(YJS_XML_HOOK)


def test_a_hook_is_held_as_a_map_and_encoded_back_as_yjs_wrote_it():
    hooks = XmlHooks()
    as_maps, found = hooks.as_maps(YJS_XML_HOOK)
    assert found == {(444, 0): b"\x06myhook"} and hooks.names == {}
    doc = Doc()
    doc.apply_update(as_maps)
    assert doc.get_update() == as_maps  # a Y.Map with the hook's entries, same struct ids
    hooks.keep(found)
    assert hooks.restore(doc.get_update()) == YJS_XML_HOOK


def test_the_pre_check_counts_hooks_however_their_type_ref_is_written():
    assert check_update(YJS_XML_HOOK).xml_hooks == 1
    assert check_update(_hooks_update(["a", "b", "c"])).xml_hooks == 3
    # 5 as a two-byte varUint (0x85 0x00) is still a hook to Yjs: counted and rewritten
    long_ref = YJS_XML_HOOK.replace(b"\x78\x05\x06", b"\x78\x85\x00\x06")
    assert check_update(long_ref).xml_hooks == 1
    as_maps, found = XmlHooks().as_maps(long_ref)
    assert found == {(444, 0): b"\x06myhook"} and b"myhook" not in as_maps


def test_a_board_keeps_hooks_in_joins_diffs_relays_compaction_and_reload():
    document = BoardDocument()
    first = _hooks_update(["embed", "mention"])
    assert document.apply_update(first)
    other = Doc()
    other.get("elements", type=Map)["x"] = 1
    edit = other.get_update()
    document.apply_update(edit)
    full = document.full_update(for_clients=True)
    peer = Doc()  # a peer holding the map edit only: its sync step 2 is the hooks
    peer.apply_update(edit)
    for encoding in (full, document.missing_since(b"\x00", for_clients=True),
                     document.missing_since(peer.get_state(), for_clients=True),
                     document.merged([first, edit])):
        assert b"\x05\x05embed" in encoding and b"\x05\x07mention" in encoding
    # what the server reads itself holds maps: pycrdt reads it
    readable = document.full_update()
    assert b"embed" not in readable
    Doc().apply_update(readable)
    assert document.readable(first) != first and document.readable(edit) is edit
    snapshot = merge_updates_into_snapshot([first, edit])
    assert snapshot == full
    reloaded = BoardDocument.from_updates([snapshot])
    assert reloaded.full_update(for_clients=True) == full
    assert reloaded.hooks.names == document.hooks.names


def test_a_hook_edited_in_a_later_update_keeps_its_name():
    document = BoardDocument()
    document.apply_update(_hooks_update(["embed"]))
    later = y.Update().add(CLIENT, 2, [y.any_item([y.any_string("w")], parent=(CLIENT, 0),
                                                   parent_sub="k2")]).encode()
    document.apply_update(later)
    full = document.full_update(for_clients=True)
    assert b"\x05\x05embed" in full and b"k2" in full
    assert BoardDocument.from_updates([full]).full_update(for_clients=True) == full


def test_hook_names_and_hook_counts_are_bounded_and_refused_with_4422():
    at_limit = "n" * MAX_HOOK_NAME_BYTES
    XmlHooks().as_maps(_hooks_update([at_limit]))
    with pytest.raises(HookRefused, match="name"):
        XmlHooks().as_maps(_hooks_update([at_limit + "n"]))
    document = BoardDocument()
    document.apply_update(_hooks_update(["h"] * (MAX_HOOKS - 1)))
    document.apply_update(_hooks_update(["h"], client=CLIENT + 1))  # exactly the limit
    assert len(document.hooks.names) == MAX_HOOKS
    before = document.full_update(for_clients=True)
    with pytest.raises(CloseConnection) as refused:
        document.apply_update(_hooks_update(["h"], client=CLIENT + 2))
    assert refused.value.code == CloseCode.WS_4422_UNSUPPORTED_CONTENT
    assert "more than" in refused.value.reason
    assert document.full_update(for_clients=True) == before  # nothing applied
    document.apply_update(_hooks_update(["h"] * 2))  # the same hooks again: nothing new


def test_a_diff_starting_inside_a_hook_writers_clocks_keeps_its_later_hooks():
    document = BoardDocument()
    first = _hooks_update(["first"])
    later = y.Update().add(CLIENT, 2, [y.type_item(y.Y_XML_HOOK, "second", origin=(CLIENT, 0)),
                                       y.any_item([y.any_string("v")], parent=(CLIENT, 2),
                                                  parent_sub="k")]).encode()
    other = Doc()
    other.get("elements", type=Map)["x"] = 1
    for update in (first, other.get_update(), later):
        document.apply_update(update)
    peer = Doc()  # holds the first hook and the map edit: it lacks the second hook only
    peer.apply_update(XmlHooks().as_maps(first)[0])
    peer.apply_update(other.get_update())
    missing = document.missing_since(peer.get_state(), for_clients=True)
    assert b"\x05\x06second" in missing and b"first" not in missing
    peer.apply_update(document.missing_since(peer.get_state()))
    assert peer.get_state() == document.state_vector()


def _rect_update(element: str, x: float, base: Doc) -> bytes:
    before = base.get_state()
    base.get("elements", type=Map)[element] = Map({"type": "rect", "x": x, "y": 0.0,
                                                   "w": 10.0, "h": 10.0, "z": f"a{x}"})
    return base.get_update(before)


@pytest.mark.gen_test(timeout=60)
async def test_the_servers_own_readers_read_a_board_holding_hooks(sb_server, caplog):
    # exports, versions (saved, exported, restored) and the change feed read hooks as maps
    server = await sb_server(events_window_ms=50)
    base, board = base_url(server), "hooks_readers"
    registry = server.registry
    await registry.store.create_board(board)
    reader = await SseReader(f"{base}/api/boards/{board}/events").open()
    drawing = Doc()
    await registry.apply_update(board, _rect_update("r1", 1.0, drawing))
    await registry.apply_update(board, _hooks_update(["embed"]))
    exported = await _export_json(f"{base}/api/boards/{board}")
    assert [e["id"] for e in exported["elements"]] == ["r1"]
    code, saved = await fetch_json(f"{base}/api/boards/{board}/versions", method="POST",
                                   body=json.dumps({"label": "with a hook"}))
    assert code == 201, saved
    await registry.apply_update(board, _rect_update("r2", 2.0, drawing))
    await registry.apply_update(board, _hooks_update(["later"], client=CLIENT + 1))
    await reader.wait_for(lambda: _created(reader) == ["r1", "r2"],
                          what="the feed reports both rectangles, hooks between them")
    assert await _export_json(f"{base}/api/boards/{board}/versions/{saved['id']}") == exported
    code, answer = await fetch_json(
        f"{base}/api/boards/{board}/versions/{saved['id']}/restore", method="POST", body=b"")
    assert code == 200, answer
    assert await _export_json(f"{base}/api/boards/{board}") == exported
    full = registry.rooms[board].document.full_update(for_clients=True)
    assert b"\x05\x05embed" in full and b"\x05\x05later" in full  # hooks are not elements
    reader.close()
    assert [r.message for r in caplog.records if r.levelno >= logging.ERROR] == []


def _created(reader: SseReader) -> list[str]:
    return [element["id"] for _seq, kind, event in reader.events
            if kind == "elements.changed" for element in event["created"]]


async def _export_json(url: str) -> dict:
    code, body = await fetch_json(f"{url}/export.json")
    assert code == 200, body
    return body


def test_hooks_and_pending_structs_are_both_in_a_joiners_encoding():
    first, second, _deletion = text_updates()
    document = BoardDocument()
    document.apply_update(second)  # waits for `first`: pending
    document.apply_update(_hooks_update(["embed"]))
    assert document.has_pending
    full = document.full_update(for_clients=True)
    assert b"\x05\x05embed" in full and b"def" in full
    reloaded = BoardDocument.from_updates([full, first])
    assert not reloaded.has_pending and b"\x05\x05embed" in reloaded.full_update(for_clients=True)


def test_a_hook_resent_at_the_id_of_a_map_the_board_holds_does_not_rename_it():
    document = BoardDocument()
    document.apply_update(y.Update().add(CLIENT, 0, [
        y.type_item(y.Y_MAP, parent="elements", parent_sub="m")]).encode())
    before = document.full_update(for_clients=True)
    forged = y.Update().add(CLIENT, 0, [
        y.type_item(y.Y_XML_HOOK, "forged", parent="elements", parent_sub="m")]).encode()
    document.apply_update(forged)  # a duplicate of a struct the board holds: ignored
    assert document.hooks.names == {}
    assert document.full_update(for_clients=True) == before


def test_at_the_bound_the_names_of_deleted_hooks_are_dropped_and_live_hooks_still_count(caplog):
    document = BoardDocument()
    log = [_hooks_update([f"h{i}" for i in range(MAX_HOOKS)], client=CLIENT)]
    document.apply_update(log[-1])
    with pytest.raises(CloseConnection) as refused:
        document.apply_update(_hooks_update(["one more"], client=8))
    assert refused.value.code == CloseCode.WS_4422_UNSUPPORTED_CONTENT
    log.append(y.Update().delete(CLIENT, 0, 2 * MAX_HOOKS).encode())  # every hook and entry
    document.apply_update(log[-1])
    log.append(_hooks_update(["one more"], client=8))
    document.apply_update(log[-1])  # the deleted ones no longer count
    assert set(document.hooks.names) == {(8, 0)}
    log.append(_hooks_update([f"g{i}" for i in range(MAX_HOOKS - 1)], client=9))
    document.apply_update(log[-1])
    with pytest.raises(CloseConnection) as refused:  # 1,000 hooks are there: the bound holds
        document.apply_update(_hooks_update(["over"], client=10))
    assert refused.value.code == CloseCode.WS_4422_UNSUPPORTED_CONTENT
    full = document.full_update(for_clients=True)
    assert full.count(b"\x05\x05embed") == 0 and b"one more" in full and b"g998" in full
    with caplog.at_level(logging.WARNING):
        reloaded = BoardDocument.from_updates(log)  # the log loads whole: no row skipped
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]
    assert reloaded.full_update(for_clients=True) == full
    assert len(reloaded.hooks.names) == MAX_HOOKS


def test_hook_paths_finds_each_hook_under_map_keys_by_its_struct_id():
    doc = Doc()
    elements = doc.get("elements", type=Map)
    with doc.transaction():
        elements["h1"] = Map({"src": "x"})
        elements["e2"] = Map({"kind": "note", "embed": Map({"a": 1})})
        elements["plain"] = Map({"q": 1})
    update = doc.get_update()
    client = doc.client_id
    names = {(client, 0): b"\x05embed", (client, 4): b"\x03pic"}  # h1, then e2.embed
    assert hook_paths(update, names, ["meta", "elements"]) == {
        ("elements", "h1"): b"\x05embed", ("elements", "e2", "embed"): b"\x03pic"}
    assert hook_paths(update, names, ["meta"]) == {}
