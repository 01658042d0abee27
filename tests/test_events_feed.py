"""The change feed (backend/events): a real in-process server, stock pycrdt clients, and the
SSE reader of tests/sse_reader.py."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

import pytest
from pycrdt import Array, Map

from backend.events import sse
from tests.export_helpers import base_url, fetch, fetch_json
from tests.sse_reader import SseReader

WINDOW_MS = 100


def feed_url(server, board_id: str) -> str:
    return f"{base_url(server)}/api/boards/{board_id}/events"


async def open_feed(server, board_id: str, **kwargs) -> SseReader:
    reader = await SseReader(feed_url(server, board_id), **kwargs).open()
    assert reader.status == 200
    await reader.wait_for(lambda: reader.events, what="the first event")
    return reader


def changes(reader: SseReader) -> list[dict]:
    return reader.of_type("elements.changed")


@pytest.mark.gen_test(timeout=60)
async def test_feed_reports_draw_move_recolour_delete_exactly_and_in_order(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS)
    client = await yclient(server, "feed-order")
    reader = await open_feed(server, "feed-order")
    assert reader.events[0][1] == "ready"

    async def step(change, count: int) -> dict:
        await client.edit(change)
        await reader.wait_for(lambda: len(changes(reader)) >= count, what=f"event {count}")
        return changes(reader)[count - 1]

    def elements(doc):
        return doc.get("elements", type=Map)

    drawn = await step(lambda doc: elements(doc).__setitem__("r1", Map(
        {"type": "rect", "x": 10, "y": 20, "w": 30, "h": 40, "z": "a0"})), 1)
    assert [e["id"] for e in drawn["created"]] == ["r1"]
    assert drawn["created"][0] | {"x": 10, "y": 20, "w": 30, "h": 40, "type": "rect"} == \
        drawn["created"][0]
    assert drawn["updated"] == [] and drawn["deleted"] == []

    def move(doc):
        elements(doc)["r1"]["x"] = 110
        elements(doc)["r1"]["y"] = 120
    moved = await step(move, 2)
    assert moved["created"] == [] and moved["deleted"] == []
    assert moved["updated"] == [{"id": "r1", "type": "rect", "frameId": "",
                                 "fields": {"x": 110, "y": 120}}]

    recoloured = await step(lambda doc: elements(doc)["r1"].__setitem__("stroke", "#e03131"), 3)
    assert recoloured["updated"] == [{"id": "r1", "type": "rect", "frameId": "",
                                      "fields": {"stroke": "#e03131"}}]

    deleted = await step(lambda doc: elements(doc).pop("r1"), 4)
    assert deleted["deleted"] == ["r1"] and deleted["created"] == deleted["updated"] == []

    seqs = [seq for seq, _type, _data in reader.events]
    assert seqs == sorted(set(seqs))
    assert [data["seq"] for data in changes(reader)] == seqs[1:]
    assert all(data["board"] == "feed-order" for data in changes(reader))
    assert len(changes(reader)) == 4  # nothing else was reported


@pytest.mark.gen_test(timeout=60)
async def test_a_pen_stroke_of_200_points_is_one_or_a_few_events(sb_server, yclient):
    server = await sb_server()  # the default 500 ms window
    client = await yclient(server, "feed-stroke")
    reader = await open_feed(server, "feed-stroke")
    await client.put("s1", Map({"type": "stroke", "points": Array([0.0, 0.0]), "z": "a0"}))
    for i in range(1, 200):  # the pen tool appends each point as it moves
        await client.edit(lambda doc, i=i: doc.get("elements", type=Map)["s1"]["points"]
                          .extend([float(i), float(i % 7)]))
    await reader.wait_for(lambda: any(
        len(u["fields"].get("points", [])) == 400 for e in changes(reader) for u in e["updated"])
        or any(len(c["points"]) == 400 for e in changes(reader) for c in e["created"]),
        what="all 200 points")
    assert 1 <= len(changes(reader)) <= 4, changes(reader)
    assert [c["id"] for e in changes(reader) for c in e["created"]] == ["s1"]


@pytest.mark.gen_test(timeout=60)
async def test_resume_with_last_event_id_loses_nothing_and_duplicates_nothing(
        sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS)
    client = await yclient(server, "feed-resume")
    witness = await open_feed(server, "feed-resume")  # stays connected throughout
    dropped = await open_feed(server, "feed-resume")
    for i in range(3):
        await client.put(f"a{i}", Map({"type": "rect", "w": 5, "h": 5, "z": f"a{i}"}))
        await dropped.wait_for(lambda i=i: len(changes(dropped)) == i + 1)
    dropped.close()  # the connection drops
    last_seen = dropped.events[-1][0]
    for i in range(3, 8):
        await client.put(f"a{i}", Map({"type": "rect", "w": 5, "h": 5, "z": f"a{i}"}))
        await witness.wait_for(lambda i=i: len(changes(witness)) == i + 1)
    resumed = await open_feed(server, "feed-resume", last_event_id=last_seen)
    await resumed.wait_for(lambda: len(changes(resumed)) == 5)
    combined = dropped.events[1:] + resumed.events
    assert [seq for seq, *_ in combined] == [seq for seq, *_ in witness.events[1:]]
    assert [d["created"][0]["id"] for d in changes(dropped) + changes(resumed)] == \
        [f"a{i}" for i in range(8)]


@pytest.mark.gen_test(timeout=60)
async def test_a_reader_behind_the_backlog_gets_a_reset_then_goes_on(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS, events_backlog_events=2)
    client = await yclient(server, "feed-reset")
    witness = await open_feed(server, "feed-reset")
    for i in range(4):
        await client.put(f"b{i}", Map({"type": "rect", "w": 5, "h": 5, "z": f"b{i}"}))
        await witness.wait_for(lambda i=i: len(changes(witness)) == i + 1)
    first = witness.events[1][0]  # no longer kept: only the last two are
    behind = await open_feed(server, "feed-reset", last_event_id=first)
    assert behind.events[0][1] == "reset"
    assert behind.events[0][0] == witness.events[-1][0]  # resumes from the head
    before_b3 = witness.events[-2][0]
    await client.put("b4", Map({"type": "rect", "w": 5, "h": 5, "z": "b4"}))
    await behind.wait_for(lambda: changes(behind))
    assert changes(behind)[0]["created"][0]["id"] == "b4"
    await witness.wait_for(lambda: len(changes(witness)) == 5)
    kept = await open_feed(server, "feed-reset", last_event_id=before_b3)
    await kept.wait_for(lambda: len(changes(kept)) == 2)  # within the backlog: exact
    assert [d["created"][0]["id"] for d in changes(kept)] == ["b3", "b4"]


@pytest.mark.gen_test(timeout=60)
async def test_presence_joins_leaves_and_authors_are_reported_by_name(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS)
    client = await yclient(server, "feed-presence")  # with --auth none, joining creates it
    reader = await open_feed(server, "feed-presence")
    await client.set_presence(client.doc.client_id, 1, {"user": {"name": "Ada", "color": "#fff"}})
    await reader.wait_for(lambda: reader.of_type("presence.joined"))
    await client.put("t1", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    await reader.wait_for(lambda: changes(reader))
    assert changes(reader)[0]["authors"] == ["Ada"]
    for cursor in range(2, 6):  # cursor moves are not joins
        await client.set_presence(client.doc.client_id, cursor,
                                  {"user": {"name": "Ada"}, "cursor": {"x": cursor, "y": 0}})
    client.close()
    await reader.wait_for(lambda: reader.of_type("presence.left"))
    assert reader.of_type("presence.joined") == [
        {"seq": reader.of_type("presence.joined")[0]["seq"], "time": pytest.approx(
            reader.of_type("presence.joined")[0]["time"]), "board": "feed-presence",
         "type": "presence.joined", "name": "Ada"}]
    assert [e["name"] for e in reader.of_type("presence.left")] == ["Ada"]


@pytest.mark.gen_test(timeout=60)
async def test_rotated_links_end_a_boards_stream(sb_server, monkeypatch):
    monkeypatch.setattr(sse, "ACCESS_RECHECK_S", 0.0)
    monkeypatch.setattr(sse, "HEARTBEAT_S", 0.05)  # wake often, so the check comes soon
    server = await sb_server(auth="token", events_window_ms=WINDOW_MS)
    _, links = await fetch_json(f"{base_url(server)}/api/boards", method="POST", body=b"")
    viewer = await open_feed(server, links["id"], token=links["viewToken"])
    rotated = await fetch(f"{base_url(server)}/api/boards/{links['id']}/rotate", method="POST",
                          body=b"", headers={"Authorization": f"Bearer {links['editToken']}"})
    assert rotated.code == 200
    await asyncio.wait_for(viewer.ended.wait(), 20)
    again = await SseReader(feed_url(server, links["id"]), token=links["viewToken"]).open()
    assert again.status == 403
    again.close()


@pytest.mark.gen_test(timeout=60)
async def test_tokens_board_created_and_deleted_and_the_feed_of_all_boards(sb_server):
    server = await sb_server(auth="token", admin_token="adm1n", events_window_ms=WINDOW_MS)
    everything = await SseReader(f"{base_url(server)}/api/events", token="adm1n").open()
    assert everything.status == 200
    refused = await SseReader(f"{base_url(server)}/api/events", token="nope").open()
    assert refused.status == 403
    status, links = await fetch_json(f"{base_url(server)}/api/boards", method="POST", body=b"")
    assert status == 201
    board_id = links["id"]
    await everything.wait_for(lambda: everything.of_type("board.created"))
    assert everything.of_type("board.created")[0]["board"] == board_id
    nobody = await SseReader(feed_url(server, board_id)).open()
    assert nobody.status == 401
    viewer = await open_feed(server, board_id, token=links["viewToken"])
    deleted = await fetch(f"{base_url(server)}/api/boards/{board_id}", method="DELETE",
                          headers={"Authorization": "Bearer adm1n"})
    assert deleted.code == 204
    await viewer.wait_for(lambda: viewer.of_type("board.deleted"))
    await viewer.ended.wait()  # the board's stream ends with its deletion
    await everything.wait_for(lambda: everything.of_type("board.deleted"))
    assert everything.of_type("board.deleted")[0]["board"] == board_id
    for reader in (everything, refused, nobody, viewer):
        reader.close()


@pytest.mark.gen_test(timeout=60)
async def test_an_unloaded_boards_feed_and_shadow_document_are_freed(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS, idle_unload_s=0.05)
    client = await yclient(server, "feed-unload")
    reader = await open_feed(server, "feed-unload")
    feed = weakref.ref(server.registry.rooms["feed-unload"].feed)
    await client.put("u1", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    client.close()  # the board unloads: its last batch is published first
    await reader.wait_for(lambda: "feed-unload" not in server.registry.rooms, what="unload")
    await reader.wait_for(lambda: changes(reader), what="the last batch")
    gc.collect()
    assert feed() is None  # pycrdt's observer held the feed only weakly


@pytest.mark.gen_test(timeout=60)
async def test_an_unfollowed_board_keeps_no_shadow_copy_and_old_ids_reset(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS, events_backlog_s=1)
    client = await yclient(server, "feed-sleep")
    feed = server.registry.rooms["feed-sleep"].feed
    assert not feed.following  # nobody reads this board: no second copy of it
    reader = await open_feed(server, "feed-sleep")
    assert feed.following  # the reader woke it
    await client.put("a1", Map({"type": "rect", "w": 5, "h": 5, "z": "a1"}))
    await reader.wait_for(lambda: changes(reader))
    last_seen = reader.events[-1][0]
    reader.close()
    for i in range(200):  # a second after the reader left, the next change puts it to sleep
        await client.put(f"s{i}", Map({"type": "rect", "w": 5, "h": 5, "z": f"s{i}"}))
        if not feed.following:
            break
        await asyncio.sleep(0.05)
    assert not feed.following
    back = await open_feed(server, "feed-sleep", last_event_id=last_seen)
    assert back.events[0][1] == "reset"  # changes went unreported: it must re-read
    await client.put("b1", Map({"type": "rect", "w": 5, "h": 5, "z": "b1"}))
    await back.wait_for(lambda: changes(back))
    assert [c["id"] for e in changes(back) for c in e["created"]] == ["b1"]


@pytest.mark.gen_test(timeout=60)
async def test_saved_and_restored_versions_are_reported(sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS)
    client = await yclient(server, "feed-versions")
    await client.put("r1", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    reader = await open_feed(server, "feed-versions")
    code, saved = await fetch_json(f"{base_url(server)}/api/boards/feed-versions/versions",
                                   method="POST", body=b'{"label": "before the retro"}')
    assert code == 201, saved
    await reader.wait_for(lambda: reader.of_type("version.saved"), what="version.saved")
    event = reader.of_type("version.saved")[0]
    assert event["board"] == "feed-versions"
    assert event["version"] == {**saved, "authors": event["version"]["authors"]}
    assert event["version"]["kind"] == "named" and event["version"]["label"] == "before the retro"
    code, _ = await fetch_json(
        f"{base_url(server)}/api/boards/feed-versions/versions/{saved['id']}/restore",
        method="POST", body=b"")
    assert code == 200
    await reader.wait_for(lambda: len(reader.of_type("version.saved")) == 2,
                          what="the before-restore version")
    assert reader.of_type("version.saved")[1]["version"]["kind"] == "before-restore"
    reader.close()
    client.close()


@pytest.mark.gen_test(timeout=60)
async def test_a_reader_of_a_board_quiet_for_longer_than_the_backlog_is_not_reset(
        sb_server, yclient):
    server = await sb_server(events_window_ms=WINDOW_MS, events_backlog_s=1)
    client = await yclient(server, "feed-quiet")
    reader = await open_feed(server, "feed-quiet")
    ready_at = time.time()
    while time.time() < ready_at + 1.5:  # the reader's cursor gets older than the backlog
        await asyncio.sleep(0.05)
    await client.put("q1", Map({"type": "rect", "w": 5, "h": 5, "z": "a1"}))
    await reader.wait_for(lambda: changes(reader), what="the change after the quiet time")
    assert [kind for _id, kind, _data in reader.events] == ["ready", "elements.changed"]
    assert [c["id"] for e in changes(reader) for c in e["created"]] == ["q1"]
