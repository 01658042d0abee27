"""GET /metrics: what a real server counts while real clients use it.

Counters are process-wide (prometheus-client's registry), so each test compares values
before and after what it does.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pycrdt import create_update_message
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from backend.protocol import CloseCode


async def scrape(server) -> dict[tuple[str, tuple], float]:
    """Every sample of ``/metrics`` keyed by (name, sorted labels without ``worker``)."""
    response = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{server.port}/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "worker"))
            samples[(sample.name, labels)] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.gen_test(timeout=30)
async def test_live_gauges_follow_connections_and_loaded_boards(sb_server, yclient):
    server = await sb_server()
    before = await scrape(server)
    assert value(before, "syncboard_connections") == 0
    await yclient(server, "metrics-live-a")
    await yclient(server, "metrics-live-a")
    await yclient(server, "metrics-live-b")
    after = await scrape(server)
    assert value(after, "syncboard_connections") == 3
    assert value(after, "syncboard_boards_loaded") == 2
    assert value(after, "syncboard_board_loads_total") == 2
    assert value(after, "syncboard_persistence_degraded") == 0


@pytest.mark.gen_test(timeout=30)
async def test_messages_and_bytes_are_counted_by_type_both_ways(sb_server, yclient):
    server = await sb_server()
    alice = await yclient(server, "metrics-traffic")
    bob = await yclient(server, "metrics-traffic")
    before = await scrape(server)
    update = await alice.put("e1", {"x": 1})
    await bob.wait_for(lambda: bob.snapshot() == {"e1": {"x": 1}})
    await alice.wait_for(lambda: len(alice.frames) >= 3)  # the echo
    after = await scrape(server)
    frame_bytes = len(create_update_message(update))

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("syncboard_messages_received_total", type="sync_update") == 1
    assert delta("syncboard_received_bytes_total", type="sync_update") == frame_bytes
    assert delta("syncboard_messages_sent_total", type="sync_update") == 2  # both, echo too
    assert delta("syncboard_sent_bytes_total", type="sync_update") == 2 * frame_bytes
    assert delta("syncboard_update_apply_seconds_count") == 1


@pytest.mark.gen_test(timeout=30)
async def test_commits_and_compactions_are_timed_and_counted(sb_server, yclient):
    server = await sb_server(flush_delay_ms=5, compact_after_updates=3)
    before = await scrape(server)
    alice = await yclient(server, "metrics-commit")
    for i in range(6):
        await alice.put(f"e{i}", i)
        await asyncio.sleep(0.03)  # separate group commits
    await server.writer.flush()
    deadline = asyncio.get_running_loop().time() + 5
    while server.writer.compactions == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    after = await scrape(server)
    assert value(after, "syncboard_commit_seconds_count") - \
        value(before, "syncboard_commit_seconds_count") >= 2
    assert value(after, "syncboard_compactions_total", outcome="merged") - \
        value(before, "syncboard_compactions_total", outcome="merged") >= 1
    assert value(after, "syncboard_persistence_queue_updates") == 0


@pytest.mark.gen_test(timeout=30)
async def test_refusals_are_counted_by_close_code_and_http_status(sb_server, yclient):
    server = await sb_server()
    before = await scrape(server)
    client = await yclient(server, "metrics-refusal")
    await client.send(b"\x00\x05garbage")  # unknown sync sub-type: a malformed known type
    assert await client.wait_closed() == CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA
    with pytest.raises(HTTPClientError) as refused:
        await AsyncHTTPClient().fetch(f"http://127.0.0.1:{server.port}/ws/board",
                                      headers={"Connection": "Upgrade", "Upgrade": "websocket",
                                               "Origin": "http://elsewhere.example"})
    assert refused.value.code == 403
    after = await scrape(server)
    name = CloseCode.WS_1007_INVALID_FRAME_PAYLOAD_DATA.name
    assert value(after, "syncboard_refusals_total", code=name) - \
        value(before, "syncboard_refusals_total", code=name) == 1
    assert value(after, "syncboard_refusals_total", code="HTTP_403") - \
        value(before, "syncboard_refusals_total", code="HTTP_403") == 1
