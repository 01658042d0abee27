"""backend.update_check: legitimate updates (pycrdt and the JS Yjs library, every content type)
always pass; hostile shapes are refused quickly, in bounded time and without recursion."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from backend.awareness import REMOTE
from backend.clock_owners import ClockOwners
from backend.errors import CloseConnection
from backend.update_check import (
    MAX_ANY_DEPTH,
    MAX_CLIENTS,
    MAX_TYPE_DEPTH,
    TypeDepths,
    UpdateRefused,
    check_update,
    outside_comments,
)
from tests import yjs_updates as y

INTEROP = Path(__file__).resolve().parent / "interop"


@pytest.fixture(scope="module")
def yjs_samples() -> dict[str, bytes]:
    out = subprocess.run(["node", "yjs_samples.mjs"], cwd=INTEROP, capture_output=True,
                         check=True, timeout=120).stdout
    return {name: bytes.fromhex(value) for name, value in json.loads(out).items()}


def _pycrdt_samples() -> dict[str, bytes]:
    doc = Doc()
    elements = doc.get("elements", type=Map)
    text = doc.get("t", type=Text)
    samples = {}
    before = doc.get_state()
    with doc.transaction():
        elements["e1"] = Map({"type": "rect", "x": 1.5, "y": -2, "ok": True, "none": None,
                              "nested": {"a": [1, 2, {"b": "c"}]}, "bin": b"\x00\xff",
                              "points": Array([1.0, 2.0]), "text": Text("hé 😀")})
        text += "hello"
        text.format(0, 2, {"bold": True})
        text.insert_embed(1, {"img": "x"})
        frag = doc.get("xml", type=XmlFragment)
        frag.children.append(XmlElement("p", {"class": "c"}, [XmlText("inner")]))
    samples["every type from pycrdt"] = doc.get_update(before)
    before = doc.get_state()
    del elements["e1"]
    del text[0:3]
    samples["deletions from pycrdt"] = doc.get_update(before)
    samples["whole pycrdt document after deletions (GC)"] = doc.get_update()
    typed = Doc()
    typed_text = typed.get("t", type=Text)
    keystrokes = []
    typed.observe(lambda event: keystrokes.append(event.update))
    for _ in range(2000):
        typed_text += "x"
    samples["2000 keystrokes, whole"] = typed.get_update()
    samples["one keystroke"] = keystrokes[-1]
    return samples


@pytest.mark.parametrize("name", list(_pycrdt_samples()))
def test_pycrdt_updates_of_every_content_type_pass(name):
    update = _pycrdt_samples()[name]
    summary = check_update(update)
    assert summary.structs > 0 or summary.deletes
    Doc().apply_update(update)


def test_yjs_updates_of_every_content_type_pass(yjs_samples):
    assert len(yjs_samples) >= 9
    for name, update in yjs_samples.items():
        summary = check_update(update)
        assert summary.clocks, name


def test_xml_hook_and_subdocument_content_is_not_refused(yjs_samples):
    # pycrdt itself may refuse XmlHook (issue 19); the pre-check must not.
    check_update(yjs_samples["every shared type, Any, binary"])
    check_update(yjs_samples["subdocument"])


def test_a_board_built_update_by_update_passes_with_its_history(yjs_samples):
    """Keystrokes and elements applied one update at a time, each checked against the board
    (type depths and chains carried over), all pass."""
    doc, shape = Doc(), TypeDepths()
    updates = []
    doc.observe(lambda event: updates.append(event.update))
    elements = doc.get("elements", type=Map)
    for i in range(200):
        elements[f"e{i}"] = Map({"type": "text", "text": Text("a"), "points": Array([1.0])})
        elements[f"e{i}"]["text"] += "bc"
        elements[f"e{i}"]["points"].append(2.0)
    board = Doc()
    for update in updates:
        shape.record(check_update(update, shape))
        board.apply_update(update)
    assert shape.run_count < 5 * 200 * 4


def test_the_checks_cost_on_a_10000_element_paste_is_linear_and_modest(yjs_samples):
    update = yjs_samples["paste of 10000 elements"]
    started = time.process_time()
    summary = check_update(update)
    check_s = time.process_time() - started
    started = time.process_time()
    Doc().apply_update(update)
    apply_s = time.process_time() - started
    print(f"{len(update)} bytes, {summary.structs} structs: check {check_s * 1000:.0f} ms, "
          f"pycrdt apply {apply_s * 1000:.0f} ms")
    assert summary.structs >= 10_000 * 8


@pytest.mark.parametrize("kind", ["array", "object"])
def test_any_nested_past_the_limit_is_refused_and_at_the_limit_passes(kind):
    check_update(y.deep_any_update(MAX_ANY_DEPTH, kind=kind))
    with pytest.raises(UpdateRefused, match="Any value nested deeper"):
        check_update(y.deep_any_update(MAX_ANY_DEPTH + 1, kind=kind))
    started = time.perf_counter()
    with pytest.raises(UpdateRefused):
        check_update(y.deep_any_update(200_000, kind=kind))
    assert time.perf_counter() - started < 0.5


def test_number_arrays_count_as_a_level_of_nesting_and_must_be_complete():
    """Arrays of float64 only (stroke points) are skipped in one compare: the level they open
    is still counted against the limit, and a run cut short is refused."""
    numbers = y.any_array([b"\x7b" + bytes(8)] * 3)
    at_limit = b"\x75\x01" * (MAX_ANY_DEPTH - 1) + numbers
    check_update(y.Update().add(1, 0, [y.any_item([at_limit], parent="a")]).encode())
    past = b"\x75\x01" * MAX_ANY_DEPTH + numbers
    with pytest.raises(UpdateRefused, match="Any value nested deeper"):
        check_update(y.Update().add(1, 0, [y.any_item([past], parent="a")]).encode())
    whole = y.Update().add(1, 0, [y.any_item([numbers], parent="a")]).encode()
    Doc().apply_update(whole)
    cut = whole[:whole.index(numbers) + len(numbers) - 4]  # the last number lacks 4 bytes
    with pytest.raises(UpdateRefused, match="ends in the middle"):
        check_update(cut)


def test_any_nested_in_a_subdocument_option_is_refused():
    opts = y.deep_any(MAX_ANY_DEPTH + 1)
    doc_item = y.Struct(y.DOC, y.var_string("guid") + opts, parent="docs", parent_sub="d")
    with pytest.raises(UpdateRefused, match="nested deeper"):
        check_update(y.Update().add(1, 0, [doc_item]).encode())


def test_shared_types_nested_past_the_limit_are_refused_in_one_update():
    check_update(y.deep_map_update(MAX_TYPE_DEPTH - 1))  # + the root map = the limit
    with pytest.raises(UpdateRefused, match="shared types nested deeper"):
        check_update(y.deep_map_update(MAX_TYPE_DEPTH))
    with pytest.raises(UpdateRefused):
        check_update(y.deep_map_update(20_000))


def test_shared_types_nested_one_level_per_update_are_refused_at_the_limit():
    shape = TypeDepths()
    refused_at = None
    parent: str | tuple[int, int] = "elements"
    for level in range(MAX_TYPE_DEPTH + 5):
        client = 100 + level  # a new client each time: nesting across clients and updates
        item = y.type_item(y.Y_MAP, parent=parent, parent_sub="a")
        update = y.Update().add(client, 0, [item]).encode()
        try:
            shape.record(check_update(update, shape))
        except UpdateRefused:
            refused_at = level
            break
        parent = (client, 0)
    assert refused_at == MAX_TYPE_DEPTH - 1


def test_nesting_through_origins_is_followed():
    """A type inherits its parent from its origin: a map set after another value of a key
    nested inside."""
    shape = TypeDepths()
    parent: str | tuple[int, int] = "elements"
    client = 1
    for level in range(MAX_TYPE_DEPTH + 5):
        value = y.any_item([y.any_null()], parent=parent, parent_sub="k")
        nested = y.type_item(y.Y_MAP, origin=(client, 0))
        update = y.Update().add(client, 0, [value, nested]).encode()
        try:
            shape.record(check_update(update, shape))
        except UpdateRefused as exc:
            assert "nested deeper" in str(exc)
            assert level == MAX_TYPE_DEPTH - 1
            return
        parent = (client, 1)
        client += 1
    raise AssertionError("never refused")


def test_a_type_in_a_parent_the_board_lacks_is_refused_but_text_may_wait():
    with pytest.raises(UpdateRefused, match="does not hold"):
        check_update(y.Update().add(5, 0, [y.type_item(parent=(9, 3))]).encode())
    check_update(y.Update().add(5, 0, [y.string_item("x", origin=(9, 3))]).encode())


def test_merge_chains_are_refused_and_split_chains_are_counted_across_updates():
    with pytest.raises(UpdateRefused, match="repeated copying"):
        check_update(y.chain_update(16_000))
    values = [y.any_item([y.any_string("aaaaaaaa")], parent="t")] + [
        y.any_item([y.any_string("aaaaaaaa")], origin=(1, i)) for i in range(1999)]
    with pytest.raises(UpdateRefused, match="repeated copying"):
        check_update(y.Update().add(1, 0, values).encode())
    # 1,000 structs chained: allowed alone
    shape = TypeDepths()
    shape.record(check_update(y.Update().add(1, 0, values[:1000]).encode(), shape))
    more = [y.any_item([y.any_string("aaaaaaaa")], origin=(1, i))
            for i in range(999, 1999)]
    with pytest.raises(UpdateRefused, match="repeated copying"):
        check_update(y.Update().add(1, 1000, more).encode(), shape)


def test_structs_whose_origins_form_a_cycle_are_refused():
    with pytest.raises(UpdateRefused, match="cycle"):
        check_update(y.Update().add(1, 0, [y.type_item(origin=(2, 0))])
                     .add(2, 0, [y.type_item(origin=(1, 0))]).encode())
    with pytest.raises(UpdateRefused, match="cycle"):
        check_update(y.Update().add(1, 0, [y.string_item("a", origin=(2, 0))])
                     .add(2, 0, [y.string_item("b", origin=(1, 0))]).encode())


def test_counts_are_bounded():
    many = y.Update()
    for client in range(MAX_CLIENTS + 1):
        many.add(client + 1, 0, [y.string_item("a", parent="t")])
    with pytest.raises(UpdateRefused, match="client ids"):
        check_update(many.encode())
    with pytest.raises(UpdateRefused, match="GC/skip"):
        check_update(y.Update().add(1, 0, [y.gc(1) for _ in range(5000)]).encode())
    lying = y.var_uint(1) + y.var_uint(2**40) + y.var_uint(1) + y.var_uint(0)
    with pytest.raises(UpdateRefused, match="bytes left"):
        check_update(lying)
    huge_string = y.Update().add(1, 0, [y.Struct(y.STRING, y.var_uint(2**30) + b"abc",
                                                  parent="t")]).encode()
    with pytest.raises(UpdateRefused, match="bytes left"):
        check_update(huge_string)
    with pytest.raises(UpdateRefused, match="after the end"):
        check_update(b"\x00\x00\x00")
    with pytest.raises(UpdateRefused, match="middle"):
        check_update(y.Update().add(1, 0, [y.string_item("abc", origin=(300, 2))]).encode()[:5])
    with pytest.raises(UpdateRefused, match="2\\*\\*53"):
        check_update(y.var_uint(1) + y.var_uint(1) + y.var_uint(2**60) + b"\x00")


def test_clock_owners_refuse_squatting_and_allow_reconnects():
    alice, mallory, bob = object(), object(), object()
    presence = {7: alice}
    owners, board = ClockOwners(presence.get), TypeDepths()
    first = check_update(y.Update().add(7, 0, [y.string_item("ab", parent="t")]).encode(),
                         board)
    owners.admit(alice, first, board)
    board.record(first)
    squat = check_update(y.Update().add(7, 2, [y.gc(100)]).encode(), board)
    owners.admit(mallory, squat, board)  # alice has not sent her step 2 yet: a relay
    owners.synced(alice)
    with pytest.raises(CloseConnection, match="clock squatting"):
        owners.admit(mallory, squat, board)
    owners.admit(alice, squat, board)  # her own id
    resent = check_update(y.Update().add(7, 0, [y.string_item("ab", parent="t")]).encode(),
                          board)
    owners.admit(mallory, resent, board)  # clocks the board holds: harmless
    unowned = check_update(y.Update().add(8, 0, [y.gc(5)]).encode(), board)
    owners.admit(mallory, unowned, board)  # nobody's presence uses 8
    future_delete = check_update(y.Update().delete(7, 2, 50).encode(), board)
    with pytest.raises(CloseConnection, match="has written only 2"):
        owners.admit(alice, future_delete, board)
    owners.admit(alice, check_update(y.Update().delete(7, 0, 2).encode(), board), board)
    owners.synced(bob)
    owners.release(alice)  # she left: the presence store forgets her ids too
    del presence[7]
    owners.admit(mallory, squat, board)  # her id may come back on any socket


def test_clock_owners_protect_ids_another_process_says_are_synced_while_its_presence_lasts():
    mallory = object()
    presence = {7: REMOTE}  # the presence of client 7 came from another process
    owners, board = ClockOwners(presence.get), TypeDepths()
    written = check_update(y.Update().add(7, 0, [y.string_item("ab", parent="t")]).encode(),
                           board)
    board.record(written)
    squat = check_update(y.Update().add(7, 2, [y.gc(100)]).encode(), board)
    owners.admit(mallory, squat, board)  # not announced as synced yet: may be a relay
    owners.synced_elsewhere([7, 9])  # 9 has no presence from that process here: ignored
    with pytest.raises(CloseConnection, match="clock squatting"):
        owners.admit(mallory, squat, board)
    owners.admit(mallory, check_update(y.Update().add(9, 0, [y.gc(3)]).encode(), board),
                 board)
    owners.gone([7])  # its presence was removed or expired on the other process
    owners.admit(mallory, squat, board)


def test_outside_comments_tells_updates_confined_to_the_comments_map_from_others():
    """Each update of a board built step by step is checked against the board so far: only
    those whose structs and deletions all lie under the root ``comments`` pass."""
    doc, shape = Doc(), TypeDepths()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    elements, threads = doc.get("elements", type=Map), doc.get("comments", type=Map)
    steps = {
        "element": lambda: elements.__setitem__("e1", Map({"text": Text("x")})),
        "thread": lambda: threads.__setitem__("t1", Map({"messages": Array([
            Map({"text": Text("hi")})])})),
        "reply": lambda: threads["t1"]["messages"].append(Map({"text": Text("yo")})),
        "typing": lambda: threads["t1"]["messages"][0]["text"].insert(2, " there"),
        "element text": lambda: elements["e1"]["text"].insert(1, "y"),
        "delete message": lambda: threads["t1"]["messages"].pop(1),
        "delete element": lambda: elements.pop("e1"),
        "both": lambda: (threads.__setitem__("t2", Map()), elements.__setitem__("e2", 1)),
    }
    verdicts = {}
    for name, step in steps.items():
        before = len(updates)
        with doc.transaction():
            step()
        [update] = updates[before:]
        summary = check_update(update, shape)
        verdicts[name] = outside_comments(update, summary, shape) is None
        shape.record(summary)
    assert verdicts == {"element": False, "thread": True, "reply": True, "typing": True,
                        "element text": False, "delete message": True,
                        "delete element": False, "both": False}


def test_shared_types_in_comments_keep_the_nesting_limit():
    doc = Doc()
    node = doc.get("comments", type=Map)
    for _ in range(MAX_TYPE_DEPTH - 1):
        node["c"] = Map()
        node = node["c"]
    check_update(doc.get_update())
    node["c"] = Map()
    with pytest.raises(UpdateRefused, match="nested deeper"):
        check_update(doc.get_update())
