"""The change feed and webhooks across two processes on one Redis: a reader on either
process sees each change once, in the same order, and can resume on the other process; a
server webhook gets each event once (one process holds the delivery lease), and when the
holder of the lease is killed (or stopped while deliveries wait for a retry), the next one
delivers what the old one had not."""

from __future__ import annotations

import asyncio
import time

import pytest
from pycrdt import Map

from tests.scaleout.conftest import board_name
from tests.server_process import ServerProcess
from tests.sse_reader import SseReader
from tests.webhook_receiver import WebhookReceiver
from tests.yclient import YClient


async def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def created_ids(events: list[dict]) -> list[str]:
    return [c["id"] for e in events if e.get("type") == "elements.changed"
            for c in e["created"]]


LEASE_S = 3.0
"""The webhook lease in these tests (``--webhook-lease-s``; 10 s by default): a killed leader's
successor takes over after at most this long."""


def webhook_cluster(
        cluster, events_window_ms: int) -> tuple[WebhookReceiver, ServerProcess, ServerProcess]:
    """A started webhook receiver and two processes on one Redis that deliver to it."""
    receiver = WebhookReceiver().start()
    a, b = cluster(2, events_window_ms=events_window_ms, webhook=receiver.url,
                   webhook_secret="k", webhook_allow_host="127.0.0.1", webhook_lease_s=LEASE_S)
    return receiver, a, b


@pytest.mark.gen_test(timeout=120)
async def test_two_processes_on_redis_give_one_event_per_change_and_one_delivery(cluster):
    receiver, a, b = webhook_cluster(cluster, events_window_ms=100)
    board = board_name("events-two")
    writer_a = await YClient(f"{a.ws_url}/{board}").sync()
    writer_b = await YClient(f"{b.ws_url}/{board}").sync()
    readers = [await SseReader(f"{server.base_url}/api/boards/{board}/events").open()
               for server in (a, b)]
    for reader in readers:
        await reader.wait_for(lambda r=reader: r.of_type("ready"))

    def seen(reader: SseReader) -> list[str]:
        return created_ids(reader.of_type("elements.changed"))

    def delivered() -> list[dict]:
        return [e for e in receiver.delivered() if e.get("board") == board]
    expected = []
    for i in range(6):
        writer = writer_a if i % 2 == 0 else writer_b
        await writer.put(f"e{i}", Map({"type": "rect", "w": 5, "h": 5, "z": f"a{i}"}))
        expected.append(f"e{i}")
        for reader in readers:  # one change at a time: the order is then known
            await reader.wait_for(lambda r=reader, n=i + 1: len(seen(r)) >= n,
                                  what=f"change {i}")
    await writer_b.edit(lambda doc: doc.get("elements", type=Map)["e0"].__setitem__("x", 9))
    for reader in readers:
        await reader.wait_for(lambda r=reader: any(
            e["updated"] for e in r.of_type("elements.changed")), what="the move")
    # once more changes could have come in, nothing was reported twice
    await writer_a.put("last", Map({"type": "rect", "w": 5, "h": 5, "z": "z9"}))
    for reader in readers:
        await reader.wait_for(lambda r=reader: "last" in seen(r), what="the last one")
        assert seen(reader) == [*expected, "last"]
        updates = [u for e in reader.of_type("elements.changed") for u in e["updated"]]
        assert updates == [{"id": "e0", "type": "rect", "frameId": "", "fields": {"x": 9}}]
    # both processes numbered the same events alike
    assert [s for s, *_ in readers[0].events[1:]] == [s for s, *_ in readers[1].events[1:]]
    # a reader that moves from a to b resumes exactly
    middle = readers[0].events[3][0]
    moved = await SseReader(f"{b.base_url}/api/boards/{board}/events",
                            last_event_id=middle).open()
    await moved.wait_for(lambda: "last" in seen(moved))
    assert [s for s, *_ in moved.events] == [s for s, *_ in readers[0].events[4:]]
    # the server webhook got every event once, in order, from one process or the other
    await readers[0].wait_for(lambda: "last" in created_ids(delivered()), what="deliveries")
    assert created_ids(delivered()) == [*expected, "last"]
    assert [e["seq"] for e in delivered()] == [data["seq"] for data in
                                                readers[0].of_type("elements.changed")]
    for client in (writer_a, writer_b):
        client.close()
    for reader in [*readers, moved]:
        reader.close()
    receiver.stop()


@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_a_leader_killed_mid_lease_loses_no_webhook_delivery(cluster):
    receiver, a, b = webhook_cluster(cluster, events_window_ms=50)
    board = board_name("events-handover")

    def leading(server) -> bool:
        return "this process is now delivering them" in server.log()
    writer = await YClient(f"{a.ws_url}/{board}").sync()
    await writer.put("before", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))

    def delivered_ids() -> list[str]:
        return created_ids([e for e in receiver.delivered() if e.get("board") == board])
    await wait_until(lambda: "before" in delivered_ids() and (leading(a) or leading(b)),
                     20, "the first delivery, by the holder of the lease")
    leader, survivor = (a, b) if leading(a) else (b, a)
    leader.kill()  # its lease runs on for up to LEASE_S: nobody delivers meanwhile
    writer.close()
    writer = await YClient(f"{survivor.ws_url}/{board}").sync()
    for key in ("gap1", "gap2"):
        await writer.put(key, Map({"type": "rect", "w": 5, "h": 5, "z": key}))
    await wait_until(lambda: "gap2" in delivered_ids(), 60,
                     "the survivor delivering what came during the handover")
    assert leading(survivor)
    first_seen = list(dict.fromkeys(delivered_ids()))
    assert first_seen == ["before", "gap1", "gap2"]  # "before" may come twice: at least once
    seqs = [e["seq"] for e in receiver.delivered() if e.get("board") == board]
    assert sorted(set(seqs)) == list(dict.fromkeys(seqs))  # in order, a repeat only of a run
    writer.close()
    receiver.stop()


@pytest.mark.gen_test(timeout=120)
async def test_a_leader_stopped_while_a_delivery_waits_to_be_retried_hands_it_over(cluster):
    receiver = WebhookReceiver(always_fail=True).start()
    # The first retry comes 30 s after the first attempt: the leader stops before it.
    a, b = cluster(2, events_window_ms=50, webhook=receiver.url, webhook_secret="k",
                   webhook_allow_host="127.0.0.1", webhook_backoff_s=30)
    board = board_name("events-stop-handover")

    def leading(server) -> bool:
        return "this process is now delivering them" in server.log()

    def attempted() -> list[str]:
        return created_ids([r.event for r in receiver.received if r.event.get("board") == board])

    def delivered() -> list[str]:
        return created_ids([e for e in receiver.delivered() if e.get("board") == board])
    await wait_until(lambda: leading(a) or leading(b), 20, "a holder of the lease")
    leader, survivor = (a, b) if leading(a) else (b, a)
    writer = await YClient(f"{survivor.ws_url}/{board}").sync()
    await writer.put("held", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    await wait_until(lambda: "held" in attempted(), 20, "the leader's first attempt (500)")
    receiver.always_fail = False
    assert await asyncio.to_thread(leader.stop) == 0  # SIGTERM: its retry is still waiting
    await wait_until(lambda: "held" in delivered(), 60,
                     "the next holder of the lease delivering what the leader still had")
    assert leading(survivor)
    writer.close()
    receiver.stop()


@pytest.mark.slow
@pytest.mark.gen_test(timeout=120)
async def test_a_board_is_followed_on_its_process_only_while_a_reader_elsewhere_wants_it(
        cluster):
    a, b = cluster(2, events_window_ms=50, events_backlog_s=1)
    board = board_name("events-interest")
    writer = await YClient(f"{a.ws_url}/{board}").sync()
    await writer.put("quiet", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    witness = await YClient(f"{a.ws_url}/{board}").sync()  # a has applied "quiet": it is in
    await witness.wait_for(lambda: "quiet" in witness.elements, what="the first element")
    witness.close()  # the copy a's feed takes when it wakes, never reported as a change

    def following() -> float:
        return a.metric("syncboard_feeds_following")
    assert following() == 0  # loaded on a, followed by nobody: no shadow copy
    deadline = time.monotonic() + 20
    while True:  # b knows the board once a has written its row (404 until then)
        reader = await SseReader(f"{b.base_url}/api/boards/{board}/events").open()
        if reader.status == 200:
            break
        reader.close()
        assert reader.status == 404 and time.monotonic() < deadline, reader.status
        await asyncio.sleep(0.05)
    await reader.wait_for(lambda: reader.of_type("ready"))
    assert following() == 1  # b's ready came after a's feed started following
    await writer.put("seen", Map({"type": "rect", "w": 5, "h": 5, "z": "a1"}))
    await reader.wait_for(lambda: "seen" in created_ids(reader.of_type("elements.changed")),
                          what="a change made on a right after b's ready, read on b")
    assert created_ids(reader.of_type("elements.changed")) == ["seen"]
    reader.close()
    # b stops announcing a second after its reader left; a's hold runs out, and its feed
    # lets the shadow copy go at the next change
    deadline = time.monotonic() + 60
    n = 0
    while following() != 0:
        assert time.monotonic() < deadline, "a kept following a board nobody reads"
        n += 1
        await writer.put(f"later{n}", Map({"type": "rect", "w": 5, "h": 5, "z": f"b{n}"}))
        await asyncio.sleep(0.5)
    writer.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_reader_on_a_board_quiet_for_longer_than_the_backlog_gets_the_next_change(
        cluster):
    a, b = cluster(2, events_window_ms=50, events_backlog_s=1)
    board = board_name("events-quiet")
    writer = await YClient(f"{a.ws_url}/{board}").sync()
    await writer.put("first", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
    readers = []
    for server in (a, b):
        deadline = time.monotonic() + 20
        while True:  # b knows the board once a has written its row (404 until then)
            reader = await SseReader(f"{server.base_url}/api/boards/{board}/events").open()
            if reader.status == 200:
                break
            reader.close()
            assert reader.status == 404 and time.monotonic() < deadline, reader.status
            await asyncio.sleep(0.05)
        await reader.wait_for(lambda r=reader: r.of_type("ready"))
        readers.append(reader)
    ready_at = time.time()
    # both readers stay connected while the board is quiet for longer than the backlog
    # keeps ids: their cursors are older than the retention, yet nothing was lost
    await wait_until(lambda: time.time() > ready_at + 1.5, 10, "the backlog time to pass")
    await writer.put("later", Map({"type": "rect", "w": 5, "h": 5, "z": "a1"}))
    for reader in readers:
        await reader.wait_for(lambda r=reader: "later" in created_ids(
            r.of_type("elements.changed")), what="the change after the quiet time")
        kinds = [kind for _id, kind, _data in reader.events]
        assert kinds[0] == "ready" and "reset" not in kinds, kinds  # ("first" may come too)
        assert created_ids(reader.of_type("elements.changed")).count("later") == 1
        reader.close()
    writer.close()
