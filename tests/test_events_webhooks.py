"""Webhooks (backend/events/webhooks) against a real in-process server and a loopback
receiver (tests/webhook_receiver.py); pure parts (signature, backoff, address policy)
without a server."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import pytest
from pycrdt import Map
from tornado.httpclient import AsyncHTTPClient

from backend.events import hub
from backend.events.webhooks.address_policy import AddressPolicy
from backend.events.webhooks.delivery import DeliveryLimits, HookWorker, Pending, backoff_s
from backend.events.webhooks.dispatcher import _filtered
from backend.events.webhooks.hook_store import Hook
from backend.events.webhooks.signature import HEADER, sign, verify
from tests.export_helpers import base_url, fetch, fetch_json
from tests.services import redis_problem
from tests.webhook_receiver import WebhookReceiver

FAST = {"events_window_ms": 50, "webhook_allow_host": "127.0.0.1", "webhook_backoff_s": 0.05}


async def add_hook(server, board_id: str, url: str, **fields) -> tuple[int, dict]:
    return await fetch_json(f"{base_url(server)}/api/boards/{board_id}/webhooks",
                            method="POST", body=json.dumps({"url": url, **fields}),
                            headers={"Content-Type": "application/json"})


async def draw(client, key: str, element_type: str = "rect") -> None:
    await client.put(key, Map({"type": element_type, "w": 5, "h": 5, "z": key}))


async def wait_until(predicate, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_signature_verifies_and_refuses_a_changed_body_or_an_old_timestamp():
    header = sign("s3cret", 1_700_000_000, b'{"a": 1}')
    assert verify("s3cret", header, b'{"a": 1}', now=1_700_000_010)
    assert not verify("s3cret", header, b'{"a": 2}', now=1_700_000_010)
    assert not verify("other", header, b'{"a": 1}', now=1_700_000_010)
    assert not verify("s3cret", header, b'{"a": 1}', now=1_700_001_000)


def test_backoff_doubles_from_its_base_up_to_a_minute():
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_s(30) == 60
    assert backoff_s(2, base_s=0.05) == 0.1


def test_address_policy_refuses_internal_ranges_unless_allowed():
    policy = AddressPolicy("")
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.5", "172.16.0.1", "169.254.169.254",
                    "::1", "fe80::1", "fc00::1", "0.0.0.0", "::ffff:127.0.0.1", "100.64.0.1"):
        assert policy.address_problem("h", address) is not None, address
    assert policy.address_problem("h", "93.184.216.34") is None
    allowed = AddressPolicy("127.0.0.1, 10.0.0.0/8,hooks.internal")
    assert allowed.address_problem("x", "127.0.0.1") is None
    assert allowed.address_problem("x", "10.9.9.9") is None
    assert allowed.address_problem("hooks.internal", "192.168.1.1") is None
    assert allowed.address_problem("x", "192.168.1.1") is not None
    assert policy.url_problem("ftp://example.com/") is not None
    assert policy.url_problem("http://user:pw@example.com/") is not None


@pytest.mark.gen_test(timeout=60)
async def test_a_full_queue_drops_the_oldest_waiting_event_never_the_one_in_flight():
    receiver = WebhookReceiver(hold_s=30).start()  # holds each request until released
    client = AsyncHTTPClient(force_instance=True)

    async def never_paused(_hook: Hook, _reason: str) -> None:
        raise AssertionError("no delivery fails here")
    worker = HookWorker(Hook("h1", None, receiver.url, "secret"), client,
                        DeliveryLimits(timeout_s=30, retry_max_s=60, queue_events=2), None,
                        never_paused)

    def event(n: int) -> Pending:
        return Pending(n, "elements.changed", json.dumps({"n": n}).encode(), cursor=100 + n)
    worker.offer(event(1))
    await wait_until(lambda: receiver.in_flight == 1, "event 1 in flight")
    for n in (2, 3, 4):  # the queue holds two: event 2 is dropped, 3 and 4 wait
        worker.offer(event(n))
    assert worker.oldest_cursor() == 101  # a successor would resume before event 1
    receiver.release.set()
    await wait_until(lambda: len(receiver.delivered()) >= 3, "three deliveries")
    assert [e["n"] for e in receiver.delivered()] == [1, 3, 4]
    await wait_until(lambda: worker.oldest_cursor() is None, "nothing left waiting")
    await worker.close()
    client.close()
    receiver.stop()


@pytest.mark.skipif(redis_problem() is not None, reason=str(redis_problem()))
@pytest.mark.gen_test(timeout=60)
async def test_a_new_lease_holder_keeps_the_old_resume_point_until_its_replay_begins(sb_server):
    """White-box: the lease tick that takes over stores the resume point before the follower
    has replayed anything; it must still be where the last holder stopped."""
    server = await sb_server(broker="redis://127.0.0.1:6379/0", events_window_ms=50)
    dispatcher = server.events.webhooks
    await wait_until(lambda: dispatcher.leading, "the lease")
    for _ in range(3):  # board.created events in the all-boards feed
        status, _links = await fetch_json(f"{base_url(server)}/api/boards", method="POST",
                                          body=b"")
        assert status == 201
    await wait_until(lambda: dispatcher._passed >= server.events.hub.all.head > 0,
                     "the follower at the feed's head")
    last_holder_stopped_at = server.events.hub.all.head - 2
    await dispatcher._redis.set(dispatcher._cursor_key, last_holder_stopped_at)
    await dispatcher._take_over()
    assert dispatcher._resume_point() == last_holder_stopped_at


@pytest.mark.gen_test(timeout=90)
async def test_deliveries_are_signed_ordered_and_retried_through_500s(sb_server, yclient):
    receiver = WebhookReceiver(fail_first=3).start()
    server = await sb_server(**FAST)
    client = await yclient(server, "hook-order")
    status, hook = await add_hook(server, "hook-order", receiver.url,
                                  events=["elements.changed"])
    assert status == 201 and hook["secret"] and not hook["paused"]
    backlog = server.events.hub.board("hook-order")
    for i in range(5):  # one event per element
        await draw(client, f"k{i}")
        await wait_until(lambda i=i: len(backlog.after(backlog.floor) or []) > i,
                         f"event {i} published")
    await wait_until(lambda: len(receiver.delivered()) == 5, "five deliveries")
    assert [r.status for r in receiver.received[:3]] == [500, 500, 500]
    delivered = receiver.delivered()
    assert [e["created"][0]["id"] for e in delivered] == [f"k{i}" for i in range(5)]
    seqs = [e["seq"] for e in delivered]
    assert seqs == sorted(set(seqs))
    for request in receiver.received:
        assert verify(hook["secret"], request.headers[HEADER], request.body, now=time.time())
        assert request.headers["Syncboard-Event"] == "elements.changed"
    # the three failures were retries of the first event, not other events
    assert {r.event["seq"] for r in receiver.received[:4]} == {seqs[0]}
    log_url = f"{base_url(server)}/api/boards/hook-order/webhooks/{hook['id']}/deliveries"
    deadline = time.monotonic() + 30
    while True:  # the log row is written just after the receiver answered
        status, log = await fetch_json(log_url)
        assert status == 200
        rows = list(reversed(log["deliveries"]))
        if [r["status"] for r in rows] == ["delivered"] * 5 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert [(r["seq"], r["status"], r["attempts"]) for r in rows] == \
        [(seqs[0], "delivered", 4)] + [(s, "delivered", 1) for s in seqs[1:]]
    receiver.stop()


@pytest.mark.gen_test(timeout=60)
async def test_a_change_after_a_quiet_spell_longer_than_the_backlog_is_delivered(
        sb_server, yclient, monkeypatch, caplog):
    # The dispatcher's cursor is its own: a board quiet for longer than --events-backlog-s
    # must not make it "fall behind" (before, the next change was never delivered, and its
    # wait's timeout with nothing new spun the event loop for ever, logging at each turn;
    # test_events_hub pins the backlog rule that ends every reset).
    receiver = WebhookReceiver().start()
    server = await sb_server(**FAST, events_backlog_s=1)
    client = await yclient(server, "hook-quiet")
    status, _hook = await add_hook(server, "hook-quiet", receiver.url,
                                   events=["elements.changed"])
    assert status == 201
    await draw(client, "k0")
    await wait_until(lambda: len(receiver.delivered()) == 1, "the first delivery")
    real_now_ms = hub.now_ms
    monkeypatch.setattr(hub, "now_ms", lambda: real_now_ms() + 5_000)  # 5 s of quiet
    await draw(client, "k1")
    await wait_until(lambda: len(receiver.delivered()) == 2, "the change after the quiet")
    assert [e["created"][0]["id"] for e in receiver.delivered()] == ["k0", "k1"]
    assert "fell behind" not in caplog.text
    receiver.stop()


@pytest.mark.gen_test(timeout=90)
async def test_a_failing_hook_is_paused_says_why_and_resumes(sb_server, yclient):
    receiver = WebhookReceiver(always_fail=True).start()
    server = await sb_server(**FAST, webhook_retry_max_s=0.3)
    client = await yclient(server, "hook-pause")
    _, hook = await add_hook(server, "hook-pause", receiver.url,
                             filter={"elementType": "sticky"})
    await draw(client, "plain")  # filtered out: not a sticky note
    await draw(client, "note1", "sticky")
    url = f"{base_url(server)}/api/boards/hook-pause/webhooks/{hook['id']}"

    async def paused() -> bool:
        return (await fetch_json(url))[1]["paused"]
    deadline = time.monotonic() + 30
    while not await paused():
        assert time.monotonic() < deadline, "the hook was never paused"
        await asyncio.sleep(0.05)
    _, shown = await fetch_json(url)
    assert "gave up" in shown["pausedReason"] and "HTTP 500" in shown["pausedReason"]
    _, log = await fetch_json(url + "/deliveries")
    assert log["deliveries"][0]["status"] == "given_up"
    assert log["deliveries"][0]["attempts"] >= 2
    assert all(r.event["created"][0]["type"] == "sticky" for r in receiver.received)
    receiver.always_fail = False
    resumed = await fetch(url + "/resume", method="POST", body=b"")
    assert resumed.code == 200 and not json.loads(resumed.body)["paused"]
    await draw(client, "note2", "sticky")
    await wait_until(lambda: receiver.delivered(), "a delivery after the resume")
    assert receiver.delivered()[0]["created"][0]["id"] == "note2"
    receiver.stop()


def test_a_filter_keeps_matching_elements_deletions_and_departures():
    event = {"seq": 5, "type": "elements.changed", "board": "b", "deleted": [],
             "deletedElements": [],
             "created": [{"id": "n1", "type": "sticky", "frameId": "F1"},
                         {"id": "r1", "type": "rect", "frameId": "F1"}],
             "updated": [{"id": "n2", "type": "sticky", "frameId": "", "fields": {"x": 1}}]}
    kept = json.loads(_filtered(event, {"elementType": "sticky", "frameId": "F1"}))
    assert [c["id"] for c in kept["created"]] == ["n1"] and kept["updated"] == []
    assert _filtered({**event, "created": event["created"][1:]}, {"elementType": "sticky",
                                                                   "frameId": "F1"}) is None
    gone = {**event, "created": [], "updated": [], "deleted": ["x", "y"],
            "deletedElements": [{"id": "x", "type": "rect", "frameId": "F1"},
                                {"id": "y", "type": "rect", "frameId": "F2"}]}
    narrowed = json.loads(_filtered(gone, {"frameId": "F1"}))
    assert narrowed["deleted"] == ["x"] and [d["id"] for d in narrowed["deletedElements"]] == ["x"]
    assert _filtered(gone, {"elementType": "sticky"}) is None
    left = {**event, "created": [], "updated": [
        {"id": "n3", "type": "sticky", "frameId": "F2", "fromFrameId": "F1", "fields": {}}]}
    assert json.loads(_filtered(left, {"frameId": "F1"}))["updated"][0]["id"] == "n3"
    older = {key: value for key, value in gone.items() if key != "deletedElements"}
    assert json.loads(_filtered(older, {"frameId": "F1"}))["deleted"] == ["x", "y"]


@pytest.mark.gen_test(timeout=90)
async def test_a_frame_filter_hears_of_its_elements_deleted_or_moved_out_only(
        sb_server, yclient):
    receiver = WebhookReceiver().start()
    server = await sb_server(**FAST)
    client = await yclient(server, "hook-frame")
    for key, frame in (("inside", "F1"), ("leaver", "F1"), ("outside", "F2")):
        await client.put(key, Map({"type": "rect", "w": 5, "h": 5, "z": key,
                                   "frameId": frame}))
    witness = await yclient(server, "hook-frame")  # the server holds the three elements
    await witness.wait_for(lambda: len(witness.elements) == 3, what="the three elements")
    await add_hook(server, "hook-frame", receiver.url, filter={"frameId": "F1"})
    await client.edit(lambda doc: doc.get("elements", type=Map).pop("outside"))  # not F1
    await client.edit(lambda doc: doc.get("elements", type=Map).pop("inside"))
    await wait_until(lambda: receiver.delivered(), "the deletion of an element of F1")
    await client.edit(lambda doc: doc.get("elements", type=Map)["leaver"].__setitem__(
        "frameId", "F2"))
    await wait_until(lambda: len(receiver.delivered()) >= 2, "the element leaving F1")
    first, second = receiver.delivered()[:2]
    assert first["deleted"] == ["inside"]
    assert first["deletedElements"] == [{"id": "inside", "type": "rect", "frameId": "F1"}]
    assert second["updated"] == [{"id": "leaver", "type": "rect", "frameId": "F2",
                                  "fromFrameId": "F1", "fields": {"frameId": "F2"}}]
    assert second["deleted"] == []
    receiver.stop()


@pytest.mark.gen_test(timeout=90)
async def test_a_receiver_slower_than_the_timeout_fails_the_attempt(sb_server, yclient):
    receiver = WebhookReceiver(hold_s=5.0).start()
    server = await sb_server(**FAST, webhook_retry_max_s=0.2, webhook_timeout_s=0.2)
    client = await yclient(server, "hook-timeout")
    _, hook = await add_hook(server, "hook-timeout", receiver.url)
    await draw(client, "t1")
    url = f"{base_url(server)}/api/boards/hook-timeout/webhooks/{hook['id']}"
    deadline = time.monotonic() + 30
    while not (await fetch_json(url))[1]["paused"]:
        assert time.monotonic() < deadline, "the hook was never paused"
        await asyncio.sleep(0.05)
    _, log = await fetch_json(url + "/deliveries")
    assert log["deliveries"][0]["status"] == "given_up"
    assert "Timeout" in log["deliveries"][0]["lastError"], log["deliveries"][0]
    receiver.stop()


@pytest.mark.gen_test(timeout=90)
async def test_an_answer_over_the_size_cap_fails_the_delivery(sb_server, yclient):
    receiver = WebhookReceiver(answer_bytes=100_000).start()
    server = await sb_server(**FAST, webhook_retry_max_s=0.2, webhook_max_response_bytes=1024)
    client = await yclient(server, "hook-big-answer")
    _, hook = await add_hook(server, "hook-big-answer", receiver.url)
    await draw(client, "x1")
    url = f"{base_url(server)}/api/boards/hook-big-answer/webhooks/{hook['id']}"
    deadline = time.monotonic() + 30
    while not (await fetch_json(url))[1]["paused"]:
        assert time.monotonic() < deadline, "the hook was never paused"
        await asyncio.sleep(0.05)
    _, log = await fetch_json(url + "/deliveries")
    assert log["deliveries"][0]["status"] == "given_up"
    assert log["deliveries"][0]["responseStatus"] is None  # no answer was accepted
    assert receiver.received  # the receiver did answer, too much
    # the client drops the connection once the body passes the cap
    assert "HTTPStreamClosedError" in log["deliveries"][0]["lastError"]
    receiver.stop()


@pytest.mark.gen_test(timeout=90)
async def test_refused_addresses_at_creation_and_at_delivery(sb_server, yclient):
    receiver = WebhookReceiver().start()
    # no --webhook-allow-host: the loopback receiver is an internal address
    server = await sb_server(events_window_ms=50, webhook=receiver.url, webhook_secret="k",
                             webhook_retry_max_s=0.2, webhook_backoff_s=0.05)
    await yclient(server, "hook-refused")
    for url in (receiver.url, "http://10.0.0.7/hook", "http://169.254.169.254/latest",
                "http://[::1]:9/", "http://localhost:9/"):
        status, body = await add_hook(server, "hook-refused", url)
        assert status == 422 and "refused" in body["detail"], (url, body)
    status, _ = await add_hook(server, "hook-refused", "gopher://example.com/")
    assert status == 422
    _, hooks = await fetch_json(f"{base_url(server)}/api/boards/hook-refused/webhooks")
    assert hooks["webhooks"] == []
    # the server hook (--webhook) is refused when it connects: nothing reaches the receiver
    client = await yclient(server, "hook-refused")
    await draw(client, "r1")
    dispatcher = server.events.webhooks
    await wait_until(lambda: dispatcher.server_hooks[0].paused_reason is not None,
                     "the server hook to give up")
    assert "refused" in dispatcher.server_hooks[0].paused_reason
    assert receiver.received == []
    receiver.stop()


@pytest.mark.gen_test(timeout=120)
async def test_a_receiver_taking_5_s_per_request_does_not_slow_the_boards_sync(
        sb_server, yclient):
    receiver = WebhookReceiver(hold_s=5.0).start()
    server = await sb_server(**FAST)
    writer = await yclient(server, "hook-slow")
    watcher = await yclient(server, "hook-slow")

    async def latencies(prefix: str) -> list[float]:
        out = []
        for i in range(20):
            key = f"{prefix}{i}"
            started = time.perf_counter()
            await draw(writer, key)
            await watcher.wait_for(lambda key=key: key in watcher.snapshot())
            out.append(time.perf_counter() - started)
        return out

    without = await latencies("a")
    status, _ = await add_hook(server, "hook-slow", receiver.url)
    assert status == 201
    await draw(writer, "first")
    await wait_until(lambda: receiver.in_flight == 1, "the receiver to hold a request")
    with_hook = await latencies("b")
    assert receiver.in_flight == 1 and receiver.received == []  # still held the whole time
    print(f"board sync latency without hook: median {statistics.median(without) * 1000:.1f} "
          f"ms, max {max(without) * 1000:.1f} ms; with a 5 s receiver: median "
          f"{statistics.median(with_hook) * 1000:.1f} ms, max {max(with_hook) * 1000:.1f} ms")
    assert max(with_hook) < 2.5  # far below the receiver's 5 s
    receiver.stop()
