"""Version history in the store (``backend/store/history.py``) and when versions are made
(``backend/versioning.py``): exact rebuilds across checkpoints, thinning by the retention
policy on an injected clock, automatic versions per interval and at unload."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from pycrdt import Array, Doc, Map, Text
from sqlalchemy import func, select

from backend.board_model import read_update
from backend.document import BoardDocument
from backend.restore import ROOT_MAPS, build_restore_update, live_keys
from backend.store import UpdateWriter, VersionRequest, open_store
from backend.store.history import Retention, thinning_plan
from backend.store.schema import versions
from backend.version_rows import HOOKS_MARK, rebuild_for_clients, rebuild_state
from backend.xml_hooks import XmlHooks
from tests import yjs_updates as y
from tests.yclient import state_vector

HOUR = 3600.0
DAY = 86400.0
POLICY = Retention(keep_all_s=DAY, keep_hourly_s=30 * DAY, keep_daily_s=0)
HOOK_CLIENT = 7


def _edit(document: BoardDocument, step: int) -> None:
    """One step of drawing: a stroke, a note, a move, a recolour, a deletion, typing."""
    doc = document.doc
    elements = doc.get("elements", type=Map)
    before = doc.get_state()
    with doc.transaction():
        elements[f"s{step}"] = Map({"type": "stroke", "x": float(step), "y": 0.0,
                                    "z": f"a{step:04d}",
                                    "points": Array([float(i) for i in range(40)])})
        if step % 4 == 0:
            elements[f"n{step}"] = Map({"type": "sticky", "text": Text(f"note {step}"),
                                        "z": f"b{step:04d}"})
        if step > 2:
            del elements[f"s{step - 2}"]
        if f"n{step - 4}" in elements:
            elements[f"n{step - 4}"]["x"] = float(step)
            elements[f"n{step - 4}"]["text"] += "!"
        if step % 7 == 0:
            doc.get("meta", type=Map)["background"] = f"#{step % 10}0{step % 10}0{step % 10}0"
    document.apply_update(doc.get_update(before))  # what the room does: the cache is reset


def _export(state: bytes) -> dict:
    return read_update(state).to_json()


@pytest.mark.gen_test(timeout=60)
async def test_every_version_rebuilds_exactly_across_checkpoints_and_thinning(tmp_path):
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/h.db")
    await store.create_board("b")
    document = BoardDocument()
    expected: dict[int, dict] = {}
    copies = 0  # what a whole copy per version would cost
    steps = 57
    start = 1_000_000.0
    for step in range(steps):
        _edit(document, step)
        kind = "named" if step % 25 == 0 else "auto"
        info = await store.record_version("b", document, kind, f"step {step}", ["Ann"],
                                          now=start + step * 600)
        expected[info.id] = _export(document.full_update())
        copies += len(document.full_update())
    for version_id, want in expected.items():
        assert _export(rebuild_state(await store.load_version("b", version_id))) == want
    # Deltas: far less than a whole copy per version; a checkpoint now and then.
    assert await store.history_bytes("b") < copies / 2  # a small board: deltas are a third
    async with store.engine.connect() as conn:
        checkpoints = (await conn.execute(select(func.count()).where(
            versions.c.checkpoint == 1))).scalar_one()
    assert 1 < checkpoints < steps / 4
    now = start + steps * 600 + 2 * DAY  # every version is past the keep-all window
    dropped = await store.thin_history("b", now, POLICY)
    left = await store.list_versions("b", 1000)
    kept = {v.id for v in left}
    assert dropped == steps - len(left) > 0
    assert {i for i in expected if i - min(expected) in range(0, steps, 25)} <= kept  # named
    hours = {}
    for v in left:
        if v.kind == "auto":
            hours.setdefault(int(v.created_at // HOUR), []).append(v.id)
    assert all(len(ids) == 1 for ids in hours.values())
    for v in left:
        assert _export(rebuild_state(await store.load_version("b", v.id))) == expected[v.id]
    assert sum(len(v.authors) for v in left) == len(left)  # folded authors stay distinct
    await store.close()


def test_thinning_plan_keeps_24_hours_then_hourly_then_daily_and_never_named_or_the_head():
    now = 100 * DAY
    rows = []
    vid = 0

    def add(age_s: float, kind: str = "auto") -> int:
        nonlocal vid
        vid += 1
        rows.append((vid, now - age_s, kind))
        return vid

    old_daily = [add(40 * DAY + h * HOUR) for h in (5, 3, 1)]  # one day, three versions
    named = add(35 * DAY, "named")
    hourly = [add(2 * DAY + m * 60) for m in (50, 40, 30)]  # within one hour
    before_restore = add(3 * DAY, "before-restore")
    recent = [add(h * HOUR) for h in (20, 10, 1)]
    head = add(0)
    dropped = set(thinning_plan(rows, now, POLICY))
    kept = {r[0] for r in rows} - dropped
    assert set(recent) | {head, named, before_restore} <= kept
    assert len(kept & set(old_daily)) == 1 and old_daily[-1] in kept  # the newest that day
    assert len(kept & set(hourly)) == 1 and hourly[-1] in kept
    # keep_daily_s bounds the daily band: older automatic versions go, named ones stay.
    bounded = set(thinning_plan(rows, now, Retention(DAY, 30 * DAY, 39 * DAY)))
    assert set(old_daily) <= bounded and named not in bounded and head not in bounded
    assert thinning_plan([(1, 0.0, "auto")], now, POLICY) == []  # a lone head stays


@pytest.mark.gen_test(timeout=60)
async def test_the_writer_records_versions_after_their_updates_and_thins_on_its_clock(tmp_path):
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/w.db")
    await store.create_board("b")
    document = BoardDocument()
    start = 1_000_000.0
    for step in range(30):  # 30 versions an hour apart, all more than 30 days old below
        _edit(document, step)
        await store.record_version("b", document, "auto", now=start + step * HOUR)
    clock = [start + 60 * DAY]
    writer = UpdateWriter(store, flush_delay_ms=5, retry_max_s=0.1,
                          compact_after_updates=10_000, compact_after_bytes=1 << 30,
                          retention=POLICY, clock=lambda: clock[0])
    writer.start()
    try:
        _edit(document, 30)
        update = document.full_update()
        writer.append("b", update)
        info = await writer.record_version(VersionRequest("b", document, "named", "mine",
                                                          ("Bo",)))
        assert info is not None and info.kind == "named" and info.authors == ["Bo"]
        assert (await store.load_updates("b"))[-1] == update  # committed before it

        async def versions() -> int:
            return len(await store.list_versions("b", 1000))

        while await versions() > 3:  # 30 hourly versions over two days -> one per day
            await asyncio.sleep(0.01)
        left = await store.list_versions("b", 1000)
        assert [v.kind for v in left] == ["named", "auto", "auto"]
        assert _export(rebuild_state(await store.load_version("b", info.id))) == \
            _export(document.full_update())
    finally:
        await writer.close()
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_an_edited_board_gets_one_automatic_version_when_it_unloads(sb_server, yclient):
    server = await sb_server(history_interval_s=3600, idle_unload_s=0)
    client = await yclient(server, "unload_version")
    await client.set_presence(client.doc.client_id, 1, {"user": {"name": "Uma"}})
    for i in range(5):
        await client.put(f"e{i}", Map({"type": "rect", "z": f"a{i}"}))
    await client.wait_for(lambda: "unload_version" in server.registry.rooms and state_vector(
        server.registry.rooms["unload_version"].document.doc) == state_vector(client.doc))
    assert await server.store.list_versions("unload_version", 10) == []  # interval not over
    client.close()
    await client.wait_for(lambda: "unload_version" not in server.registry.rooms,
                          what="the idle unload")
    versions = await server.store.list_versions("unload_version", 10)
    assert [(v.kind, v.elements, v.authors) for v in versions] == [("auto", 5, ["Uma"])]
    # Loaded again and left without an edit: no new version.
    again = await yclient(server, "unload_version")
    again.close()
    await again.wait_for(lambda: "unload_version" not in server.registry.rooms)
    assert len(await server.store.list_versions("unload_version", 10)) == 1


@pytest.mark.gen_test(timeout=60)
async def test_automatic_versions_come_at_most_once_per_interval_while_editing(sb_server,
                                                                              yclient):
    interval_s = 0.2
    server = await sb_server(history_interval_s=interval_s)
    client = await yclient(server, "interval")
    n = 0

    async def count() -> int:
        return len(await server.store.list_versions("interval", 100))

    while await count() < 3:
        await client.put(f"e{n}", Map({"type": "rect", "z": f"a{n:05d}"}))
        n += 1
        await asyncio.sleep(0.01)  # pacing only
    versions = await server.store.list_versions("interval", 100)
    times = sorted(v.created_at for v in versions)
    assert all(b - a >= interval_s for a, b in itertools.pairwise(times))
    assert all(v.kind == "auto" for v in versions)
    await client.wait_for(lambda: state_vector(server.registry.rooms["interval"].document.doc)
                          == state_vector(client.doc), what="the server to have every edit")
    assert len(_export(await server.registry.snapshot("interval"))["elements"]) == n


def test_restore_update_reads_only_what_changed_and_keeps_value_types():
    """``build_restore_update`` on its own: a root added since the version goes, a deleted
    element comes back with its shared types and its values' types, an untouched board gives
    an empty update."""
    version = Doc()
    with version.transaction():
        version.get("meta", type=Map)["title"] = "then"
        version.get("elements", type=Map)["s1"] = Map({
            "type": "stroke", "x": 1.0, "label": Text("a"),
            "points": Array([0.5, 2.0, 7, True]), "tags": Array(["x", Text("y")])})
    live = Doc()
    live.apply_update(version.get_update())
    vector = live.get_state()
    with live.transaction():
        del live.get("elements", type=Map)["s1"]
        live.get("elements", type=Map)["s2"] = Map({"type": "rect", "x": 2.0})
        live.get("comments", type=Map)["c1"] = Map({"text": "later"})
    update, changed = build_restore_update([version.get_update()], live.get_update(vector))
    assert changed == 2
    live.apply_update(update)
    assert json.loads(str(live.get("comments", type=Map))) == {}
    assert str(live.get("meta", type=Map)) == str(version.get("meta", type=Map))
    restored = live.get("elements", type=Map)
    assert list(restored.keys()) == ["s1"]
    element = restored["s1"]
    assert isinstance(element["label"], Text) and str(element["label"]) == "a"
    assert [type(v) for v in element["points"]] == [float, float, float, bool]
    assert list(element["points"]) == [0.5, 2.0, 7.0, True]
    assert [type(v) for v in element["tags"]] == [str, Text]
    again, changed = build_restore_update([version.get_update()], b"\x00\x00")
    assert changed == 0 and again == b"\x00\x00"


def test_restore_from_the_change_events_gives_what_comparing_with_the_version_gives():
    """With the live board's keys (``live_keys``), a restore writes the version's plain values
    back from the change events and copies the deleted elements before the change since is
    applied; it gives what comparing with a second copy of the version gives, value types,
    count and partial restores included (a value set and set back is not a change)."""
    version = Doc()
    with version.transaction():
        meta = version.get("meta", type=Map)
        meta["title"], meta["grid"] = "then", True
        elements = version.get("elements", type=Map)
        for i in range(6):
            elements[f"r{i}"] = Map({"type": "rect", "x": float(i), "fill": "#ffffff",
                                     "z": f"a{i}"})
        elements["pen"] = Map({"type": "stroke", "x": 1.0, "points": Array([0.5, 2.0, 7.0])})
        elements["note"] = Map({"type": "sticky", "text": Text("keep"), "z": "b0"})
        elements["gone"] = Map({"type": "stroke", "label": Text("a"), "style": {"w": 2},
                                "points": Array([1.0, True]), "tags": Array(["x", Text("y")])})
        version.get("comments", type=Map)["c1"] = Map({"text": "hi", "resolved": False})
    live = Doc()
    live.apply_update(version.get_update())
    vector = live.get_state()
    with live.transaction():
        elements = live.get("elements", type=Map)
        elements["r0"]["x"] = 500.0
        elements["r1"]["fill"] = "#ff0000"
        elements["r2"]["dash"] = "dashed"
        del elements["r3"]["fill"]
        elements["r4"]["x"] = 9.0
        elements["r4"]["x"] = 4.0  # and back: not a change
        elements["r5"] = Map({"type": "rect", "x": 5.0, "fill": "#000000", "z": "a5"})
        elements["note"]["text"] += " (edited)"
        elements["pen"]["points"].extend([9.0])
        del elements["gone"]
        elements["later"] = Map({"type": "rect", "x": 0.0, "z": "c0"})
        meta = live.get("meta", type=Map)
        meta["title"], meta["theme"] = "now", "dark"
        del meta["grid"]
        comments = live.get("comments", type=Map)
        del comments["c1"]
        comments["c2"] = Map({"text": "later"})
    since = live.get_update(vector)

    def restored(update: bytes) -> Doc:
        doc = Doc()
        for part in (version.get_update(), since, update):
            doc.apply_update(part)
        return doc

    def plain(doc: Doc, name: str) -> dict:
        return json.loads(str(doc.get(name, type=Map)))

    for keys in (None, live_keys(live)):
        update, changed = build_restore_update([version.get_update()], since, None, keys)
        assert changed == 9  # r0-r3, r5, note, pen, gone, later
        doc = restored(update)
        assert all(plain(doc, name) == plain(version, name) for name in ROOT_MAPS)
        gone = doc.get("elements", type=Map)["gone"]
        assert isinstance(gone["label"], Text) and gone["style"] == {"w": 2.0}
        assert [type(v) for v in gone["points"]] == [float, bool]
        assert [type(v) for v in gone["tags"]] == [str, Text]
        update, changed = build_restore_update([version.get_update()], since,
                                               ["gone", "r0", "r4", "absent"], keys)
        assert changed == 2
        doc = restored(update)
        now = plain(doc, "elements")
        assert now["gone"] == plain(version, "elements")["gone"] and now["r0"]["x"] == 0.0
        assert now["r1"]["fill"] == "#ff0000" and "later" in now
        assert plain(doc, "meta")["title"] == "now"


@pytest.mark.gen_test(timeout=60)
async def test_versions_of_a_board_holding_xml_hooks_give_them_back_after_deltas_and_thinning(
        tmp_path):
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/h.db")
    await store.create_board("b")
    await store.create_board("plain")
    document, plain = BoardDocument(), BoardDocument()
    expected: dict[int, dict] = {}
    start = 1_000_000.0
    for step in range(12):  # a hook in a checkpoint, then one in each delta
        hook = y.Update().add(HOOK_CLIENT, 2 * step, [
            y.type_item(y.Y_XML_HOOK, f"hook{step}", parent="elements", parent_sub=f"h{step}"),
            y.any_item([y.any_string("v")], parent=(HOOK_CLIENT, 2 * step), parent_sub="k")])
        document.apply_update(hook.encode())
        _edit(plain, step)
        info = await store.record_version("b", document, "auto", "", [], now=start + step * 600)
        expected[info.id] = dict(document.hooks.names)
        await store.record_version("plain", plain, "auto", "", [], now=start + step * 600)
    await store.thin_history("b", start + 12 * 600 + 2 * DAY, POLICY)
    left = await store.list_versions("b", 1000)
    assert 0 < len(left) < len(expected)
    for version in left:
        rows = await store.load_version("b", version.id)
        assert all(row[:1] == HOOKS_MARK for row in rows)
        as_sent = rebuild_for_clients(rows)
        assert XmlHooks().as_maps(as_sent)[1] == expected[version.id]
        readable = rebuild_state(rows)  # the server's own readers get maps pycrdt reads
        assert XmlHooks().as_maps(readable)[1] == {}
        doc = Doc()
        doc.apply_update(readable)
        assert {key for key, value in doc.get("elements", type=Map).items()
                if isinstance(value, Map)} == {f"h{i}" for i in range(len(expected[version.id]))}
    # a board without hooks: rows as before the mark (plain zlib), read as they are
    for version in await store.list_versions("plain", 1000):
        rows = await store.load_version("plain", version.id)
        assert all(row[:1] != HOOKS_MARK for row in rows)
        assert rebuild_for_clients(rows) == rebuild_state(rows)
    await store.close()
