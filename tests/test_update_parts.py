"""``backend.update_parts``: a big update cut into parts gives, applied in order, the same
document as the whole update; only the last part deletes; a part applied before the one it
depends on leaves its structs pending, which ``BoardDocument.holds`` tells."""

from __future__ import annotations

from pycrdt import Doc, Map, Text

from backend.document import BoardDocument
from backend.update_check import check_update
from backend.update_parts import split_update
from tests.offline_session import offline_session
from tests.yclient import decoded_state_vector, state_vector


def _parts(update: bytes, part_structs: int):
    return split_update(update, check_update(update, cut_structs=part_structs), part_structs)


def _applied(updates: list[bytes]) -> Doc:
    doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def _many_clients_with_deletions_and_texts() -> bytes:
    docs = [Doc() for _ in range(3)]
    for index, doc in enumerate(docs):
        elements = doc.get("elements", type=Map)
        for key in range(200):
            elements[f"{index}-{key}"] = Map({"x": key, "label": Text("hello")})
        for key in range(0, 200, 3):
            del elements[f"{index}-{key}"]
    for doc in docs[1:]:
        docs[0].apply_update(doc.get_update())
        doc.apply_update(docs[0].get_update())
    elements = docs[1].get("elements", type=Map)
    for key in list(elements.keys())[:50]:
        elements[key]["label"] += " world"  # edits on structs of the other clients
    docs[0].apply_update(docs[1].get_update())
    return docs[0].get_update()


def test_the_parts_of_an_offline_session_applied_in_order_make_the_whole_update():
    update = offline_session(300).get_update()
    parts = _parts(update, 100)
    summaries = [check_update(part.update) for part in parts]
    assert len(parts) > 50
    assert all(s.structs >= 100 for s in summaries[:-1])
    assert sum(s.structs for s in summaries) == check_update(update).structs
    whole, cut = _applied([update]), _applied([part.update for part in parts])
    assert state_vector(cut) == state_vector(whole)
    assert cut.get("elements", type=Map).to_py() == whole.get("elements", type=Map).to_py()


def test_parts_of_many_clients_keep_every_deletion_and_text_edit_and_only_the_last_deletes():
    update = _many_clients_with_deletions_and_texts()
    deletions = update[check_update(update).delete_set_at:]
    assert len(deletions) > 100
    parts = _parts(update, 37)
    assert len(parts) > 20
    assert parts[-1].update.endswith(deletions)
    assert not any(deletions in part.update for part in parts[:-1])
    whole, cut = _applied([update]), _applied([part.update for part in parts])
    assert state_vector(cut) == state_vector(whole)
    assert cut.get("elements", type=Map).to_py() == whole.get("elements", type=Map).to_py()
    assert len(cut.get("elements", type=Map)) == 3 * 133


def test_an_update_of_fewer_structs_than_a_part_is_its_own_only_part():
    update = offline_session(3).get_update()
    assert [part.update for part in _parts(update, 8192)] == [update]


def test_a_part_applied_before_the_one_it_continues_is_held_pending():
    parts = _parts(offline_session(50).get_update(), 100)
    document = BoardDocument()
    document.apply_part(parts[1].update)  # continues the clocks of parts[0]
    assert not document.holds(parts[1].clocks)
    document.apply_part(parts[0].update)
    assert document.holds(parts[0].clocks) and document.holds(parts[1].clocks)


def test_between_begin_and_end_of_the_parts_every_encoding_holds_the_whole_update():
    before = offline_session(40, moves=0)
    after = Doc()
    after.apply_update(before.get_update())
    elements = after.get("elements", type=Map)
    for key in list(elements.keys())[:20]:
        elements[key]["x"] = -1.0
    update = after.get_update(before.get_state())
    parts = _parts(update, 5)
    assert len(parts) > 2
    document = BoardDocument.from_updates([before.get_update()])
    document.begin_parts(update)
    document.apply_part(parts[0].update)  # the Doc holds some of the update
    joiner_state = before.get_state()  # a peer holding the board before the update
    assert state_vector(document.whole_doc()) == state_vector(after)
    assert _applied([document.full_update()]).get("elements", type=Map).to_py() == \
        elements.to_py()
    assert decoded_state_vector(document.state_vector()) == state_vector(after)
    caught_up = _applied([before.get_update(), document.missing_since(joiner_state)])
    assert caught_up.get("elements", type=Map).to_py() == elements.to_py()
    for part in parts[1:]:
        document.apply_part(part.update)
    document.end_parts(update)
    assert document.whole_doc() is document.doc
    assert state_vector(document.doc) == state_vector(after)


def test_two_updates_applied_in_parts_at_once_are_each_seen_whole_until_their_own_end():
    # An import and a client's big update may be applied in parts at the same time (each
    # yields to the event loop between parts): the end of one must not expose half the other.
    imported = offline_session(40, moves=0).get_update()
    live = Doc()
    live.get("elements", type=Map).update(
        {f"b{i}": Map({"type": "rect", "x": float(i)}) for i in range(40)})
    client_update = live.get_update()
    imported_parts, client_parts = _parts(imported, 5), _parts(client_update, 5)
    assert len(imported_parts) > 2 and len(client_parts) > 2
    whole = _applied([imported, client_update]).get("elements", type=Map).to_py()
    document = BoardDocument()
    document.begin_parts(imported)
    document.begin_parts(client_update)
    document.apply_part(imported_parts[0].update)
    document.apply_part(client_parts[0].update)
    for part in imported_parts[1:]:
        document.apply_part(part.update)
    document.end_parts(imported)  # the client's update is still half applied
    assert _applied([document.full_update()]).get("elements", type=Map).to_py() == whole
    assert len(document.whole_doc().get("elements", type=Map)) == 80
    for part in client_parts[1:]:
        document.apply_part(part.update)
    document.end_parts(client_update)
    assert document.whole_doc() is document.doc
    assert document.doc.get("elements", type=Map).to_py() == whole
